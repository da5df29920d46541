package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/links"
	"github.com/pregon/pregon/queue"
)

// fakeConfirmations records the confirmation emails enqueued.
type fakeConfirmations struct {
	mu   sync.Mutex
	sent []queue.Confirmation
}

func (f *fakeConfirmations) EnqueueConfirmation(_ context.Context, c queue.Confirmation) error {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.sent = append(f.sent, c)
	return nil
}

func (f *fakeConfirmations) count() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.sent)
}

// optinAPI is the API over Redis with double opt-in on, a settable clock
// for the links, and the confirmation emails recorded.
type optinAPI struct {
	*redisAPI
	clock  *testkit.Clock
	signer *links.Signer
	mails  *fakeConfirmations
}

func newOptinAPI(t *testing.T) *optinAPI {
	t.Helper()
	o := &optinAPI{clock: testkit.NewClock(t0), mails: &fakeConfirmations{}}
	signer, err := links.New([]byte(linksSecret), "https://prensa.example.org", o.clock.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	o.signer = signer
	o.redisAPI = newRedisAPI(t, func(c *Config) {
		c.Links = signer
		c.EmailHasher = signer
		c.PublicRate = 100000
		c.Optin = &Optin{Store: nil, Queue: o.mails}
	})
	o.srv.optin.Store = o.store
	return o
}

// list creates a list of kind and returns its id.
func (o *optinAPI) list(kind string) string {
	o.t.Helper()
	var l struct{ ID string }
	o.must("POST", "/v1/lists", `{"name":"Boletín <b>de</b> prensa","kind":"`+kind+`"}`, http.StatusCreated, &l)
	return l.ID
}

// public sends a request without a token.
func (o *optinAPI) public(method, path, ctype, body string) *httptest.ResponseRecorder {
	o.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	o.srv.ServeHTTP(w, r)
	return w
}

func (o *optinAPI) subscribeForm(list, email, name, lang string) *httptest.ResponseRecorder {
	o.t.Helper()
	return o.public("POST", "/subscribe/"+list, "application/x-www-form-urlencoded",
		url.Values{"email": {email}, "name": {name}, "language": {lang}}.Encode())
}

// members returns the list's members as GET /v1/lists/{id}/contacts?query
// shows them: email → status.
func (o *optinAPI) members(list, query string) map[string]string {
	o.t.Helper()
	var p struct {
		Items []struct {
			Email      string          `json:"email"`
			Status     string          `json:"status"`
			Suppressed json.RawMessage `json:"suppressed"`
		} `json:"items"`
	}
	o.must("GET", "/v1/lists/"+list+"/contacts?"+query, "", http.StatusOK, &p)
	out := map[string]string{}
	for _, m := range p.Items {
		if string(m.Suppressed) == "" {
			o.t.Errorf("member %s has no suppressed field", m.Email)
		}
		out[m.Email] = m.Status
	}
	return out
}

// TestSubscribeForm checks the form page: only for subscriber lists, with
// labelled fields, no script, the page's own style, the list's name escaped.
func TestSubscribeForm(t *testing.T) {
	o := newOptinAPI(t)
	press, subs := o.list("press"), o.list("subscribers")
	for _, path := range []string{"/subscribe/" + press, "/subscribe/lst_00000000000000000000000000", "/subscribe/x"} {
		if w := o.public("GET", path, "", ""); w.Code != http.StatusNotFound {
			t.Errorf("GET %s = %d, want 404", path, w.Code)
		}
		if w := o.subscribeForm(strings.TrimPrefix(path, "/subscribe/"), "ana@example.org", "", "es"); w.Code != http.StatusNotFound {
			t.Errorf("POST %s = %d, want 404", path, w.Code)
		}
	}
	w := o.public("GET", "/subscribe/"+subs+"?lang=en", "", "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET form = %d:\n%s", w.Code, w.Body)
	}
	checkPageHeaders(t, w)
	page := w.Body.String()
	for _, want := range []string{`<form method="post">`, `<label for="email">Email address</label>`, `<input id="email" name="email" type="email"`,
		`<label for="name">`, `<legend>Language of the statements</legend>`, `value="en" checked`, `Boletín &lt;b&gt;de&lt;/b&gt; prensa`, `lang="en"`} {
		if !strings.Contains(page, want) {
			t.Errorf("the form lacks %q:\n%s", want, page)
		}
	}
	if strings.Contains(page, "<script") || strings.Contains(page, "<b>") {
		t.Errorf("the form has a script or unescaped markup:\n%s", page)
	}
}

