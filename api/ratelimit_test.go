package api

import (
	"context"
	"errors"
	"github.com/pregon/pregon/ratelimit"
	"net/http"
	"net/http/httptest"
	"net/netip"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/internal/redistest"
)

// fakeLimiter allows the first n requests of each key, then refuses.
type fakeLimiter struct {
	mu    sync.Mutex
	n     int
	err   error
	calls map[string]int
	rates map[string]int
}

func (f *fakeLimiter) Allow(ctx context.Context, key string, rate int) (time.Duration, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if f.err != nil {
		return 0, f.err
	}
	f.calls[key]++
	f.rates[key] = rate
	if f.calls[key] > f.n {
		return 1500 * time.Millisecond, nil
	}
	return 0, nil
}

// TestLivenessNeedsNoRedis checks that /healthz never asks the rate limiter
// (which lives in Redis) or the store: a Redis outage must not fail liveness.
func TestLivenessNeedsNoRedis(t *testing.T) {
	lim := &fakeLimiter{n: 0, calls: map[string]int{}, rates: map[string]int{}}
	h := newHarness(t, func(c *Config) { c.Limiter = lim })
	h.store.pingErr = errors.New("dial tcp: connection refused")
	for range 3 {
		if w := h.do("GET", "/healthz", "", "", ""); w.Code != http.StatusOK {
			t.Fatalf("healthz = %d, want 200 with the limiter refusing and the store down", w.Code)
		}
	}
	if len(lim.calls) != 0 {
		t.Errorf("healthz asked the rate limiter: %v", lim.calls)
	}
}

// TestEveryPublicRouteIsRateLimited walks the route table: every route that
// takes no token is limited per client, and over the limit answers 429
// with a Retry-After; routes with a token are not limited.
func TestEveryPublicRouteIsRateLimited(t *testing.T) {
	lim := &fakeLimiter{n: 2, calls: map[string]int{}, rates: map[string]int{}}
	h := newHarness(t, func(c *Config) { c.Limiter = lim; c.PublicRate = 7 })
	for _, rt := range h.srv.routes() {
		method, path := concrete(rt.pattern)
		if rt.role == roleLive {
			continue // TestLivenessNeedsNoRedis
		}
		if rt.role != rolePublic && rt.role != roleProbe {
			h.do(method, path, adminToken, "", "")
			continue
		}
		t.Run(rt.pattern, func(t *testing.T) {
			for i := range 3 {
				r := httptest.NewRequest(method, path, nil)
				r.RemoteAddr = "203.0.113.7:5555"
				w := h.serve(r)
				if i < 2 {
					if w.Code == http.StatusTooManyRequests {
						t.Fatalf("request %d refused", i)
					}
					continue
				}
				if w.Code != http.StatusTooManyRequests || w.Header().Get("Retry-After") != "2" {
					t.Fatalf("third request: %d, Retry-After %q; want 429, 2", w.Code, w.Header().Get("Retry-After"))
				}
				if rt.page {
					checkPageHeaders(t, w)
				} else {
					problemOf(t, w, http.StatusTooManyRequests)
				}
			}
			// Another client is not held back.
			r := httptest.NewRequest(method, path, nil)
			r.RemoteAddr = "198.51.100.1:5555"
			if w := h.serve(r); w.Code == http.StatusTooManyRequests {
				t.Errorf("another client refused")
			}
		})
	}
	for key, rate := range lim.rates {
		want := 7
		if strings.Contains(key, "readyz") {
			want = DefaultProbeRate
		}
		if rate != want {
			t.Errorf("key %s limited at %d a minute, want %d", key, rate, want)
		}
		if strings.Contains(key, "/v1/") {
			t.Errorf("a route with a token was rate-limited: %s", key)
		}
	}
	if len(lim.calls) != 2*(len(deliberatelyPublic)-1) { // all but /healthz
		t.Errorf("limiter keys %v: want one per public route and client", lim.calls)
	}
}

// TestRateLimiterDownLetsThrough checks that a failing limiter (Redis down)
// does not take the readiness check down with it.
func TestRateLimiterDownLetsThrough(t *testing.T) {
	lim := &fakeLimiter{err: errors.New("dial tcp: connection refused")}
	h := newHarness(t, func(c *Config) { c.Limiter = lim })
	if w := h.do("GET", "/readyz", "", "", ""); w.Code != http.StatusOK {
		t.Errorf("readyz = %d", w.Code)
	}
	if !strings.Contains(h.logs.String(), "rate limiter unavailable") {
		t.Errorf("log lacks the limiter failure:\n%s", h.logs)
	}
}

