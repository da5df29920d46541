package api

import (
	"encoding/json"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func TestNewRequiresDependencies(t *testing.T) {
	h := newHarness(t)
	for _, cfg := range []Config{
		{Sender: h.sender, Previewer: fakePreviewer{}},
		{Store: h.store, Previewer: fakePreviewer{}},
		{Store: h.store, Sender: h.sender},
		{Store: h.store, Sender: h.sender, Previewer: fakePreviewer{}},
	} {
		if _, err := New(cfg); err == nil {
			t.Errorf("New(%+v) = nil error", cfg)
		}
	}
}

func TestHealth(t *testing.T) {
	h := newHarness(t)
	for _, path := range []string{"/healthz", "/readyz"} {
		w := h.do("GET", path, "", "", "")
		if w.Code != 200 || strings.TrimSpace(w.Body.String()) != `{"status":"ok"}` {
			t.Errorf("GET %s = %d %s", path, w.Code, w.Body)
		}
		checkSecurityHeaders(t, w)
	}
	h.store.pingErr = errors.New("dial tcp: connection refused")
	p := problemOf(t, h.do("GET", "/readyz", "", "", ""), http.StatusServiceUnavailable)
	if strings.Contains(p.Detail, "refused") {
		t.Errorf("problem shows the internal error: %q", p.Detail)
	}
	if w := h.do("GET", "/healthz", "", "", ""); w.Code != 200 {
		t.Errorf("healthz = %d while the store is down", w.Code)
	}
}

func TestPanicIs500Problem(t *testing.T) {
	h := newHarness(t)
	h.store.panicLists = true
	w := h.do("GET", "/v1/lists", viewerToken, "", "")
	p := problemOf(t, w, http.StatusInternalServerError)
	if strings.Contains(p.Detail, "boom") {
		t.Errorf("problem shows the panic: %q", p.Detail)
	}
	checkSecurityHeaders(t, w)
	if logs := h.logs.String(); !strings.Contains(logs, `"status":500`) || !strings.Contains(logs, "panic: boom") {
		t.Errorf("log lacks the panic:\n%s", logs)
	}
}

func TestNewHTTPServer(t *testing.T) {
	s := NewHTTPServer(":8080", http.NotFoundHandler())
	got := []any{s.Addr, s.ReadHeaderTimeout, s.ReadTimeout, s.WriteTimeout, s.IdleTimeout, s.MaxHeaderBytes}
	want := []any{":8080", 10 * time.Second, 30 * time.Second, 60 * time.Second, 120 * time.Second, 64 << 10}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("server (-want +got):\n%s", diff)
	}
}

func TestOversizedBody(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.MaxBodyBytes = 64; c.MaxUploadBytes = 128 })
	id := h.newList("Prensa")
	big := `{"name":"` + strings.Repeat("a", 100) + `","kind":"press"}`
	csv := "email\n" + strings.Repeat("ana@example.org\n", 20)
	for _, c := range []struct {
		name, path, ctype, body string
		unknownLength           bool
	}{
		{"json, declared length", "/v1/lists", "application/json", big, false},
		{"json, chunked", "/v1/lists", "application/json", big, true},
		{"csv, declared length", "/v1/lists/" + id + "/contacts", "text/csv", csv, false},
		{"csv, chunked", "/v1/lists/" + id + "/contacts", "text/csv", csv, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			r := httptestRequest("POST", c.path, c.body, c.unknownLength)
			r.Header.Set("Authorization", "Bearer "+coordToken)
			r.Header.Set("Content-Type", c.ctype)
			p := problemOf(t, h.serve(r), http.StatusRequestEntityTooLarge)
			if !strings.Contains(p.Detail, "bytes") {
				t.Errorf("detail %q", p.Detail)
			}
		})
	}
	if h.store.upsertCalls != 0 {
		t.Errorf("%d upserts after refused uploads", h.store.upsertCalls)
	}
}

func TestStoreErrorIs500(t *testing.T) {
	h := newHarness(t)
	h.store.listsErr = errors.New("redis: connection pool timeout")
	p := problemOf(t, h.do("GET", "/v1/lists", viewerToken, "", ""), http.StatusInternalServerError)
	if strings.Contains(p.Detail, "redis") || p.Detail == "" {
		t.Errorf("detail %q", p.Detail)
	}
	if logs := h.logs.String(); !strings.Contains(logs, "connection pool timeout") || !strings.Contains(logs, `"level":"ERROR"`) {
		t.Errorf("log lacks the error:\n%s", logs)
	}
}

func TestProblemShape(t *testing.T) {
	h := newHarness(t)
	w := h.do("GET", "/v1/lists/nope", viewerToken, "", "")
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
		t.Fatal(err)
	}
	want := map[string]any{"type": "about:blank", "title": "Not Found", "status": 404.0,
		"detail": "Nothing was found at /v1/lists/nope.", "errors": []any{}, "code": "not_found"}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("problem (-want +got):\n%s", diff)
	}
}
