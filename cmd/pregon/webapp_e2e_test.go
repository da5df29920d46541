package main

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/pregon/pregon/audit"
)

// Web app (issue 14): people sign in to / and act through the API.

// user creates a person with the CLI, as an operator would, and returns
// their password.
func (s *service) user(email, name, role string) string {
	s.t.Helper()
	pw := "contraseña-de-" + strings.Split(email, "@")[0]
	f := filepath.Join(s.t.TempDir(), "pw")
	if err := os.WriteFile(f, []byte(pw+"\n"), 0o600); err != nil {
		s.t.Fatal(err)
	}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"user", "create", "--email", email, "--name", name, "--role", role, "--password-file", f}, &out, &errb, s.getenv); code != 0 {
		s.t.Fatalf("user create exited %d: %s", code, errb.String())
	}
	return pw
}

// browser is a person's browser without JavaScript: cookies kept,
// redirects not followed.
type browser struct {
	s   *service
	c   *http.Client
	jar *cookiejar.Jar
}

func (s *service) browser() *browser {
	jar, _ := cookiejar.New(nil)
	return &browser{s: s, jar: jar, c: &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}}
}

// page is an answer to the browser.
type page struct {
	status   int
	location string
	body     string
}

func (b *browser) do(method, path string, form url.Values) page {
	b.s.t.Helper()
	var body io.Reader
	if form != nil {
		body = strings.NewReader(form.Encode())
	}
	req, err := http.NewRequest(method, b.s.url+path, body)
	if err != nil {
		b.s.t.Fatal(err)
	}
	req.Header.Set("Accept-Language", "es-MX,es;q=0.9")
	if form != nil {
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	resp, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatalf("%s %s: %v", method, path, err)
	}
	defer resp.Body.Close()
	data, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(data)}
}

func (b *browser) get(path string) page { return b.do("GET", path, nil) }

var csrfField = regexp.MustCompile(`name="csrf" value="([^"]+)"`)

// csrf is the CSRF token of the forms of the page at path.
func (b *browser) csrf(path string) string {
	b.s.t.Helper()
	p := b.get(path)
	m := csrfField.FindStringSubmatch(p.body)
	if m == nil {
		b.s.t.Fatalf("GET %s (%d): no csrf field in:\n%.2000s", path, p.status, p.body)
	}
	return m[1]
}

// session is the value of the session cookie the browser holds.
func (b *browser) session() string {
	u, _ := url.Parse(b.s.url + "/")
	for _, c := range b.jar.Cookies(u) {
		if c.Name == "pregon_session" {
			return c.Value
		}
	}
	return ""
}

// signIn signs in and fails the test unless it worked.
func (b *browser) signIn(email, password string) {
	b.s.t.Helper()
	tok := b.csrf("/app/login")
	p := b.do("POST", "/app/login", url.Values{"csrf": {tok}, "email": {email}, "password": {password}})
	if p.status != http.StatusSeeOther || p.location != "/app/releases" {
		b.s.t.Fatalf("sign in as %s: %d → %q:\n%.2000s", email, p.status, p.location, p.body)
	}
}

