package api

import (
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/links"
)

// Tokens the harness's store knows.
const (
	adminToken  = "pgn_admin_secret"
	coordToken  = "pgn_coordinator_secret"
	viewerToken = "pgn_viewer_secret"
	oddToken    = "pgn_odd_secret" // stored with a role that is not valid
)

var t0 = time.Date(2025, 6, 1, 9, 0, 0, 0, time.UTC)

// linksSecret is the secret of the harness's links signer (PREGON_SECRET).
const linksSecret = "pregon-links-test-secret-4f1c9a"

type harness struct {
	t      *testing.T
	srv    *Server
	store  *memStore
	audit  *memAudit
	sender *fakeSender
	logs   *testkit.Buffer
	links  *links.Signer
	clock  *testkit.Clock // the links signer's clock
}

// newHarness returns a Server over fakes; mod may change its Config.
func newHarness(t *testing.T, mod ...func(*Config)) *harness {
	t.Helper()
	now := func() time.Time { return t0 }
	st := newMemStore(now)
	st.addToken(adminToken, auth.RoleAdmin)
	st.addToken(coordToken, auth.RoleCoordinator)
	st.addToken(viewerToken, auth.RoleViewer)
	st.addToken(oddToken, "guest")
	h := &harness{t: t, store: st, audit: &memAudit{}, sender: &fakeSender{store: st}, logs: &testkit.Buffer{}, clock: testkit.NewClock(t0)}
	signer, err := links.New([]byte(linksSecret), "https://prensa.example.org", h.clock.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	h.links = signer
	cfg := Config{Store: st, Sender: h.sender, Previewer: fakePreviewer{}, Audit: h.audit, Now: now, Links: signer,
		Logger: slog.New(slog.NewJSONHandler(h.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	h.srv = srv
	return h
}

// do sends a request with a token ("" for none) and a body of a content type.
func (h *harness) do(method, path, token, ctype, body string) *httptest.ResponseRecorder {
	h.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	return w
}

// json sends a JSON request as a coordinator.
func (h *harness) json(method, path, body string) *httptest.ResponseRecorder {
	h.t.Helper()
	return h.do(method, path, coordToken, "application/json", body)
}

// mustJSON sends a JSON request as a coordinator, checks the status and
// decodes the answer into v (when not nil).
func (h *harness) mustJSON(method, path, body string, want int, v any) {
	h.t.Helper()
	w := h.json(method, path, body)
	if w.Code != want {
		h.t.Fatalf("%s %s: status %d, want %d; body %s", method, path, w.Code, want, w.Body)
	}
	if v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			h.t.Fatalf("%s %s: %v in %s", method, path, err, w.Body)
		}
	}
}

func (h *harness) newList(name string) string {
	h.t.Helper()
	var l dispatcher.List
	h.mustJSON("POST", "/v1/lists", `{"name":"`+name+`","kind":"press"}`, http.StatusCreated, &l)
	return l.ID
}

func (h *harness) newChannel(chatID string) string {
	h.t.Helper()
	var c dispatcher.TelegramChannel
	h.mustJSON("POST", "/v1/telegram/channels", `{"chat_id":"`+chatID+`"}`, http.StatusCreated, &c)
	return c.ID
}

// problemOf checks that w is a problem response with the status and returns it.
func problemOf(t *testing.T, w *httptest.ResponseRecorder, status int) Problem {
	t.Helper()
	if w.Code != status {
		t.Fatalf("status %d, want %d; body %s", w.Code, status, w.Body)
	}
	if ct := w.Header().Get("Content-Type"); ct != "application/problem+json" {
		t.Fatalf("Content-Type %q, want application/problem+json", ct)
	}
	var p Problem
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatalf("problem body: %v in %s", err, w.Body)
	}
	if p.Status != status || p.Type == "" || p.Title == "" {
		t.Fatalf("problem %+v: want status %d and a type and title", p, status)
	}
	return p
}

// fieldsOf returns the field names of a problem's errors.
func fieldsOf(p Problem) []string {
	var out []string
	for _, e := range p.Errors {
		out = append(out, e.Field)
	}
	return out
}

func newRequest(method, path string) *http.Request {
	return httptest.NewRequest(method, path, nil)
}

func (h *harness) serve(r *http.Request) *httptest.ResponseRecorder {
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	return w
}

func checkSecurityHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	checkHeaders(t, w, map[string]string{"Content-Security-Policy": "default-src 'none'; frame-ancestors 'none'"})
}

// checkHeaders checks that w has the headers every answer has
// (X-Content-Type-Options: nosniff, Cache-Control: no-store) and each
// header of want with its value.
func checkHeaders(t *testing.T, w *httptest.ResponseRecorder, want map[string]string) {
	t.Helper()
	want["X-Content-Type-Options"], want["Cache-Control"] = "nosniff", "no-store"
	for k, v := range want {
		if got := w.Header().Get(k); got != v {
			t.Errorf("%s = %q, want %q", k, got, v)
		}
	}
}

// httptestRequest returns a request with body; unknownLength hides its length
// as a chunked upload would.
func httptestRequest(method, path, body string, unknownLength bool) *http.Request {
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if unknownLength {
		r.ContentLength = -1
		r.Body = io.NopCloser(strings.NewReader(body))
	}
	return r
}
