package api

import (
	"net/http"
	"testing"
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
			if w := a.do("GET", "/readyz", "", ""); w.Code != http.StatusOK {
				t.Errorf("readyz after Redis is back = %d, want 200", w.Code)
			}
			if c.name == "frozen" { // a restarted test Redis has lost its data
				a.must("GET", "/v1/lists/"+list, "", http.StatusOK, nil)
			}
		})
	}
}
