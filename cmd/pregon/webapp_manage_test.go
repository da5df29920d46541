package main

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/internal/testkit"
)

// pendingChannel has the bot made an administrator of chat at the fake Bot
// API and returns the id of the pending channel it makes.
func (s *service) pendingChannel(chat, title string) string {
	s.t.Helper()
	s.tg.PushMyChatMember(chat, title, "left", "administrator")
	id := ""
	testkit.WaitFor(s.t, "a pending channel "+chat, 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		var page obj
		s.do(s.admin, "GET", "/v1/telegram/channels", "", nil, &page)
		for _, it := range page["items"].([]any) {
			if c := it.(obj); c["title"] == title && c["status"] == "pending" {
				id = c["id"].(string)
				return true, ""
			}
		}
		return false, fmt.Sprint(page)
	})
	return id
}

var secretField = regexp.MustCompile(`id="secret"[^>]*value="(pgn_[A-Za-z0-9_-]+)"`)

// TestWebAppManageForms posts every management form over HTTP, as a
// browser without JavaScript would: each refuses a form without the
// session's CSRF token and a person whose role may not (an editor may not
// make tokens nor change roles; a viewer may not approve a channel, edit
// a contact nor erase one), and changes nothing then; done right, each works: a token
// made in the browser is shown once and works against the API until it is
// revoked; a role changes at the next request; a pending channel is
// approved; a contact is edited, a bad field refused in Spanish. What the
// admin did is in the audit log under her name, the contact's address
// never in the clear.
func TestWebAppManageForms(t *testing.T) {
	s := startService(t)
	adminPW := s.user("adela@coalicion.example", "Adela Ríos", "admin")
	coordPW := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	viewPW := s.user("vero@coalicion.example", "Vero Paz", "viewer")
	adm, coord, view := s.browser(), s.browser(), s.browser()
	adm.signIn("adela@coalicion.example", adminPW)
	coord.signIn("ana@coalicion.example", coordPW)
	view.signIn("vero@coalicion.example", viewPW)
	admCSRF, coordCSRF, viewCSRF := adm.csrf("/app/releases"), coord.csrf("/app/releases"), view.csrf("/app/releases")

	tokens := func() int {
		var p struct{ Items []obj }
		s.do(s.admin, "GET", "/v1/tokens", "", nil, &p)
		return len(p.Items)
	}
	before := tokens()
	form := url.Values{"name": {"Sitio web"}, "role": {"viewer"}}
	with := func(v url.Values, csrf string) url.Values {
		out := url.Values{}
		for k, vs := range v {
			out[k] = vs
		}
		if csrf != "" {
			out.Set("csrf", csrf)
		}
		return out
	}
	type refusal struct {
		who  string
		b    *browser
		path string
		form url.Values
		want int
	}
	// Refused: without the token, with another session's, or by a role
	// that may not; nothing changes.
	pending := s.pendingChannel("@canal_nuevo", "Canal Nuevo")
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, nil)
	var lists struct{ Items []obj }
	s.do(s.admin, "GET", "/v1/lists", "", nil, &lists)
	listID := lists.Items[0]["id"].(string)
	if code := s.post("/v1/lists/"+listID+"/contacts", []obj{{"email": "marta@diario.example", "name": "Marta", "language": "es"}}, nil); code != 200 {
		t.Fatalf("import: %d", code)
	}
	contact := url.Values{"email": {"marta@diario.example"}, "name": {"Marta Ruiz"}, "outlet": {"Diario del Valle"}, "language": {"es"},
		"tags": {"agua, minería"}, "attributes": {"ciudad = Oaxaca"}, "list": {listID}}
	role := url.Values{"email": {"vero@coalicion.example"}, "role": {"coordinator"}}
	erase := url.Values{"email": {"marta@diario.example"}, "confirm": {"yes"}}
	for _, c := range []refusal{
		{"admin without the token", adm, "/app/tokens", with(form, ""), 403},
		{"admin with another session's token", adm, "/app/tokens", with(form, coordCSRF), 403},
		{"an editor", coord, "/app/tokens", with(form, coordCSRF), 403},
		{"a viewer", view, "/app/tokens", with(form, viewCSRF), 403},
		{"role: admin without the token", adm, "/app/users/role", with(role, ""), 403},
		{"role: an editor", coord, "/app/users/role", with(role, coordCSRF), 403},
		{"approve: an editor without the token", coord, "/app/channels/" + pending + "/approve", url.Values{}, 403},
		{"approve: a viewer", view, "/app/channels/" + pending + "/approve", with(url.Values{}, viewCSRF), 403},
		{"contact: an editor without the token", coord, "/app/contacts", with(contact, ""), 403},
		{"contact: a viewer", view, "/app/contacts", with(contact, viewCSRF), 403},
		{"revoke: an editor", coord, "/app/tokens/tok_x/revoke", with(url.Values{}, coordCSRF), 403},
		{"erase: a viewer", view, "/app/lists/" + listID + "/erase", with(erase, viewCSRF), 403},
		{"erase: a viewer asks for the confirmation page", view, "/app/lists/" + listID + "/erase", with(url.Values{"email": erase["email"]}, viewCSRF), 403},
		{"erase: an editor without the token", coord, "/app/lists/" + listID + "/erase", with(erase, ""), 403},
		{"erase: an editor with another session's token", coord, "/app/lists/" + listID + "/erase", with(erase, admCSRF), 403},
	} {
		if p := c.b.do("POST", c.path, c.form); p.status != c.want {
			t.Errorf("%s: POST %s answered %d, want %d", c.who, c.path, p.status, c.want)
		}
	}
	if n := tokens(); n != before {
		t.Errorf("refused forms made tokens: %d, want %d", n, before)
	}
	if c := s.channelByID(pending); c["status"] != "pending" {
		t.Errorf("a refused approval changed the channel: %v", c)
	}
	var marta obj
	s.do(s.admin, "GET", "/v1/contacts/marta@diario.example", "", nil, &marta)
	if marta["name"] != "Marta" {
		t.Errorf("a refused edit or erasure changed the contact: %v", marta)
	}
	if u, err := s.userLine("vero@coalicion.example"); err != nil || !strings.Contains(u, "viewer") {
		t.Errorf("a refused form changed vero's role: %q %v", u, err)
	}

	// A token, shown once, works against the API until it is revoked.
	p := adm.do("POST", "/app/tokens", with(form, admCSRF))
	m := secretField.FindStringSubmatch(p.body)
	if p.status != http.StatusCreated || m == nil {
		t.Fatalf("create token: %d, no secret in:\n%.3000s", p.status, p.body)
	}
	secret := m[1]
	if code, _ := s.do(secret, "GET", "/v1/lists", "", nil, nil); code != 200 {
		t.Errorf("the new token against the API: %d, want 200", code)
	}
	if code, _ := s.do(secret, "POST", "/v1/lists", "application/json", obj{"name": "X", "kind": "press"}, nil); code != 403 {
		t.Errorf("the viewer token makes a list: %d, want 403", code)
	}
	list := adm.get("/app/tokens")
	if strings.Contains(list.body, secret) {
		t.Errorf("the tokens page shows the secret again")
	}
	id := regexp.MustCompile(`action="/app/tokens/(tok_[^"/]+)/revoke"[^<]*<input[^>]*><button[^>]*aria-label="Revocar Sitio web"`).FindStringSubmatch(list.body)
	if id == nil {
		t.Fatalf("no revoke form for the new token in:\n%.3000s", list.body)
	}
	if p := adm.do("POST", "/app/tokens/"+id[1]+"/revoke", url.Values{}); p.status != 403 {
		t.Errorf("revoke without the token: %d", p.status)
	}
	if code, _ := s.do(secret, "GET", "/v1/lists", "", nil, nil); code != 200 {
		t.Errorf("a refused revocation revoked it: %d", code)
	}
	if p := adm.do("POST", "/app/tokens/"+id[1]+"/revoke", with(url.Values{}, admCSRF)); p.status != http.StatusSeeOther {
		t.Errorf("revoke: %d", p.status)
	}
	if code, _ := s.do(secret, "GET", "/v1/lists", "", nil, nil); code != 401 {
		t.Errorf("the revoked token against the API: %d, want 401", code)
	}
	if p := adm.do("POST", "/app/tokens", with(url.Values{"name": {""}, "role": {"boss"}}, admCSRF)); p.status != 400 ||
		!strings.Contains(p.body, "es obligatorio") || !strings.Contains(p.body, "debe ser admin, coordinación o lectura") {
		t.Errorf("a bad token form: %d, want 400 saying what is wrong in Spanish:\n%.3000s", p.status, p.body)
	}

	// Roles: not one's own; another's at their next request.
	if p := adm.do("POST", "/app/users/role", with(url.Values{"email": {"adela@coalicion.example"}, "role": {"viewer"}}, admCSRF)); p.status != http.StatusConflict {
		t.Errorf("an admin changes her own role: %d, want 409", p.status)
	}
	if p := adm.do("POST", "/app/users/role", with(role, admCSRF)); p.status != http.StatusSeeOther {
		t.Fatalf("change vero's role: %d\n%.2000s", p.status, p.body)
	}
	if p := view.do("POST", "/app/lists", url.Values{"name": {"De Vero"}, "kind": {"press"}, "csrf": {viewCSRF}}); p.status != http.StatusSeeOther {
		t.Errorf("vero, coordinator now, makes a list: %d", p.status)
	}

	// A pending channel approved.
	if p := coord.do("POST", "/app/channels/"+pending+"/approve", with(url.Values{}, coordCSRF)); p.status != http.StatusSeeOther {
		t.Errorf("approve: %d\n%.2000s", p.status, p.body)
	}
	if c := s.channelByID(pending); c["status"] != "active" {
		t.Errorf("approved channel: %v", c)
	}
	if p := coord.do("POST", "/app/channels/"+pending+"/approve", with(url.Values{}, coordCSRF)); p.status != http.StatusConflict || !strings.Contains(p.body, "no pendiente") {
		t.Errorf("approve twice: %d, want 409 said in Spanish:\n%.2000s", p.status, p.body)
	}

	// A contact: a bad language refused in Spanish, then edited.
	bad := with(contact, coordCSRF)
	bad.Set("language", "español de México")
	if p := coord.do("POST", "/app/contacts", bad); p.status != 400 || !strings.Contains(p.body, "código de idioma") {
		t.Errorf("bad language: %d, want 400 in Spanish:\n%.3000s", p.status, p.body)
	}
	if p := coord.do("POST", "/app/contacts", with(contact, coordCSRF)); p.status != http.StatusSeeOther {
		t.Fatalf("edit contact: %d\n%.2000s", p.status, p.body)
	}
	s.do(s.admin, "GET", "/v1/contacts/marta@diario.example", "", nil, &marta)
	if marta["name"] != "Marta Ruiz" || marta["outlet"] != "Diario del Valle" || fmt.Sprint(marta["tags"]) != "[agua minería]" ||
		fmt.Sprint(marta["attributes"]) != "map[ciudad:Oaxaca]" {
		t.Errorf("contact after the edit: %v", marta)
	}
	if p := view.get("/app/contacts?email=nadie@example.org"); p.status != 404 || !strings.Contains(p.body, "no está en ninguna lista") {
		t.Errorf("an unknown address: %d", p.status)
	}

	var log struct{ Items []audit.Entry }
	s.do(s.admin, "GET", "/v1/audit", "", nil, &log)
	got := map[audit.Action]audit.Entry{}
	for _, e := range log.Items {
		if !strings.HasPrefix(e.Actor, "cli") {
			got[e.Action] = e
		}
	}
	for a, actor := range map[audit.Action]string{audit.TokenCreate: "Adela Ríos <adela@coalicion.example>", audit.TokenRevoke: "Adela Ríos <adela@coalicion.example>",
		audit.UserRole: "Adela Ríos <adela@coalicion.example>", audit.ChannelApprove: "Ana Torres <ana@coalicion.example>", audit.ContactUpdate: "Ana Torres <ana@coalicion.example>"} {
		if got[a].Actor != actor {
			t.Errorf("audit %s by %q, want %q", a, got[a].Actor, actor)
		}
	}
	if e := got[audit.ContactUpdate]; strings.Contains(fmt.Sprint(e), "marta@") {
		t.Errorf("the audit log holds the contact's address: %+v", e)
	}
}

// userLine is the line of pregon user list that names email.
func (s *service) userLine(email string) (string, error) {
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"user", "list"}, &out, &errb, s.getenv); code != 0 {
		return "", fmt.Errorf("user list: %s", errb.String())
	}
	for _, line := range strings.Split(out.String(), "\n") {
		if strings.HasPrefix(line, email+" ") {
			return line, nil
		}
	}
	return "", fmt.Errorf("%s not in %q", email, out.String())
}
