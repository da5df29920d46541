package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// TestWebAppDraftBeforeItsAudience uses the compose page without
// JavaScript, and its autosave, as a press officer who writes before
// choosing who gets the release: a draft with a title alone is saved (no
// text, no audience), its counts say 0, and its send is refused with the
// reason and a link back to the compose page, sending nothing; once an
// edit adds the text and a press list, it is sent, and the SMTP server
// gets it.
func TestWebAppDraftBeforeItsAudience(t *testing.T) {
	s := startService(t)
	pw := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	var l obj
	if code := s.post("/v1/lists", obj{"name": "Prensa nacional", "kind": "press"}, &l); code != 201 {
		t.Fatalf("create list: %d %v", code, l)
	}
	press := l["id"].(string)
	var rep obj
	if code := s.post("/v1/lists/"+press+"/contacts", []obj{{"email": "marta@diario.example"}, {"email": "john@wire.example"}}, &rep); code != 200 {
		t.Fatalf("import: %d %v", code, rep)
	}

	b := s.browser()
	b.signIn("ana@coalicion.example", pw)
	tok := b.csrf("/app/releases/new")

	// compose.js's autosave: nothing without a title; a title is enough.
	p := b.do("POST", "/app/releases/autosave", url.Values{"csrf": {tok}, "language": {"es"}, "title": {""}, "body": {"Primeras líneas."}, "timezone": {"America/Mexico_City"}})
	if p.status != http.StatusBadRequest || !strings.Contains(p.body, "title") {
		t.Errorf("autosave without a title: %d %s, want 400 naming the title", p.status, p.body)
	}
	p = b.do("POST", "/app/releases/autosave", url.Values{"csrf": {tok}, "language": {"es"}, "title": {"Nota en preparación"}, "timezone": {"America/Mexico_City"}})
	var saved struct {
		ID      string
		Version int
	}
	if err := json.Unmarshal([]byte(p.body), &saved); err != nil || p.status != 200 || saved.ID == "" || saved.Version != 1 {
		t.Fatalf("autosave of a title alone: %d %s", p.status, p.body)
	}

	// The form without JavaScript: a title, no text, no audience ticked.
	p = b.multipart("/app/releases", url.Values{"csrf": {tok}, "language": {"es"}, "title": {"Borrador sin audiencia"}, "body": {""},
		"timezone": {"America/Mexico_City"}, "action": {"save"}}, "", nil)
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "?done=saved") {
		t.Fatalf("save a draft with no audience: %d → %q\n%.3000s", p.status, p.location, p.body)
	}
	relPage := strings.TrimSuffix(p.location, "?done=saved")
	rid := strings.TrimPrefix(relPage, "/app/releases/")
	var rel struct {
		Status, Body string
		Version      int
		Audiences    struct {
			Lists, EarlyLists, TelegramChannels []string
			TelegramFollowers                   bool `json:"telegram_followers"`
		}
	}
	s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
	if rel.Status != "draft" || rel.Body != "" || len(rel.Audiences.Lists) != 0 || rel.Audiences.TelegramFollowers {
		t.Fatalf("the draft as saved: %+v", rel)
	}
	// The release page lists what blocks a send, in the person's language;
	// the compose page counts 0.
	if p = b.get(relPage); p.status != 200 || !strings.Contains(p.body, "El comunicado no tiene audiencia: añade una lista o un canal de Telegram.") ||
		!strings.Contains(p.body, "El comunicado todavía no tiene texto") {
		t.Errorf("the release page: %d, want the checks naming the audience and the text\n%.3000s", p.status, p.body)
	}
	if p = b.get(relPage + "/edit"); !strings.Contains(p.body, "En total: 0 (correos: 0, canales de Telegram: 0, seguidores: 0).") {
		t.Errorf("the compose page of a draft with no audience does not count 0:\n%.4000s", p.body)
	}

	// The send confirmation says why it cannot go, and links back.
	edit := `href="` + relPage + `/edit"`
	if p = b.get(relPage + "/send"); p.status != 200 || !strings.Contains(p.body, "El comunicado no tiene audiencia") || !strings.Contains(p.body, edit) ||
		!strings.Contains(p.body, " disabled>") {
		t.Errorf("the send page: %d, want the reason, a disabled button and a link to %s\n%.3000s", p.status, edit, p.body)
	}
	// Posted anyway (an old tab): refused with the reason, nothing sent.
	p = b.do("POST", relPage+"/send", url.Values{"csrf": {tok}})
	if p.status != http.StatusConflict || !strings.Contains(p.body, "no se puede enviar todavía") || !strings.Contains(p.body, "El comunicado no tiene audiencia") ||
		!strings.Contains(p.body, edit) {
		t.Errorf("send of a draft with no audience: %d, want 409 with the reason and a link to %s\n%.3000s", p.status, edit, p.body)
	}
	if s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel); rel.Status != "draft" {
		t.Fatalf("after the refused send: %s", rel.Status)
	}

	// The edit adds the text and the press list; then it goes.
	p = b.multipart(relPage+"/edit", url.Values{"csrf": {tok}, "version": {"1"}, "language": {"es"}, "title": {"Borrador sin audiencia"},
		"body": {"Las comunidades piden detener el dragado."}, "timezone": {"America/Mexico_City"}, "lists": {press}, "action": {"save"}}, "", nil)
	if p.status != http.StatusSeeOther {
		t.Fatalf("edit: %d → %q\n%.3000s", p.status, p.location, p.body)
	}
	if p = b.do("POST", relPage+"/send", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "/watch?done=sent") {
		t.Fatalf("send once complete: %d → %q\n%.3000s", p.status, p.location, p.body)
	}
	if final := s.waitFinal(rid); final["status"] != "sent" {
		t.Fatalf("release %v, want sent", final["status"])
	}
	var to []string
	for _, m := range s.smtp.WaitFor(t, 2, 30*time.Second) {
		to = append(to, m.To...)
	}
	slices.Sort(to)
	if !slices.Equal(to, []string{"john@wire.example", "marta@diario.example"}) {
		t.Fatalf("mailed %v, want the press list's two members", to)
	}
}
