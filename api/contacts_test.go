package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pregon/pregon/dispatcher"
)

// upload posts contacts to a list and decodes a 200 import result.
func (h *harness) upload(listID, ctype, body string) ImportResult {
	h.t.Helper()
	w := h.do("POST", "/v1/lists/"+listID+"/contacts", coordToken, ctype, body)
	if w.Code != http.StatusOK {
		h.t.Fatalf("upload: status %d: %s", w.Code, w.Body)
	}
	var res ImportResult
	if err := json.Unmarshal(w.Body.Bytes(), &res); err != nil {
		h.t.Fatal(err)
	}
	return res
}

func (h *harness) members(listID string) map[string]dispatcher.Contact {
	h.store.mu.Lock()
	defer h.store.mu.Unlock()
	out := map[string]dispatcher.Contact{}
	for k, v := range h.store.members[listID] {
		out[k] = v
	}
	return out
}

func TestImportCSV(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	csv := "email,name,outlet,language,tags\r\n" + // line 1
		"ana@example.org,Ana Pérez,La Jornada,es,minería;agua\r\n" + // 2
		"not-an-address,Nadie,,,\r\n" + // 3: bad
		"Beto@Example.ORG,Beto,\"Radio \"\"Sur\"\"\",en,\r\n" + // 4
		"ANA@example.org,Ana otra vez,,,\r\n" + // 5: repeats line 2
		",Sin correo,,,\r\n" + // 6: bad
		",,,,\r\n" + // 7: blank, ignored
		"carla@example.org,Carla,Canal 6,pt-BR,agua | tierra\r\n" + // 8
		"dora@example,Dora,,,\r\n" // 9: bad
	got := h.upload(id, "text/csv; charset=utf-8", csv)
	want := ImportResult{Added: 3, Updated: 0, Skipped: 1, Errors: []RowError{
		{Row: 3, Email: "not-an-address", Message: "invalid email"},
		{Row: 6, Email: "", Message: "invalid email"},
		{Row: 9, Email: "dora@example", Message: `invalid email: the domain "example" is not a full domain name`},
	}}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), noNotes); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	wantMembers := map[string]dispatcher.Contact{
		"ana@example.org":   {Email: "ana@example.org", Name: "Ana Pérez", Outlet: "La Jornada", Language: "es", Tags: []string{"minería", "agua"}},
		"beto@example.org":  {Email: "beto@example.org", Name: "Beto", Outlet: `Radio "Sur"`, Language: "en"},
		"carla@example.org": {Email: "carla@example.org", Name: "Carla", Outlet: "Canal 6", Language: "pt-BR", Tags: []string{"agua", "tierra"}},
	}
	if diff := cmp.Diff(wantMembers, h.members(id)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
	if h.store.upsertCalls != 1 {
		t.Errorf("%d UpsertContacts calls, want 1", h.store.upsertCalls)
	}

	// The same file again updates everyone and adds no one.
	got = h.upload(id, "text/csv", csv)
	if got.Added != 0 || got.Updated != 3 || got.Skipped != 1 || len(got.Errors) != 3 {
		t.Errorf("second import = %+v", got)
	}
}

