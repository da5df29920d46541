package web

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// problemSamples are values for the problem codes' names.
var problemSamples = map[string]any{
	"max": 1048576.0, "chat_id": "@prensa_coalicion", "status": "active", "current": 4.0, "checked": 3.0, "version": 2.0,
}

// TestProblemMessages: every problem code the API can send
// (api.ProblemCodes) has a Spanish and an English text that names each of
// its values and no other, and says with sample values; the catalogue has
// no code the API lacks; every rule that reads a detail gives a code the
// API sends, with all of its values.
func TestProblemMessages(t *testing.T) {
	codes := api.ProblemCodes()
	for code, names := range codes {
		two, ok := problemMessages[code]
		if !ok {
			t.Errorf("no text for the API's problem %q", code)
			continue
		}
		args := map[string]any{}
		for _, n := range names {
			v, ok := problemSamples[n]
			if !ok {
				t.Fatalf("problem %q: no sample value named %q in problemSamples", code, n)
			}
			args[n] = v
		}
		want := slices.Sorted(slices.Values(names))
		for i, l := range []*Lang{newLang("es"), newLang("en")} {
			text := two[i]
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s %q: empty text", l.Code, code)
				continue
			}
			var used []string
			for _, m := range placeholderName.FindAllStringSubmatch(text, -1) {
				if !slices.Contains(used, m[1]) {
					used = append(used, m[1])
				}
			}
			slices.Sort(used)
			if !slices.Equal(used, want) {
				t.Errorf("%s %q names %v, want the API's values %v: %q", l.Code, code, used, want, text)
			}
			if got, ok := l.say(problemMessages, code, args); !ok || strings.ContainsAny(got, "{}#") {
				t.Errorf("%s %q with %v: %q, %v", l.Code, code, args, got, ok)
			}
		}
	}
	for code := range problemMessages {
		if _, ok := codes[code]; !ok {
			t.Errorf("text for %q, a problem code the API does not send", code)
		}
	}
	for _, r := range detailRules {
		names, ok := codes[r.code]
		if !ok {
			t.Errorf("rule %s gives %q, a code the API does not send", r.re, r.code)
		}
		if got, want := slices.Sorted(slices.Values(r.args)), slices.Sorted(slices.Values(names)); !slices.Equal(got, want) ||
			r.re.NumSubexp() != len(r.args) {
			t.Errorf("rule %s names %v of its %d groups, want %q's values %v", r.re, r.args, r.re.NumSubexp(), r.code, want)
		}
	}
}

// TestLocalizeByCode: a problem with a code the app knows is said from the
// code, whatever its detail; one whose values lack a name the text needs,
// or whose code the app does not know, is read from its detail as before.
func TestLocalizeByCode(t *testing.T) {
	es := newLang("es")
	reworded := "A newer API words this conflict its own way."
	got := localize(es, &Problem{FromAPI: true, Status: 409, Detail: reworded, Code: "release.version_conflict", Args: map[string]any{"current": 4.0}})
	if want := "El comunicado cambió mientras lo mirabas (ahora es la versión 4): vuelve a cargarlo y revísalo."; got.Detail != want || got.Original != reworded {
		t.Errorf("by code: %q (original %q), want %q", got.Detail, got.Original, want)
	}
	old := "The release is at version 5, not 4: it changed since you read it."
	for _, p := range []*Problem{
		{FromAPI: true, Status: 409, Detail: old, Code: "release.version_conflict"},      // a value missing
		{FromAPI: true, Status: 409, Detail: old, Code: "release.something_new_to_us"},   // a newer code
		{FromAPI: true, Status: 409, Detail: old, Args: map[string]any{"current": 99.0}}, // no code
	} {
		if got := localize(es, p); !strings.Contains(got.Detail, "ahora es la versión 5") {
			t.Errorf("%+v said as %q, want it read from the detail", p, got.Detail)
		}
	}
	if got := localize(es, &Problem{FromAPI: true, Status: 409, Detail: reworded, Code: "release.something_new_to_us"}); got.Detail != es.T("error.409") {
		t.Errorf("unknown code and detail: %q, want the general sentence", got.Detail)
	}
	big := localize(es, &Problem{FromAPI: true, Status: 413, Detail: "The request body is larger than 1048576 bytes."})
	if !strings.HasPrefix(big.Detail, "Lo enviado es demasiado grande: el máximo es ") {
		t.Errorf("too big, read from the detail: %q", big.Detail)
	}
}

