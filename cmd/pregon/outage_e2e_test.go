package main

import (
	"net/http"
	"testing"
	"time"
)

// TestEndToEndRedisFrozen: with Redis frozen (SIGSTOP), /healthz answers 200
// and /readyz 503 within its own short timeout, even with go-redis's read
// and write timeouts an hour long: every Redis call honours its context's
// deadline (ContextTimeoutEnabled). Without it the readiness ping would wait
// the hour, and the client below would give up.
func TestEndToEndRedisFrozen(t *testing.T) {
	s := startService(t, func(s *service) {
		s.env["PREGON_REDIS_URL"] += "?read_timeout=1h&write_timeout=1h"
	})
	s.redis.Freeze(t)
	defer s.redis.Thaw(t)
	client := &http.Client{Timeout: 30 * time.Second} // a guard against a hang, not a timing assertion
	for _, c := range []struct {
		path string
		want int
	}{{"/healthz", http.StatusOK}, {"/readyz", http.StatusServiceUnavailable}} {
		resp, err := client.Get(s.url + c.path)
		if err != nil {
			t.Fatalf("GET %s while Redis is frozen: %v", c.path, err)
		}
		resp.Body.Close()
		if resp.StatusCode != c.want {
			t.Errorf("GET %s while Redis is frozen = %d, want %d", c.path, resp.StatusCode, c.want)
		}
		if c.want == http.StatusServiceUnavailable && resp.Header.Get("Retry-After") == "" {
			t.Errorf("GET %s: no Retry-After", c.path)
		}
	}
}