func TestImportCSVShapes(t *testing.T) {
	for _, c := range []struct {
		name, csv string
		want      ImportResult
		members   []dispatcher.Contact
	}{
		{
			name:    "BOM, header in another order and case, unknown column",
			csv:     "\uFEFFName,Notas,EMAIL\nAna,llamar,ana@example.org\n",
			want:    ImportResult{Added: 1, Errors: []RowError{}},
			members: []dispatcher.Contact{{Email: "ana@example.org", Name: "Ana"}},
		},
		{
			name:    "semicolons, as spreadsheets in Spanish save",
			csv:     "email;name;tags\nana@example.org;Ana;\"a;b\"\nmal;Mal;\n",
			want:    ImportResult{Added: 1, Errors: []RowError{{Row: 3, Email: "mal", Message: "invalid email"}}},
			members: []dispatcher.Contact{{Email: "ana@example.org", Name: "Ana", Tags: []string{"a", "b"}}},
		},
		{
			name:    "line breaks in a name",
			csv:     "email,name\nana@example.org,\"Ana\r\nPérez\"\n",
			want:    ImportResult{Added: 1, Errors: []RowError{}},
			members: []dispatcher.Contact{{Email: "ana@example.org", Name: "Ana Pérez"}},
		},
		{
			name: "bare quote and bad language are row errors",
			csv:  "email,name,language\nana@example.org,Ana \"la\" P,es\nbeto@example.org,Beto,español\ncarla@example.org,Carla,es\n",
			want: ImportResult{Added: 1, Errors: []RowError{
				{Row: 2, Email: "ana@example.org", Message: `malformed CSV line: bare " in non-quoted-field`},
				{Row: 3, Email: "beto@example.org", Message: "invalid language (use a code like es, en or pt-BR)"},
			}},
			members: []dispatcher.Contact{{Email: "carla@example.org", Name: "Carla", Language: "es"}},
		},
		{
			name:    "a tab in a name becomes a space",
			csv:     "email,name\nana@example.org,\"Ana\tPérez\"\n",
			want:    ImportResult{Added: 1, Errors: []RowError{}},
			members: []dispatcher.Contact{{Email: "ana@example.org", Name: "Ana Pérez"}},
		},
		{
			name: "only a header",
			csv:  "email,name\n",
			want: ImportResult{Errors: []RowError{}},
		},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			id := h.newList("Prensa")
			got := h.upload(id, "text/csv", c.csv)
			if diff := cmp.Diff(c.want, got, cmpopts.EquateEmpty(), noNotes); diff != "" {
				t.Errorf("result (-want +got):\n%s", diff)
			}
			want := map[string]dispatcher.Contact{}
			for _, m := range c.members {
				want[m.Email] = m
			}
			if diff := cmp.Diff(want, h.members(id)); diff != "" {
				t.Errorf("members (-want +got):\n%s", diff)
			}
		})
	}
}

func TestImportRefused(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	checkBad(t, h, "/v1/lists/"+id+"/contacts", []badRequest{
		{name: "csv without email column", ctype: "text/csv", body: "name,outlet\nAna,Radio\n", detailHas: "no email column"},
		{name: "csv empty", ctype: "text/csv", body: "", detailHas: "empty"},
		{name: "csv not UTF-8", ctype: "text/csv", body: "email,name\njose@example.org,Jos\xe9\n", detailHas: "UTF-8"},
		{name: "csv repeated column", ctype: "text/csv", body: "email,Email\na@example.org,b@example.org\n", detailHas: "twice"},
		{name: "csv unclosed quote", ctype: "text/csv", body: "email,name\na@example.org,\"Ana\nb@example.org,B\n", detailHas: "Line 2"},
		{name: "json object, not array", body: `{"email":"ana@example.org"}`, detailHas: "must be an array"},
		{name: "json wrong type", body: `[{"email":"ana@example.org","tags":"a;b"}]`, fields: []string{"tags"}},
		{name: "json unknown field", body: `[{"email":"ana@example.org","phone":"1"}]`, fields: []string{"phone"}},
		{name: "json truncated", body: `[{"email":"ana@example.org"},`, detailHas: "ends too early"},
		{name: "json empty", body: ``, detailHas: "empty"},
		{name: "other media type", ctype: "application/vnd.ms-excel", body: "x", status: http.StatusUnsupportedMediaType},
	})
	problemOf(t, h.do("POST", "/v1/lists/nope/contacts", coordToken, "text/csv", "email\na@example.org\n"), http.StatusNotFound)
	if h.store.upsertCalls != 0 {
		t.Errorf("%d UpsertContacts calls after refused uploads", h.store.upsertCalls)
	}
}