// TestSubscribeSameAnswer signs up a new address, a pending one, a
// confirmed one and a suppressed one, by form and by JSON: the answers are
// byte for byte the same; only new and pending addresses are sent a
// confirmation email, in the language chosen.
func TestSubscribeSameAnswer(t *testing.T) {
	o := newOptinAPI(t)
	list := o.list("subscribers")
	o.addMember(list, "carla@example.org")
	if err := o.store.Suppress(context.Background(), "gone@example.org", "complaint"); err != nil {
		t.Fatal(err)
	}
	var forms, jsons []string
	for _, email := range []string{"ana@example.org", "ana@example.org", "carla@example.org", "gone@example.org", "Dora@Example.org"} {
		w := o.subscribeForm(list, email, "Ana", "en")
		if w.Code != http.StatusOK {
			t.Fatalf("form for %s = %d:\n%s", email, w.Code, w.Body)
		}
		forms = append(forms, w.Body.String())
		w = o.public("POST", "/subscribe/"+list, "application/json", `{"email":"`+email+`","language":"en"}`)
		if w.Code != http.StatusAccepted || w.Header().Get("Content-Type") != "application/json" {
			t.Fatalf("JSON for %s = %d %s:\n%s", email, w.Code, w.Header().Get("Content-Type"), w.Body)
		}
		jsons = append(jsons, w.Body.String())
	}
	for i := range forms {
		if forms[i] != forms[0] || jsons[i] != jsons[0] {
			t.Errorf("answer %d differs:\n%s\n%s\nfrom\n%s\n%s", i, forms[i], jsons[i], forms[0], jsons[0])
		}
	}
	if !strings.Contains(forms[0], "Check your email") {
		t.Errorf("form answer:\n%s", forms[0])
	}
	// Ana 4 times (2 forms, 2 JSON) capped at 3; Dora twice; Carla and the
	// suppressed address never.
	got := map[string]int{}
	for _, c := range o.mails.sent {
		got[c.Email]++
		if c.ListID != list || c.Language != "en" {
			t.Errorf("confirmation %+v", c)
		}
	}
	if got["ana@example.org"] != DefaultMaxConfirmationMails || got["dora@example.org"] != 2 || len(got) != 2 {
		t.Errorf("confirmation emails per address = %v; want ana %d, dora 2", got, DefaultMaxConfirmationMails)
	}
	if st := o.members(list, ""); st["ana@example.org"] != "pending" || st["dora@example.org"] != "pending" || st["carla@example.org"] != "confirmed" || len(st) != 3 {
		t.Errorf("members = %v", st)
	}
	if st := o.members(list, "status=pending"); len(st) != 2 || st["carla@example.org"] != "" {
		t.Errorf("pending members = %v", st)
	}
	if w := o.do("GET", "/v1/lists/"+list+"/contacts?status=maybe", viewerToken, ""); w.Code != http.StatusBadRequest {
		t.Errorf("?status=maybe = %d, want 400", w.Code)
	}
}

