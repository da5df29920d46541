package main

import (
	"encoding/base64"
	"fmt"
	"io"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/internal/testkit"
)

// get sends a GET with an Authorization header ("" for none) and returns
// the status and the body.
func (s *service) get(url, authz string) (int, string) {
	s.t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(body)
}

// basicAuth is the Authorization header a browser sends for a user name
// and, as the password, an API token.
func basicAuth(token string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte("ops:"+token))
}

// post sends a POST without a body and returns the status.
func (s *service) postStatus(url, token string) int {
	s.t.Helper()
	req, err := http.NewRequest("POST", url, nil)
	if err != nil {
		s.t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+token)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// sample returns the value of one series in a Prometheus text scrape
// (labels as Prometheus writes them, sorted by name), and whether it is there.
func sample(scrape, series string) (float64, bool) {
	for line := range strings.Lines(scrape) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), series+" "); ok {
			f, err := strconv.ParseFloat(v, 64)
			return f, err == nil
		}
	}
	return 0, false
}

// sendEmails creates a list of n contacts and a release to it, sends it and
// waits until it is sent; it returns the release's id.
func (s *service) sendEmails(n int) string {
	s.t.Helper()
	var list, rep, rel obj
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list); code != 201 {
		s.t.Fatalf("create list: %d %v", code, list)
	}
	var cs []obj
	for i := range n {
		cs = append(cs, obj{"email": fmt.Sprintf("periodista%d@example.org", i), "language": "es"})
	}
	if code := s.post("/v1/lists/"+list["id"].(string)+"/contacts", cs, &rep); code != 200 {
		s.t.Fatalf("import: %d %v", code, rep)
	}
	if code := s.post("/v1/releases", obj{"title": "Comunicado", "body": "Texto.", "language": "es",
		"audiences": obj{"lists": []string{list["id"].(string)}}, "send": true}, &rel); code != 201 {
		s.t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	if got := s.waitFinal(id); got["status"] != "sent" {
		s.t.Fatalf("release %v: %v", got["status"], got["counts"])
	}
	return id
}

// TestEndToEndMetrics sends a release of N emails through the real service
// and scrapes /metrics on the API address: the deliveries counted sent are N,
// as many as the deliveries API lists as sent. Its dashboard takes actions
// (PREGON_MONITORING_WRITE=true).
func TestEndToEndMetrics(t *testing.T) {
	s := startService(t, func(s *service) { s.env["PREGON_MONITORING_WRITE"] = "true" })
	const n = 7
	id := s.sendEmails(n)

	var page struct {
		Items []obj `json:"items"`
	}
	if code, _ := s.do(s.admin, "GET", "/v1/releases/"+id+"/deliveries?status=sent&channel=email&limit=100", "", nil, &page); code != 200 {
		t.Fatalf("deliveries: %d", code)
	}
	// A worker counts an outcome just after recording it, so the release
	// can be final a moment before its last email is counted: scrape until
	// the count reaches n (or a deadline), then check.
	var code int
	var body string
	for deadline := time.Now().Add(10 * time.Second); ; time.Sleep(20 * time.Millisecond) {
		code, body = s.get(s.url+"/metrics", "Bearer "+s.admin)
		if code != 200 {
			t.Fatalf("scrape as admin: %d %s", code, body)
		}
		sent, _ := sample(body, `pregon_deliveries_total{channel="email",status="sent"}`)
		timed, _ := sample(body, `pregon_send_duration_seconds_count{channel="email"}`)
		if (sent >= n && timed >= n) || time.Now().After(deadline) {
			break
		}
	}
	got, ok := sample(body, `pregon_deliveries_total{channel="email",status="sent"}`)
	if !ok || got != n || int(got) != len(page.Items) {
		t.Errorf("pregon_deliveries_total email sent = %v (present %v), want %d, as the deliveries API lists %d", got, ok, n, len(page.Items))
	}
	for series, want := range map[string]float64{
		`pregon_send_duration_seconds_count{channel="email"}`: n,
		`pregon_releases{status="sent"}`:                      1,
		`pregon_releases{status="sending"}`:                   0,
	} {
		if got, ok := sample(body, series); !ok || got != want {
			t.Errorf("%s = %v (present %v), want %v", series, got, ok, want)
		}
	}
	for _, name := range []string{"pregon_smtp_connections ", "asynq_queue_size{", "asynq_queue_latency_seconds{", "go_build_info{"} {
		if !strings.Contains(body, "\n"+name) {
			t.Errorf("scrape lacks %s", name)
		}
	}
	if code := s.postStatus(s.url+"/monitoring/api/queues/email:pause", s.admin); code >= 300 {
		t.Errorf("pause a queue in the dashboard with PREGON_MONITORING_WRITE=true: %d", code)
	}
	if testing.Verbose() {
		t.Logf("scrape:\n%s", body)
	}

	for _, c := range []struct {
		authz string
		want  int
	}{
		{"", 401},
		{"Bearer " + s.token("coordinator"), 403},
	} {
		if code, _ := s.get(s.url+"/metrics", c.authz); code != c.want {
			t.Errorf("/metrics with %q: status %d, want %d", c.authz, code, c.want)
		}
	}
}

