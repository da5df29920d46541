package api

import (
	"encoding/base64"
	"net/http"
	"strings"
)

// The operators' endpoints, for admin tokens only: Prometheus metrics
// (Config.Metrics) at /metrics and the queue dashboard (Config.Monitoring)
// under /monitoring/. Each answers 404 when its handler is not configured.

// MonitoringPath is where Config.Monitoring is mounted; the handler must
// expect its paths to start with it.
const MonitoringPath = "/monitoring"

// monitoringCSP lets the dashboard's page run: its inline bootstrap script,
// its styles and the web fonts it loads.
const monitoringCSP = "default-src 'self'; script-src 'self' 'unsafe-inline'; " +
	"style-src 'self' 'unsafe-inline' https://fonts.googleapis.com; font-src 'self' https://fonts.gstatic.com; " +
	"img-src 'self' data:; connect-src 'self'; frame-ancestors 'none'"

func (s *Server) metrics(w http.ResponseWriter, r *http.Request) error {
	if s.metricsHandler == nil {
		return &Problem{Status: http.StatusNotFound, Detail: "Metrics are not served here (see PREGON_METRICS_ADDR)."}
	}
	s.metricsHandler.ServeHTTP(w, r)
	return nil
}

func (s *Server) monitoring(w http.ResponseWriter, r *http.Request) error {
	if s.monitoringHandler == nil {
		return &Problem{Status: http.StatusNotFound, Detail: "The queue dashboard is not served here."}
	}
	// A browser sends Basic credentials with any request to this site,
	// including one a page elsewhere makes: refuse those that would act.
	var csrf http.CrossOriginProtection
	if err := csrf.Check(r); err != nil {
		return &Problem{Status: http.StatusForbidden, Detail: "The queue dashboard takes no actions from other sites' pages."}
	}
	w.Header().Set("Content-Security-Policy", monitoringCSP)
	s.monitoringHandler.ServeHTTP(w, r)
	return nil
}

// basicForMonitoring lets a browser open the dashboard: under
// MonitoringPath it takes "Authorization: Basic" credentials whose password
// is an API token (any user name) as that bearer token, and adds a Basic
// challenge to a 401 answer so that the browser asks for them.
func basicForMonitoring(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != MonitoringPath && !strings.HasPrefix(r.URL.Path, MonitoringPath+"/") {
			next.ServeHTTP(w, r)
			return
		}
		if scheme, cred, ok := strings.Cut(r.Header.Get("Authorization"), " "); ok && strings.EqualFold(scheme, "Basic") {
			if raw, err := base64.StdEncoding.DecodeString(strings.TrimSpace(cred)); err == nil {
				if _, tok, ok := strings.Cut(string(raw), ":"); ok && tok != "" {
					r = r.Clone(r.Context())
					r.Header.Set("Authorization", "Bearer "+tok)
				}
			}
		}
		next.ServeHTTP(&basicChallenge{ResponseWriter: w}, r)
	})
}

// basicChallenge adds a Basic challenge after the Bearer one of a 401.
type basicChallenge struct{ http.ResponseWriter }

func (b *basicChallenge) WriteHeader(code int) {
	if code == http.StatusUnauthorized {
		b.Header().Add("WWW-Authenticate", `Basic realm="pregon", charset="UTF-8"`)
	}
	b.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (b *basicChallenge) Unwrap() http.ResponseWriter { return b.ResponseWriter }