// TestSubscribeRefusesBadInput refuses a bad address, a name that would
// inject a header (CR LF) or holds control characters, and an unknown
// language: the form shows itself again with the error and the values
// (escaped), JSON gets a problem; nothing is stored or sent.
func TestSubscribeRefusesBadInput(t *testing.T) {
	o := newOptinAPI(t)
	list := o.list("subscribers")
	for _, c := range []struct{ name, email, person, lang, field string }{
		{"bad address", "not-an-address", "Ana", "es", "email"},
		{"header injection", "ana@example.org", "Ana\r\nBcc: victim@example.net", "es", "name"},
		{"bare LF", "ana@example.org", "Ana\nSubject: hi", "es", "name"},
		{"control character", "ana@example.org", "Ana\x1b[31m", "es", "name"},
		{"too long", "ana@example.org", strings.Repeat("a", 201), "es", "name"},
	} {
		t.Run(c.name, func(t *testing.T) {
			w := o.subscribeForm(list, c.email, c.person, c.lang)
			if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `role="alert"`) ||
				!strings.Contains(w.Body.String(), `<form method="post">`) {
				t.Errorf("form = %d:\n%s", w.Code, w.Body)
			}
			body, _ := json.Marshal(map[string]string{"email": c.email, "name": c.person, "language": c.lang})
			w = o.public("POST", "/subscribe/"+list, "application/json", string(body))
			p := problemOf(t, w, http.StatusBadRequest)
			if len(p.Errors) != 1 || p.Errors[0].Field != c.field {
				t.Errorf("JSON problem %+v, want one error on %s", p, c.field)
			}
		})
	}
	w := o.public("POST", "/subscribe/"+list, "application/json", `{"email":"ana@example.org","language":"fr"}`)
	if p := problemOf(t, w, http.StatusBadRequest); len(p.Errors) != 1 || p.Errors[0].Field != "language" {
		t.Errorf("language fr: %+v", p)
	}
	w = o.subscribeForm(list, "x", `"><script>alert(1)</script>`, "es")
	if strings.Contains(w.Body.String(), "<script>alert") {
		t.Errorf("the name is shown unescaped:\n%s", w.Body)
	}
	if n := o.mails.count(); n != 0 {
		t.Errorf("%d confirmation emails for refused sign-ups", n)
	}
	if st := o.members(list, ""); len(st) != 0 {
		t.Errorf("members after refused sign-ups: %v", st)
	}
}