// TestRedisLimiter runs the Redis limiter on a real Redis: a client gets a
// burst, then is refused with a Retry-After, while another client is not;
// X-Forwarded-For counts only from a trusted proxy.
func TestRedisLimiter(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	proxies, err := ParseProxies("10.0.0.0/8, 192.0.2.1")
	if err != nil {
		t.Fatal(err)
	}
	h := newHarness(t, func(c *Config) {
		c.Limiter = &ratelimit.PerClient{L: ratelimit.New(rdb), Burst: ratelimit.ClientBurst}
		c.PublicRate = 2 // one every 30 s after the burst
		c.TrustedProxies = proxies
	})
	path := h.unsubscribePath("ana@example.org")
	get := func(remote string, xff ...string) *httptest.ResponseRecorder {
		r := httptest.NewRequest("GET", path, nil)
		r.RemoteAddr = remote
		for _, v := range xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		return h.serve(r)
	}
	for i := range ratelimit.ClientBurst {
		if w := get("203.0.113.7:1000"); w.Code != http.StatusOK {
			t.Fatalf("request %d of the burst: %d", i, w.Code)
		}
	}
	w := get("203.0.113.7:1001")
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("request after the burst: %d", w.Code)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s < 1 || s > 30 {
		t.Errorf("Retry-After %q, want 1 to 30 s", w.Header().Get("Retry-After"))
	}
	if !strings.Contains(w.Body.String(), "Demasiadas solicitudes") {
		t.Errorf("429 page:\n%s", w.Body)
	}
	// A forged X-Forwarded-For from an untrusted address changes nothing.
	if w := get("203.0.113.7:1002", "198.51.100.9"); w.Code != http.StatusTooManyRequests {
		t.Errorf("untrusted X-Forwarded-For let through: %d", w.Code)
	}
	// Through the trusted proxies, the client is the address before them.
	if w := get("10.1.2.3:80", "203.0.113.99, 192.0.2.1"); w.Code != http.StatusOK {
		t.Errorf("another client through the proxy: %d", w.Code)
	}
	if w := get("10.1.2.3:80", "6.6.6.6, 203.0.113.7"); w.Code != http.StatusTooManyRequests {
		t.Errorf("the limited client through the proxy: %d", w.Code)
	}
	// A route with a token is never limited.
	for range ratelimit.ClientBurst + 2 {
		r := httptest.NewRequest("GET", "/v1/lists", nil)
		r.RemoteAddr = "203.0.113.7:1003"
		r.Header.Set("Authorization", "Bearer "+viewerToken)
		if w := h.serve(r); w.Code != http.StatusOK {
			t.Fatalf("GET /v1/lists = %d", w.Code)
		}
	}
}

func TestClientKey(t *testing.T) {
	trusted := []netip.Prefix{netip.MustParsePrefix("10.0.0.0/8"), netip.MustParsePrefix("fd00::/8")}
	for _, c := range []struct {
		remote string
		xff    []string
		want   string
	}{
		{"203.0.113.7:5555", nil, "203.0.113.7"},
		{"[2001:db8:1:2:3:4:5:6]:443", nil, "2001:db8:1:2::/64"},
		{"[::ffff:203.0.113.7]:80", nil, "203.0.113.7"},
		{"[fe80::1%eth0]:80", nil, "fe80::/64"},
		{"203.0.113.7:5555", []string{"1.2.3.4"}, "203.0.113.7"}, // untrusted: header ignored
		{"10.0.0.1:80", nil, "10.0.0.1"},
		{"10.0.0.1:80", []string{"1.2.3.4"}, "1.2.3.4"},
		{"10.0.0.1:80", []string{"9.9.9.9, 1.2.3.4, 10.0.0.2"}, "1.2.3.4"},
		{"10.0.0.1:80", []string{"9.9.9.9", "1.2.3.4"}, "1.2.3.4"},
		{"10.0.0.1:80", []string{"garbage, 10.0.0.2"}, "10.0.0.2"},
		{"10.0.0.1:80", []string{"2001:db8::1"}, "2001:db8::/64"},
		{"not an address", nil, "unknown"},
	} {
		r := httptest.NewRequest("GET", "/", nil)
		r.RemoteAddr = c.remote
		for _, v := range c.xff {
			r.Header.Add("X-Forwarded-For", v)
		}
		if got := clientKey(r, trusted); got != c.want {
			t.Errorf("clientKey(%s, %q) = %s, want %s", c.remote, c.xff, got, c.want)
		}
	}
	if _, err := ParseProxies("10.0.0.0/8, nonsense"); err == nil || !strings.Contains(err.Error(), "nonsense") {
		t.Errorf("ParseProxies accepted nonsense: %v", err)
	}
}