// TestWebAppSessions signs in over HTTP as a browser does: a wrong
// password is refused; a session id planted before sign-in is replaced
// (no fixation); a form without the session's CSRF token, or with another,
// is refused and changes nothing; a viewer may not send; what a person does
// lands in the audit log under their name; signing out ends the session on
// the server, not only in the browser.
func TestWebAppSessions(t *testing.T) {
	s := startService(t)
	pw := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	viewerPW := s.user("vero@coalicion.example", "", "viewer")

	b := s.browser()
	home := b.get("/")
	if home.status != 200 || !strings.Contains(home.body, `action="/app/login"`) || !strings.Contains(home.body, `lang="es"`) {
		t.Fatalf("GET / without a session: %d, want the sign-in page in Spanish:\n%.1500s", home.status, home.body)
	}
	if p := b.get("/app/releases"); p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/app/login?next=") {
		t.Errorf("GET /app/releases signed out: %d → %q, want the sign-in page", p.status, p.location)
	}
	tok := b.csrf("/app/login")
	if p := b.do("POST", "/app/login", url.Values{"csrf": {tok}, "email": {"ana@coalicion.example"}, "password": {"wrong password!"}}); p.status != http.StatusUnauthorized {
		t.Errorf("wrong password: %d, want 401", p.status)
	}
	if p := b.do("POST", "/app/login", url.Values{"email": {"ana@coalicion.example"}, "password": {pw}}); p.status != http.StatusForbidden {
		t.Errorf("sign-in form without its token: %d, want 403", p.status)
	}

	// Fixation: a session id the attacker chose is never adopted.
	u, _ := url.Parse(s.url + "/")
	b.jar.SetCookies(u, []*http.Cookie{{Name: "pregon_session", Value: "planted-by-an-attacker", Path: "/"}})
	b.signIn("ana@coalicion.example", pw)
	first := b.session()
	if first == "" || first == "planted-by-an-attacker" {
		t.Fatalf("session after sign-in %q: the planted id was kept", first)
	}
	b.signIn("ana@coalicion.example", pw)
	if second := b.session(); second == first {
		t.Errorf("signing in again kept session id %q", second)
	}
	stale := s.browser()
	stale.jar.SetCookies(u, []*http.Cookie{{Name: "pregon_session", Value: first, Path: "/"}})
	if p := stale.get("/app/releases"); p.status != http.StatusSeeOther {
		t.Errorf("the session replaced at sign-in still works: %d", p.status)
	}
	if p := b.get("/"); p.status != http.StatusSeeOther || p.location != "/app/releases" {
		t.Errorf("GET / signed in: %d → %q", p.status, p.location)
	}

	// CSRF: no token, another session's token, then the right one.
	good := b.csrf("/app/lists")
	other := s.browser()
	other.signIn("vero@coalicion.example", viewerPW)
	foreign := other.csrf("/app/releases")
	for name, form := range map[string]url.Values{
		"no token":    {"name": {"Prensa"}, "kind": {"press"}},
		"wrong token": {"name": {"Prensa"}, "kind": {"press"}, "csrf": {foreign}},
	} {
		if p := b.do("POST", "/app/lists", form); p.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, p.status)
		}
	}
	var lists struct{ Items []obj }
	s.do(s.admin, "GET", "/v1/lists", "", nil, &lists)
	if len(lists.Items) != 0 {
		t.Fatalf("a refused form made lists: %v", lists.Items)
	}
	p := b.do("POST", "/app/lists", url.Values{"name": {"Prensa"}, "kind": {"press"}, "csrf": {good}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/app/lists/") {
		t.Fatalf("create list: %d → %q:\n%.1500s", p.status, p.location, p.body)
	}

	// A draft, saved from the compose form.
	p = b.do("POST", "/app/releases", url.Values{"csrf": {good}, "language": {"es"}, "title": {"Comunicado de prueba"},
		"body": {"Texto del comunicado."}, "timezone": {"America/Mexico_City"}, "lists": {strings.TrimPrefix(strings.TrimSuffix(p.location, "?done=list_created"), "/app/lists/")}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, "/app/releases/") {
		t.Fatalf("save draft: %d → %q:\n%.2000s", p.status, p.location, p.body)
	}
	relPage := strings.TrimSuffix(p.location, "?done=saved")
	rid := strings.TrimPrefix(relPage, "/app/releases/")

	// Roles: a viewer sees the release but may not send it.
	if p := other.get(relPage); p.status != 200 || !strings.Contains(p.body, "Comunicado de prueba") {
		t.Errorf("viewer reads the release: %d", p.status)
	}
	if p := other.do("POST", relPage+"/send", url.Values{"csrf": {foreign}}); p.status != http.StatusForbidden {
		t.Errorf("viewer sends: %d, want 403", p.status)
	}
	var rel obj
	s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
	if rel["status"] != "draft" || rel["author"] != "Ana Torres <ana@coalicion.example>" {
		t.Errorf("release %v: want a draft by Ana", rel)
	}

	// The audit log names the person.
	var log struct{ Items []audit.Entry }
	s.do(s.admin, "GET", "/v1/audit", "", nil, &log)
	got := map[audit.Action]string{}
	for _, e := range log.Items {
		if strings.Contains(e.Actor, "ana@") {
			got[e.Action] = e.Actor
		}
	}
	for _, a := range []audit.Action{audit.UserSignIn, audit.ListCreate, audit.ReleaseCreate} {
		if got[a] != "Ana Torres <ana@coalicion.example>" {
			t.Errorf("audit %s by %q, want Ana Torres <ana@coalicion.example> (entries %+v)", a, got[a], log.Items)
		}
	}

	// Sign out: the session is gone on the server.
	cookie := b.session()
	if p := b.do("POST", "/app/logout", url.Values{"csrf": {good}}); p.status != http.StatusSeeOther || p.location != "/" {
		t.Fatalf("sign out: %d → %q", p.status, p.location)
	}
	replay := s.browser()
	replay.jar.SetCookies(u, []*http.Cookie{{Name: "pregon_session", Value: cookie, Path: "/"}})
	if p := replay.get("/app/releases"); p.status != http.StatusSeeOther {
		t.Errorf("the signed-out session still works: %d", p.status)
	}
	if p := replay.do("POST", "/app/lists", url.Values{"name": {"X"}, "kind": {"press"}, "csrf": {good}}); p.status != http.StatusUnauthorized {
		t.Errorf("POST with the signed-out session: %d, want 401", p.status)
	}
}

// TestWebAppLoginRateLimit guesses one account's password until the limit
// answers 429, after which even the right password waits.
func TestWebAppLoginRateLimit(t *testing.T) {
	s := startService(t)
	pw := s.user("ana@coalicion.example", "Ana", "coordinator")
	b := s.browser()
	limited := false
	for i := 0; i < 30 && !limited; i++ {
		tok := b.csrf("/app/login")
		p := b.do("POST", "/app/login", url.Values{"csrf": {tok}, "email": {"ana@coalicion.example"}, "password": {"guess number " + string(rune('a'+i))}})
		switch p.status {
		case http.StatusTooManyRequests:
			limited = true
		case http.StatusUnauthorized:
		default:
			t.Fatalf("guess %d: %d", i, p.status)
		}
	}
	if !limited {
		t.Fatal("30 wrong passwords in a row were never limited")
	}
	tok := b.csrf("/app/login")
	if p := b.do("POST", "/app/login", url.Values{"csrf": {tok}, "email": {"ana@coalicion.example"}, "password": {pw}}); p.status != http.StatusTooManyRequests {
		t.Errorf("right password while limited: %d, want 429", p.status)
	}
}
