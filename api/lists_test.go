package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

// badRequest is a request the API must refuse.
type badRequest struct {
	name       string
	ctype      string // "" means application/json
	body       string
	status     int      // 0 means 400
	fields     []string // field names in the problem's errors
	detailHas  string   // a substring of the problem's detail
	skipFields bool     // do not compare fields (detail-only errors)
}

// checkBad sends each request to path as a coordinator and checks the problem.
func checkBad(t *testing.T, h *harness, path string, cases []badRequest) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			ct := c.ctype
			if ct == "" {
				ct = "application/json"
			}
			status := c.status
			if status == 0 {
				status = http.StatusBadRequest
			}
			p := problemOf(t, h.do("POST", path, coordToken, ct, c.body), status)
			if diff := cmp.Diff(c.fields, fieldsOf(p)); !c.skipFields && diff != "" {
				t.Errorf("fields (-want +got):\n%s\nproblem %+v", diff, p)
			}
			if !strings.Contains(p.Detail, c.detailHas) {
				t.Errorf("detail %q lacks %q", p.Detail, c.detailHas)
			}
			for _, e := range p.Errors {
				if e.Message == "" {
					t.Errorf("field %s has no message", e.Field)
				}
			}
		})
	}
}

func TestCreateListValidation(t *testing.T) {
	h := newHarness(t)
	checkBad(t, h, "/v1/lists", []badRequest{
		{name: "name missing", body: `{"kind":"press"}`, fields: []string{"name"}},
		{name: "name blank", body: `{"name":"  ","kind":"press"}`, fields: []string{"name"}},
		{name: "name too long", body: `{"name":"` + strings.Repeat("ñ", 201) + `","kind":"press"}`, fields: []string{"name"}, detailHas: "200"},
		{name: "kind missing", body: `{"name":"Prensa"}`, fields: []string{"kind"}},
		{name: "kind unknown", body: `{"name":"Prensa","kind":"vip"}`, fields: []string{"kind"}},
		{name: "both", body: `{}`, fields: []string{"name", "kind"}},
		{name: "wrong type", body: `{"name":5,"kind":"press"}`, fields: []string{"name"}, detailHas: "must be a string, not a number"},
		{name: "unknown field", body: `{"name":"Prensa","kind":"press","colour":"red"}`, fields: []string{"colour"}, detailHas: `"colour"`},
		{name: "malformed", body: "{\n  \"name\": \"Prensa\",\n}", detailHas: "line 3, column 1"},
		{name: "truncated", body: `{"name":"Prensa","kind":"pr`, detailHas: "ends too early"},
		{name: "trailing data", body: `{"name":"Prensa","kind":"press"} {"name":"B"}`, detailHas: "after the JSON value at line 1, column 34"},
		{name: "empty body", body: ``, detailHas: "empty"},
		{name: "array", body: `[]`, detailHas: "must be an object"},
		{name: "not UTF-8", body: "{\"name\":\"Jos\xe9\",\"kind\":\"press\"}", detailHas: "UTF-8"},
		{name: "not JSON", ctype: "application/x-www-form-urlencoded", body: `name=x`, status: http.StatusUnsupportedMediaType, detailHas: "application/json"},
	})
	if h.store.writes != 0 {
		t.Errorf("%d writes after refused requests", h.store.writes)
	}
}

func TestLists(t *testing.T) {
	h := newHarness(t)
	w := h.do("GET", "/v1/lists", viewerToken, "", "")
	if got := strings.TrimSpace(w.Body.String()); got != `{"items":[],"next_cursor":""}` {
		t.Errorf("empty lists = %s", got)
	}
	var created dispatcher.List
	h.mustJSON("POST", "/v1/lists", `{"name":" Prensa MX ","kind":"press","description":"Medios nacionales"}`, http.StatusCreated, &created)
	want := dispatcher.List{ID: created.ID, Name: "Prensa MX", Kind: dispatcher.ListPress, Description: "Medios nacionales", CreatedAt: t0}
	if diff := cmp.Diff(want, created); diff != "" {
		t.Errorf("created (-want +got):\n%s", diff)
	}
	h.newList("Suscriptores")

	var page Page[dispatcher.List]
	w = h.do("GET", "/v1/lists", viewerToken, "", "")
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	if len(page.Items) != 2 || page.Items[0].Name != "Suscriptores" {
		t.Errorf("lists = %+v, want 2, newest first", page.Items)
	}

	w = h.do("GET", "/v1/lists/"+created.ID, viewerToken, "", "")
	if w.Code != 200 || !strings.Contains(w.Body.String(), `"name":"Prensa MX"`) {
		t.Errorf("GET list = %d %s", w.Code, w.Body)
	}
	problemOf(t, h.do("GET", "/v1/lists/nope", viewerToken, "", ""), http.StatusNotFound)
}