func TestImportJSON(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	h.upload(id, "application/json", `[{"email":"beto@example.org","name":"Beto"}]`)
	got := h.upload(id, "", `[
		{"email":"Ana@Example.org","name":"Ana\nPérez","outlet":"Diario","language":"es","tags":["agua"," ","agua"],"attributes":{"city":"Oaxaca"}},
		{"email":"nadie"},
		{"email":"beto@example.org","name":"Beto Ruiz"},
		{"email":"ana@example.org","name":"Ana de nuevo"}
	]`)
	want := ImportResult{Added: 1, Updated: 1, Skipped: 1, Errors: []RowError{{Row: 2, Email: "nadie", Message: "invalid email"}}}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), noNotes); diff != "" {
		t.Errorf("result (-want +got):\n%s", diff)
	}
	wantMembers := map[string]dispatcher.Contact{
		"ana@example.org": {Email: "ana@example.org", Name: "Ana Pérez", Outlet: "Diario", Language: "es",
			Tags: []string{"agua"}, Attributes: map[string]string{"city": "Oaxaca"}},
		"beto@example.org": {Email: "beto@example.org", Name: "Beto Ruiz"},
	}
	if diff := cmp.Diff(wantMembers, h.members(id)); diff != "" {
		t.Errorf("members (-want +got):\n%s", diff)
	}
}

func TestContactsPagination(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	h.upload(id, "text/csv", "email\ne@example.org\nd@example.org\nc@example.org\nb@example.org\na@example.org\n")
	var got []string
	cursor, pages := "", 0
	for {
		var page Page[dispatcher.Contact]
		h.mustJSON("GET", "/v1/lists/"+id+"/contacts?limit=2&cursor="+cursor, "", http.StatusOK, &page)
		for _, c := range page.Items {
			got = append(got, c.Email)
		}
		pages++
		if cursor = page.NextCursor; cursor == "" || pages > 5 {
			break
		}
	}
	want := []string{"a@example.org", "b@example.org", "c@example.org", "d@example.org", "e@example.org"}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" || pages != 3 {
		t.Errorf("%d pages (-want +got):\n%s", pages, diff)
	}
	for _, limit := range []string{"0", "1001", "ten", "-1", "2.5"} {
		p := problemOf(t, h.do("GET", "/v1/lists/"+id+"/contacts?limit="+limit, viewerToken, "", ""), http.StatusBadRequest)
		if diff := cmp.Diff([]string{"limit"}, fieldsOf(p)); diff != "" {
			t.Errorf("limit=%s fields (-want +got):\n%s", limit, diff)
		}
	}
	w := h.do("GET", "/v1/lists/"+h.newList("Vacía")+"/contacts", viewerToken, "", "")
	if got := strings.TrimSpace(w.Body.String()); got != `{"items":[],"next_cursor":""}` {
		t.Errorf("empty page = %s", got)
	}
	problemOf(t, h.do("GET", "/v1/lists/nope/contacts", viewerToken, "", ""), http.StatusNotFound)
}

func TestRemoveContact(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	h.upload(id, "text/csv", "email\nana@example.org\n")
	if w := h.do("DELETE", "/v1/lists/"+id+"/contacts/ANA@example.org", coordToken, "", ""); w.Code != http.StatusNoContent {
		t.Fatalf("DELETE = %d %s", w.Code, w.Body)
	}
	if len(h.members(id)) != 0 {
		t.Errorf("members = %v", h.members(id))
	}
	problemOf(t, h.do("DELETE", "/v1/lists/"+id+"/contacts/ana@example.org", coordToken, "", ""), http.StatusNotFound)
	p := problemOf(t, h.do("DELETE", "/v1/lists/"+id+"/contacts/not-an-email", coordToken, "", ""), http.StatusBadRequest)
	if diff := cmp.Diff([]string{"email"}, fieldsOf(p)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
}

func TestImportErrorsCapped(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	csv := "email\nana@example.org\n" + strings.Repeat("nadie\n", maxRowErrors+5)
	got := h.upload(id, "text/csv", csv)
	if got.Added != 1 || len(got.Errors) != maxRowErrors || got.ErrorsOmitted != 5 {
		t.Errorf("added %d, %d errors, %d omitted", got.Added, len(got.Errors), got.ErrorsOmitted)
	}
	if last := got.Errors[len(got.Errors)-1]; last.Row != maxRowErrors+2 {
		t.Errorf("last reported row %d, want %d", last.Row, maxRowErrors+2)
	}
}
