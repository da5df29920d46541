package api

import (
	"encoding/csv"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

// export gets a list as CSV as a viewer and returns the records (without
// the byte order mark).
func (h *harness) export(listID string) [][]string {
	h.t.Helper()
	w := h.do("GET", "/v1/lists/"+listID+"/contacts?format=csv", viewerToken, "", "")
	if w.Code != http.StatusOK {
		h.t.Fatalf("export: %d %s", w.Code, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "text/csv; charset=utf-8" {
		h.t.Errorf("Content-Type %q", ct)
	}
	if cd := w.Header().Get("Content-Disposition"); cd != `attachment; filename="contacts-`+listID+`.csv"` {
		h.t.Errorf("Content-Disposition %q", cd)
	}
	body, ok := strings.CutPrefix(w.Body.String(), "\uFEFF")
	if !ok {
		h.t.Errorf("export does not start with a byte order mark")
	}
	recs, err := csv.NewReader(strings.NewReader(body)).ReadAll()
	if err != nil {
		h.t.Fatalf("export is not CSV: %v\n%s", err, body)
	}
	return recs
}

// TestExportDefusesFormulas imports cells that a spreadsheet would run as
// formulas and checks that they come out of the export quoted, and that
// importing the export again gives the same contacts.
func TestExportDefusesFormulas(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	in := "email,name,outlet,language,tags\n" +
		`ana@example.org,"=HYPERLINK(""http://evil"",""x"")",+52 555,es,"@sum;-1;=cmd|' /C calc'!A0"` + "\n" +
		"-beto@example.org,Beto,,,\n" +
		"carla@example.org,Carla Núñez,La Jornada,pt-BR,agua\n" +
		"dora@example.org,'=ya escapado,,,\n"
	if res := h.upload(id, "text/csv", in); res.Added != 4 || len(res.Errors) != 0 {
		t.Fatalf("import: %+v", res)
	}
	if got := h.members(id)["ana@example.org"].Name; got != `=HYPERLINK("http://evil","x")` {
		t.Errorf("stored name %q: the import must keep what was typed", got)
	}
	// Tabs and carriage returns cannot come in through an import, which
	// trims names; a contact stored with them is exported defused all the same.
	other := h.newList("Otra")
	if _, _, err := h.store.UpsertContacts(t.Context(), other, []dispatcher.Contact{{Email: "eva@example.org", Name: "\tTab", Outlet: "\rCR"}}); err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"eva@example.org", "'\tTab", "'\rCR", "", ""}, h.export(other)[1]); diff != "" {
		t.Errorf("export (-want +got):\n%s", diff)
	}

	got := h.export(id)
	want := [][]string{
		{"email", "name", "outlet", "language", "tags"},
		{"'-beto@example.org", "Beto", "", "", ""},
		{"ana@example.org", `'=HYPERLINK("http://evil","x")`, "'+52 555", "es", "'@sum;-1;=cmd;' /C calc'!A0"},
		{"carla@example.org", "Carla Núñez", "La Jornada", "pt-BR", "agua"},
		{"dora@example.org", "'=ya escapado", "", "", ""},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("export (-want +got):\n%s", diff)
	}
	for _, rec := range got[1:] {
		for _, cell := range rec {
			if cell != "" && strings.ContainsRune(formulaStarts, rune(cell[0])) {
				t.Errorf("cell %q starts a formula", cell)
			}
		}
	}

	// Round trip: the export imports into the same contacts.
	var file strings.Builder
	file.WriteString("\uFEFF")
	cw := csv.NewWriter(&file)
	cw.WriteAll(got)
	copyID := h.newList("Copia")
	if res := h.upload(copyID, "text/csv", file.String()); res.Added != 4 || len(res.Errors) != 0 {
		t.Fatalf("re-import: %+v", res)
	}
	if diff := cmp.Diff(h.members(id), h.members(copyID)); diff != "" {
		t.Errorf("re-imported contacts differ (-original +copy):\n%s", diff)
	}
}

// TestExportLargeList checks that an export reads the list page by page
// and has every member once, in order.
func TestExportLargeList(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Grande")
	n := 2*exportPage + 7
	cs := make([]dispatcher.Contact, n)
	for i := range cs {
		cs[i] = dispatcher.Contact{Email: fmt.Sprintf("p%05d@example.org", i), Name: fmt.Sprintf("Persona %d", i), Tags: []string{"a", "b"}}
	}
	if _, _, err := h.store.UpsertContacts(t.Context(), id, cs); err != nil {
		t.Fatal(err)
	}
	got := h.export(id)
	if len(got) != n+1 {
		t.Fatalf("%d records, want %d and a header", len(got), n)
	}
	for i, rec := range got[1:] {
		if want := []string{cs[i].Email, cs[i].Name, "", "", "a;b"}; !cmp.Equal(want, rec) {
			t.Fatalf("record %d = %q, want %q", i+1, rec, want)
		}
	}
}

func TestExportRefused(t *testing.T) {
	h := newHarness(t)
	problemOf(t, h.do("GET", "/v1/lists/nope/contacts?format=csv", viewerToken, "", ""), http.StatusNotFound)
	p := problemOf(t, h.do("GET", "/v1/lists/"+h.newList("P")+"/contacts?format=xlsx", viewerToken, "", ""), http.StatusBadRequest)
	if diff := cmp.Diff([]string{"format"}, fieldsOf(p)); diff != "" {
		t.Errorf("fields (-want +got):\n%s", diff)
	}
	problemOf(t, h.do("GET", "/v1/lists/x/contacts?format=csv", "", "", ""), http.StatusUnauthorized)
}