// TestProblemByCodeOverHTTP: a Spanish session whose approval the API
// refuses as a stale version sees the Spanish sentence, said from the
// problem's code: the API here words its detail in a way no rule reads,
// and a problem so worded without a code gets the general sentence.
func TestProblemByCodeOverHTTP(t *testing.T) {
	ctx := context.Background()
	st := store.New(redistest.Start(t).Client(t), time.Now)
	if err := st.CreateUser(ctx, &auth.User{Email: "ana@coalicion.example", Name: "Ana Torres", Role: auth.RoleCoordinator}); err != nil {
		t.Fatal(err)
	}
	const sessionID, csrf = "session-of-ana-0123456789", "csrf-of-ana-0123456789"
	if err := st.CreateSession(ctx, auth.Hash(sessionID), &store.Session{Email: "ana@coalicion.example", CSRF: csrf}, time.Hour); err != nil {
		t.Fatal(err)
	}
	const reworded = "A newer API words this conflict its own way."
	var withCode atomic.Bool
	withCode.Store(true)
	fakeAPI := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var in struct{ Version int }
		if r.Method != "POST" || r.URL.Path != "/v1/releases/rel_1/approve" || json.NewDecoder(r.Body).Decode(&in) != nil || in.Version != 3 {
			http.Error(w, "unexpected request "+r.Method+" "+r.URL.Path, http.StatusTeapot)
			return
		}
		p := api.Problem{Type: "about:blank", Title: "Conflict", Status: http.StatusConflict, Detail: reworded, Errors: []api.FieldError{}}
		if withCode.Load() {
			p.Code, p.Args = "release.version_conflict", map[string]any{"current": 4}
		}
		w.Header().Set("Content-Type", "application/problem+json")
		w.WriteHeader(p.Status)
		json.NewEncoder(w).Encode(p)
	})
	app, err := New(Config{Store: st, API: fakeAPI})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(app)
	t.Cleanup(srv.Close)
	jar, _ := cookiejar.New(nil)
	u, _ := url.Parse(srv.URL)
	jar.SetCookies(u, []*http.Cookie{{Name: sessionCookie, Value: sessionID, Path: "/"}})
	client := &http.Client{Jar: jar}
	approve := func() (int, string) {
		t.Helper()
		req, _ := http.NewRequest("POST", srv.URL+"/app/releases/rel_1/approve", strings.NewReader(url.Values{"csrf": {csrf}, "version": {"3"}}.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		req.Header.Set("Accept-Language", "es")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, err := io.ReadAll(resp.Body)
		if err != nil {
			t.Fatal(err)
		}
		return resp.StatusCode, string(b)
	}

	status, body := approve()
	if status != http.StatusConflict || !strings.Contains(body, "El comunicado cambió mientras lo mirabas (ahora es la versión 4): vuelve a cargarlo y revísalo.") ||
		!strings.Contains(body, reworded) {
		t.Errorf("approval refused with a code: %d, want 409 with the Spanish sentence and the English below\n%.3000s", status, body)
	}
	withCode.Store(false)
	status, body = approve()
	if status != http.StatusConflict || strings.Contains(body, "ahora es la versión") || !strings.Contains(body, newLang("es").T("error.409")) {
		t.Errorf("the same detail without a code: %d, want 409 with the general sentence\n%.3000s", status, body)
	}
}
