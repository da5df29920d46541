package api

import (
	"encoding/base64"
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"
)

// opsHandler answers 200 with its name and the path it was given.
func opsHandler(name string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Write([]byte(name + " " + r.Method + " " + r.URL.Path))
	})
}

func withOps(c *Config) {
	c.Metrics = opsHandler("metrics")
	c.Monitoring = opsHandler("monitoring")
}

func basic(user, token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+token))
}

func TestOpsEndpointsAdminOnly(t *testing.T) {
	h := newHarness(t, withOps)
	tests := []struct {
		name, method, path, auth string
		want                     int
		body                     string
	}{
		{"metrics without token", "GET", "/metrics", "", 401, ""},
		{"metrics viewer", "GET", "/metrics", "Bearer " + viewerToken, 403, ""},
		{"metrics coordinator", "GET", "/metrics", "Bearer " + coordToken, 403, ""},
		{"metrics admin", "GET", "/metrics", "Bearer " + adminToken, 200, "metrics GET /metrics"},
		{"metrics basic is for the dashboard only", "GET", "/metrics", basic("ops", adminToken), 401, ""},
		{"dashboard without token", "GET", "/monitoring/", "", 401, ""},
		{"dashboard viewer", "GET", "/monitoring/", "Bearer " + viewerToken, 403, ""},
		{"dashboard viewer by basic", "GET", "/monitoring/queues", basic("ana", viewerToken), 403, ""},
		{"dashboard unknown token by basic", "GET", "/monitoring/", basic("ana", "pgn_nobody"), 401, ""},
		{"dashboard admin", "GET", "/monitoring/", "Bearer " + adminToken, 200, "monitoring GET /monitoring/"},
		{"dashboard admin by basic", "GET", "/monitoring/queues/default", basic("", adminToken), 200, "monitoring GET /monitoring/queues/default"},
		{"dashboard admin writes", "POST", "/monitoring/api/queues/default:pause", "Bearer " + adminToken, 200, "monitoring POST /monitoring/api/queues/default:pause"},
		{"dashboard coordinator writes", "DELETE", "/monitoring/api/queues/default", "Bearer " + coordToken, 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := httptest.NewRequest(tt.method, tt.path, nil)
			if tt.auth != "" {
				r.Header.Set("Authorization", tt.auth)
			}
			w := h.serve(r)
			if w.Code != tt.want {
				t.Fatalf("status %d, want %d: %s", w.Code, tt.want, w.Body)
			}
			if tt.body != "" && w.Body.String() != tt.body {
				t.Errorf("body %q, want %q", w.Body, tt.body)
			}
			if tt.want != 200 {
				problemOf(t, w, tt.want)
			}
		})
	}
}

func TestDashboardAsksBrowserForBasic(t *testing.T) {
	h := newHarness(t, withOps)
	w := h.do("GET", "/monitoring/", "", "", "")
	got := w.Header().Values("WWW-Authenticate")
	if len(got) != 2 || !slices.Contains(got, `Basic realm="pregon", charset="UTF-8"`) {
		t.Errorf("WWW-Authenticate %q, want a Bearer and a Basic challenge", got)
	}
	w = h.do("GET", "/monitoring/", adminToken, "", "")
	if csp := w.Header().Get("Content-Security-Policy"); csp != monitoringCSP {
		t.Errorf("dashboard CSP %q, want %q", csp, monitoringCSP)
	}
	// The API keeps its own.
	w = h.do("GET", "/metrics", "", "", "")
	if got := w.Header().Values("WWW-Authenticate"); len(got) != 1 {
		t.Errorf("/metrics WWW-Authenticate %q, want the Bearer challenge alone", got)
	}
}

// TestDashboardRefusesCrossSiteActions checks that a page on another site
// cannot make an admin's browser, which sends its Basic credentials along,
// act in the dashboard; it may still read (the browser keeps the answer
// from that page).
func TestDashboardRefusesCrossSiteActions(t *testing.T) {
	h := newHarness(t, withOps)
	tests := []struct {
		method, site, origin string
		want                 int
	}{
		{"POST", "cross-site", "https://evil.example", 403},
		{"DELETE", "", "https://evil.example", 403},
		{"POST", "same-origin", "", 200},
		{"POST", "", "", 200}, // not a browser (curl, scripts)
		{"GET", "cross-site", "https://evil.example", 200},
	}
	for _, tt := range tests {
		r := httptest.NewRequest(tt.method, "http://pregon.example/monitoring/api/queues/email", nil)
		r.Header.Set("Authorization", basic("", adminToken))
		if tt.site != "" {
			r.Header.Set("Sec-Fetch-Site", tt.site)
		}
		if tt.origin != "" {
			r.Header.Set("Origin", tt.origin)
		}
		w := h.serve(r)
		if w.Code != tt.want {
			t.Errorf("%s from %s %s: status %d, want %d", tt.method, tt.site, tt.origin, w.Code, tt.want)
		}
		if tt.want == 403 {
			problemOf(t, w, 403)
		}
	}
}

func TestOpsEndpointsNotConfigured(t *testing.T) {
	h := newHarness(t)
	for _, p := range []string{"/metrics", "/monitoring/"} {
		w := h.do("GET", p, adminToken, "", "")
		problemOf(t, w, http.StatusNotFound)
	}
}
