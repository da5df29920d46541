package main

import (
	"net/http"
	"testing"
)

// TestWebAppListFormsReload: the import report and the erase confirmation
// are answers to a POST shown at the form's address; opening that address
// again (a reload after the browser forgets the form, a bookmark, a link
// pasted to a colleague) goes to the list's page instead of "There is no
// such page". Signed out, it asks to sign in first, like every page.
func TestWebAppListFormsReload(t *testing.T) {
	s := startService(t)
	pw := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	var l obj
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &l); code != http.StatusCreated {
		t.Fatalf("create list: %d %v", code, l)
	}
	id, _ := l["id"].(string)
	anon := s.browser()
	for _, form := range []string{"/import", "/erase"} {
		if p := anon.get("/app/lists/" + id + form); p.status == http.StatusSeeOther && p.location == "/app/lists/"+id {
			t.Errorf("signed out, GET %s went to the list", form)
		}
	}
	b := s.browser()
	b.signIn("ana@coalicion.example", pw)
	for _, form := range []string{"/import", "/erase"} {
		p := b.get("/app/lists/" + id + form)
		if p.status != http.StatusSeeOther || p.location != "/app/lists/"+id {
			t.Errorf("GET /app/lists/%s%s: %d → %q, want 303 to the list", id, form, p.status, p.location)
		}
	}
	if p := b.get("/app/lists/" + id); p.status != http.StatusOK {
		t.Errorf("the list's page: %d", p.status)
	}
}