// TestConfirmLink follows a confirmation link: the GET page shows a button
// and confirms nothing; a POST without the button's field confirms
// nothing; the button's POST confirms, once, with an audit entry; forged,
// foreign and expired tokens get their pages.
func TestConfirmLink(t *testing.T) {
	o := newOptinAPI(t)
	list := o.list("subscribers")
	if w := o.subscribeForm(list, "ana@example.org", "Ana", "es"); w.Code != http.StatusOK {
		t.Fatalf("subscribe = %d", w.Code)
	}
	link := o.signer.ConfirmURL("ana@example.org", list)
	path := strings.TrimPrefix(link, "https://prensa.example.org")

	w := o.public("GET", path, "", "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `<input type="hidden" name="confirm" value="yes">`) ||
		!strings.Contains(w.Body.String(), "ana@example.org") {
		t.Fatalf("GET %s = %d:\n%s", path, w.Code, w.Body)
	}
	checkPageHeaders(t, w)
	if st := o.members(list, ""); st["ana@example.org"] != "pending" {
		t.Fatalf("after the GET: %v, want pending", st)
	}
	if w := o.public("POST", path, "application/x-www-form-urlencoded", ""); w.Code != http.StatusBadRequest {
		t.Errorf("POST without confirm=yes = %d, want 400", w.Code)
	}
	if st := o.members(list, ""); st["ana@example.org"] != "pending" {
		t.Fatalf("after a bare POST: %v, want pending", st)
	}
	for i := range 2 {
		w = o.public("POST", path, "application/x-www-form-urlencoded", "confirm=yes")
		if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Suscripción confirmada") {
			t.Fatalf("POST %d = %d:\n%s", i, w.Code, w.Body)
		}
	}
	if st := o.members(list, ""); st["ana@example.org"] != "confirmed" {
		t.Errorf("after the POST: %v, want confirmed", st)
	}
	page, err := o.store.AuditEntries(context.Background(), audit.Query{Limit: 100, Oldest: true})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range page.Entries {
		if e.Target == list && e.Actor == "public" {
			if _, ok := e.Detail["email"]; ok {
				t.Errorf("%s names the address in the clear: %v", e.Action, e.Detail)
			}
			actions = append(actions, string(e.Action)+" "+e.Detail["email_hmac"].(string))
		}
	}
	if h := o.signer.HashEmail("ana@example.org"); strings.Join(actions, ",") != "contact.subscribe "+h+",contact.confirm "+h {
		t.Errorf("audit entries %v", actions)
	}

	forger, err := links.New([]byte("guessed-secret-0123456789"), "https://prensa.example.org", o.clock.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	unsub := o.signer.UnsubscribeURL("ana@example.org", list)
	for _, c := range []struct {
		name, path string
		status     int
	}{
		{"forged", strings.TrimPrefix(forger.ConfirmURL("ana@example.org", list), "https://prensa.example.org"), http.StatusBadRequest},
		{"an unsubscribe token", "/confirm/" + strings.TrimPrefix(unsub, "https://prensa.example.org/u/"), http.StatusBadRequest},
		{"garbage", "/confirm/not-a-token", http.StatusBadRequest},
		{"one character changed", path[:len(path)-1] + map[bool]string{true: "B", false: "A"}[path[len(path)-1] == 'A'], http.StatusBadRequest},
	} {
		for _, method := range []string{"GET", "POST"} {
			w := o.public(method, c.path, "application/x-www-form-urlencoded", "confirm=yes")
			if w.Code != c.status || !strings.Contains(w.Body.String(), "Enlace no válido") || strings.Contains(w.Body.String(), "<form") {
				t.Errorf("%s %s = %d:\n%s", c.name, method, w.Code, w.Body)
			}
		}
	}

	// A link older than 48 hours has expired, and confirms nothing.
	if w := o.subscribeForm(list, "bob@example.org", "", "es"); w.Code != http.StatusOK {
		t.Fatal(w.Code)
	}
	old := strings.TrimPrefix(o.signer.ConfirmURL("bob@example.org", list), "https://prensa.example.org")
	o.clock.Add(links.ConfirmTTL)
	for _, method := range []string{"GET", "POST"} {
		w := o.public(method, old, "application/x-www-form-urlencoded", "confirm=yes")
		if w.Code != http.StatusGone || !strings.Contains(w.Body.String(), "Enlace caducado") {
			t.Errorf("expired %s = %d:\n%s", method, w.Code, w.Body)
		}
	}
	if st := o.members(list, ""); st["bob@example.org"] != "pending" {
		t.Errorf("after an expired link: %v, want pending", st)
	}
	// A member removed by a coordinator cannot confirm with an old link.
	fresh := strings.TrimPrefix(o.signer.ConfirmURL("bob@example.org", list), "https://prensa.example.org")
	o.must("DELETE", "/v1/lists/"+list+"/contacts/bob@example.org", "", http.StatusNoContent, nil)
	if w := o.public("POST", fresh, "application/x-www-form-urlencoded", "confirm=yes"); w.Code != http.StatusGone {
		t.Errorf("confirm after removal = %d, want 410", w.Code)
	}
	if st := o.members(list, ""); len(st) != 1 {
		t.Errorf("members after removal %v", st)
	}
}

// TestSubscribeRateLimitedJSON checks that the per-client limit of the
// public pages holds on the subscribe endpoint, and that a JSON client
// gets its 429 as problem+json.
func TestSubscribeRateLimitedJSON(t *testing.T) {
	o := newOptinAPI(t)
	o.srv.rates[rolePublic] = 2
	list := o.list("subscribers")
	var last *httptest.ResponseRecorder
	for range 20 {
		last = o.public("POST", "/subscribe/"+list, "application/json", `{"email":"ana@example.org"}`)
		if last.Code == http.StatusTooManyRequests {
			break
		}
	}
	problemOf(t, last, http.StatusTooManyRequests)
	if last.Header().Get("Retry-After") == "" {
		t.Error("no Retry-After")
	}
}