// TestEndToEndMetricsAddrAndDashboard serves /metrics on
// PREGON_METRICS_ADDR (no token; the API then has none) and checks that the
// queue dashboard is served to admins only, read-only by default.
func TestEndToEndMetricsAddrAndDashboard(t *testing.T) {
	maddr := testkit.FreeAddr(t)
	s := startService(t, func(s *service) { s.env["PREGON_METRICS_ADDR"] = maddr })
	if code, body := s.get("http://"+maddr+"/metrics", ""); code != 200 || !strings.Contains(body, "pregon_releases{") {
		t.Errorf("metrics address: %d %.200s", code, body)
	}
	if code, _ := s.get(s.url+"/metrics", "Bearer "+s.admin); code != 404 {
		t.Errorf("/metrics on the API address with PREGON_METRICS_ADDR set: %d, want 404", code)
	}

	viewer := s.token("viewer")
	tests := []struct {
		name, path, authz string
		want              int
		has               string
	}{
		{"no token", "/monitoring/", "", 401, ""},
		{"viewer", "/monitoring/", "Bearer " + viewer, 403, ""},
		{"admin", "/monitoring/", "Bearer " + s.admin, 200, "Asynq - Monitoring"},
		{"admin in a browser", "/monitoring/queues", basicAuth(s.admin), 200, "Asynq - Monitoring"},
		{"admin reads the queues", "/monitoring/api/queues", "Bearer " + s.admin, 200, `"queues"`},
		{"viewer reads the queues", "/monitoring/api/queues", basicAuth(viewer), 403, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, body := s.get(s.url+tt.path, tt.authz)
			if code != tt.want || !strings.Contains(body, tt.has) {
				t.Errorf("status %d, want %d with %q: %.300s", code, tt.want, tt.has, body)
			}
		})
	}
	// The page's scripts load, from under /monitoring/ too.
	_, page := s.get(s.url+"/monitoring/", basicAuth(s.admin))
	scripts := regexp.MustCompile(`src="(/monitoring/static/js/[^"]+\.js)"`).FindAllStringSubmatch(page, -1)
	if len(scripts) == 0 {
		t.Errorf("the dashboard page loads no script from /monitoring/static/js/:\n%.2000s", page)
	}
	for _, m := range scripts {
		if code, js := s.get(s.url+m[1], basicAuth(s.admin)); code != 200 || len(js) < 1000 {
			t.Errorf("%s: status %d, %d bytes", m[1], code, len(js))
		}
	}
	if code := s.postStatus(s.url+"/monitoring/api/queues/default:pause", s.admin); code != http.StatusMethodNotAllowed {
		t.Errorf("pause a queue in the read-only dashboard: %d, want 405", code)
	}
}
