package main

import (
	"fmt"
	"strings"
	"testing"
	"time"
)

// TestManageAPIEndToEnd: POST /v1/tokens is for admins and checks its
// input; GET and PATCH /v1/contacts/{email} read and edit one contact
// (viewers read, coordinators edit), refuse bad fields and unknown
// addresses, and change nothing then; a field left out is kept, "" clears
// one, and text is cleaned as an import cleans it.
func TestManageAPIEndToEnd(t *testing.T) {
	s := startService(t)
	coord, viewer := s.token("coordinator"), s.token("viewer")
	var prob obj
	past := time.Now().Add(-time.Hour).UTC().Format(time.RFC3339)
	if code := s.post("/v1/tokens", obj{"name": "Vieja", "role": "viewer", "expires_at": past}, &prob); code != 400 || !strings.Contains(fmt.Sprint(prob["errors"]), "expires_at") {
		t.Errorf("token that expired already: %d %v, want 400 on expires_at", code, prob)
	}
	if code, _ := s.do(coord, "POST", "/v1/tokens", "application/json", obj{"name": "X", "role": "admin"}, nil); code != 403 {
		t.Errorf("a coordinator makes a token: %d, want 403", code)
	}
	var tok obj
	if code := s.post("/v1/tokens", obj{"name": "Bot de avisos", "role": "coordinator"}, &tok); code != 201 || tok["id"] == nil {
		t.Fatalf("make a token: %d %v", code, tok)
	}
	if code, _ := s.do(tok["token"].(string), "POST", "/v1/lists", "application/json", obj{"name": "Del bot", "kind": "press"}, nil); code != 201 {
		t.Errorf("the new coordinator token makes a list: %d", code)
	}

	var list obj
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	s.post("/v1/lists/"+list["id"].(string)+"/contacts", []obj{{"email": "marta@diario.example", "name": "Marta", "outlet": "Diario", "language": "es"}}, nil)
	for _, c := range []struct {
		name, token, email string
		body               any
		want               int
	}{
		{"a viewer edits", viewer, "marta@diario.example", obj{"name": "X"}, 403},
		{"nothing to change", coord, "marta@diario.example", obj{}, 400},
		{"a bad language", coord, "marta@diario.example", obj{"language": "español"}, 400},
		{"an unknown field", coord, "marta@diario.example", obj{"phone": "123"}, 400},
		{"an unknown address", coord, "nadie@example.org", obj{"name": "X"}, 404},
		{"not an address", coord, "no-es-correo", obj{"name": "X"}, 400},
	} {
		if code, _ := s.do(c.token, "PATCH", "/v1/contacts/"+c.email, "application/json", c.body, nil); code != c.want {
			t.Errorf("%s: %d, want %d", c.name, code, c.want)
		}
	}
	var got obj
	if code, _ := s.do(viewer, "GET", "/v1/contacts/marta@diario.example", "", nil, &got); code != 200 || got["name"] != "Marta" || got["known"] != true || got["suppressed"] != nil {
		t.Fatalf("GET contact after refused edits: %d %v", code, got)
	}
	if code, _ := s.do(coord, "PATCH", "/v1/contacts/Marta@Diario.example", "application/json", obj{"name": "Marta\nRuiz", "outlet": "", "tags": []string{"agua"}}, &got); code != 200 {
		t.Fatalf("edit: %d %v", code, got)
	}
	got = obj{}
	s.do(viewer, "GET", "/v1/contacts/marta@diario.example", "", nil, &got)
	if got["name"] != "Marta Ruiz" || got["language"] != "es" || got["outlet"] != nil || fmt.Sprint(got["tags"]) != "[agua]" {
		t.Errorf("after the edit: %v, want the name on one line (as an import makes it), the outlet cleared, a tag, the language kept", got)
	}
	if code, _ := s.do(viewer, "GET", "/v1/contacts/nadie@example.org", "", nil, nil); code != 404 {
		t.Errorf("GET an unknown address: %d, want 404", code)
	}
}
