package api

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/links"
	"github.com/redis/go-redis/v9"
)

// TestRedisOutageAnswers503: with Redis stopped or frozen (SIGSTOP), /v1
// used to answer 500 "Something went wrong" and /healthz waited on the rate
// limiter's Redis call. Now /healthz answers 200 (liveness needs no Redis),
// /readyz 503, and every /v1 request 503 with Retry-After.
func TestRedisOutageAnswers503(t *testing.T) {
	for _, c := range []struct {
		name string
		down func(a *redisAPI)
		up   func(a *redisAPI)
	}{
		{"stopped", func(a *redisAPI) { a.redis.Stop() }, func(a *redisAPI) { a.redis.Restart(a.t) }},
		{"frozen", func(a *redisAPI) { a.redis.Freeze(a.t) }, func(a *redisAPI) { a.redis.Thaw(a.t) }},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newRedisAPI(t)
			list := a.newList()
			c.down(a)

			for range 3 {
				if w := a.do("GET", "/healthz", "", ""); w.Code != http.StatusOK {
					t.Fatalf("healthz = %d while Redis is %s, want 200", w.Code, c.name)
				}
			}
			w := a.do("GET", "/readyz", "", "")
			problemOf(t, w, http.StatusServiceUnavailable)
			if w.Header().Get("Retry-After") == "" {
				t.Errorf("readyz: no Retry-After")
			}
			for _, r := range []struct{ method, path, body string }{
				{"GET", "/v1/lists/" + list, ""},
				{"POST", "/v1/lists", `{"name":"Prensa","kind":"press"}`},
			} {
				w := a.do(r.method, r.path, coordToken, r.body)
				p := problemOf(t, w, http.StatusServiceUnavailable)
				if w.Header().Get("Retry-After") == "" || p.Detail == "" {
					t.Errorf("%s %s: Retry-After %q, detail %q; want both", r.method, r.path, w.Header().Get("Retry-After"), p.Detail)
				}
			}

			c.up(a)
			for deadline := time.Now().Add(20 * time.Second); ; time.Sleep(20 * time.Millisecond) {
				w := a.do("GET", "/readyz", "", "")
				if w.Code == http.StatusOK {
					break
				}
				if time.Now().After(deadline) {
					t.Fatalf("readyz after Redis is back = %d, want 200", w.Code)
				}
			}
			if c.name == "frozen" { // a restarted test Redis has lost its data
				a.must("GET", "/v1/lists/"+list, "", http.StatusOK, nil)
			}
		})
	}
}

// TestRedisReadOnlyAnswers503: a Redis that has become a replica (a
// failover in progress) refuses writes with READONLY; a write answers 503
// with Retry-After, and reads go on.
func TestRedisReadOnlyAnswers503(t *testing.T) {
	a := newRedisAPI(t)
	list := a.newList()
	admin := a.redis.Client(t)
	if err := admin.Do(context.Background(), "REPLICAOF", "127.0.0.1", "1").Err(); err != nil {
		t.Fatal(err)
	}
	w := a.do("POST", "/v1/lists", coordToken, `{"name":"Prensa","kind":"press"}`)
	problemOf(t, w, http.StatusServiceUnavailable)
	if w.Header().Get("Retry-After") == "" {
		t.Errorf("no Retry-After")
	}
	a.must("GET", "/v1/lists/"+list, "", http.StatusOK, nil)
}

// TestUnavailableErrors pins which errors mean "Redis cannot serve now".
func TestUnavailableErrors(t *testing.T) {
	refused := &net.OpError{Op: "dial", Net: "tcp", Err: syscall.ECONNREFUSED}
	for _, c := range []struct {
		err  error
		want bool
	}{
		{fmt.Errorf("get release: %w", refused), true},
		{fmt.Errorf("token: %w", context.DeadlineExceeded), true},
		{fmt.Errorf("lists: %w", io.EOF), true},
		{fmt.Errorf("lists: %w", redis.ErrPoolTimeout), true},
		{redis.ErrClosed, true},
		{errors.New("boom"), false},
		{fmt.Errorf("release: %w", dispatcher.ErrNotFound), false},
		{context.Canceled, false},
	} {
		if got := unavailable(c.err); got != c.want {
			t.Errorf("unavailable(%v) = %v, want %v", c.err, got, c.want)
		}
	}
}

// TestPublicPageRedisDownAnswers503: the unsubscribe page answers 503 with
// Retry-After, not 500, while Redis is down.
func TestPublicPageRedisDownAnswers503(t *testing.T) {
	signer, err := links.New([]byte(linksSecret), "https://prensa.example.org", time.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	a := newRedisAPI(t, func(c *Config) { c.Links = signer })
	path := strings.TrimPrefix(signer.UnsubscribeURL("ana@example.org", "rel_1"), "https://prensa.example.org")
	a.redis.Stop()
	r := httptest.NewRequest("POST", path, strings.NewReader("List-Unsubscribe=One-Click"))
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	w := httptest.NewRecorder()
	a.srv.ServeHTTP(w, r)
	if w.Code != http.StatusServiceUnavailable || w.Header().Get("Retry-After") == "" {
		t.Errorf("unsubscribe with Redis down: %d, Retry-After %q; want 503 with one", w.Code, w.Header().Get("Retry-After"))
	}
}
