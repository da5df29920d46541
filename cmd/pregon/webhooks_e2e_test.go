package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/webhooks"
)

// hookReceiver is a webhook receiver as a user would write one: it checks
// each request's signature, answers 500 to the first request it gets, and
// keeps the events it accepted.
type hookReceiver struct {
	*httptest.Server
	mu       sync.Mutex
	secret   string
	requests int
	refused  int            // requests with a bad signature
	accepted map[string]int // event id → times accepted
	events   []hookEvent    // accepted, first time each
}

type hookEvent struct {
	ID        string         `json:"id"`
	Type      string         `json:"type"`
	CreatedAt time.Time      `json:"created_at"`
	Data      map[string]any `json:"data"`
}

func newHookReceiver(t *testing.T) *hookReceiver {
	rc := &hookReceiver{accepted: map[string]int{}}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		rc.mu.Lock()
		defer rc.mu.Unlock()
		rc.requests++
		if err := webhooks.Verify(rc.secret, r.Header.Get("Pregon-Signature"), body, time.Now(), webhooks.ReplayWindow); err != nil {
			rc.refused++
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		if rc.requests == 1 {
			http.Error(w, "not today", http.StatusInternalServerError)
			return
		}
		var e hookEvent
		if err := json.Unmarshal(body, &e); err != nil || e.ID != r.Header.Get("Pregon-Event-Id") {
			http.Error(w, "bad event", http.StatusBadRequest)
			return
		}
		rc.accepted[e.ID]++
		if rc.accepted[e.ID] == 1 {
			rc.events = append(rc.events, e)
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	t.Cleanup(rc.Close)
	return rc
}

func (rc *hookReceiver) setSecret(s string) {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	rc.secret = s
}

// find returns the accepted events of type typ about release rid.
func (rc *hookReceiver) find(typ, rid string) []hookEvent {
	rc.mu.Lock()
	defer rc.mu.Unlock()
	var out []hookEvent
	for _, e := range rc.events {
		if e.Type == typ && e.Data["release_id"] == rid {
			out = append(out, e)
		}
	}
	return out
}

func (rc *hookReceiver) waitFor(t *testing.T, typ, rid string) hookEvent {
	t.Helper()
	testkit.WaitFor(t, typ+" of "+rid, 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		return len(rc.find(typ, rid)) > 0, "not received"
	})
	return rc.find(typ, rid)[0]
}

// TestWebhooksEndToEnd registers a webhook with the CLI and follows two
// real releases through the running service to a receiver that checks
// signatures: release.scheduled and release.sent for the first; for the
// second, where the SMTP server refuses one address, delivery.failed and
// release.sent_with_failures. The receiver's first answer is a 500, which
// is retried. Each event is accepted once.
func TestWebhooksEndToEnd(t *testing.T) {
	s := startService(t, func(s *service) {
		s.env["PREGON_WEBHOOKS_ALLOW_PRIVATE"] = "true"
		s.env["PREGON_WEBHOOKS_ALLOW_HTTP"] = "true"
	})
	const refused = "rechazo@example.org"
	s.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if rcpt == refused {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	rc := newHookReceiver(t)
	coordinator, viewer := s.token("coordinator"), s.token("viewer")
	cli := func(token string, args ...string) string {
		t.Helper()
		env := map[string]string{"PREGON_API_URL": s.url, "PREGON_TOKEN": token}
		var out, errb bytes.Buffer
		if code := run(context.Background(), args, &out, &errb, func(k string) string { return env[k] }); code != 0 {
			t.Fatalf("pregon %v exited %d: %s", args, code, errb.String())
		}
		return out.String()
	}

	out := cli(coordinator, "webhooks", "add", rc.URL+"/pregon", "--description", "sala de redacción")
	m := regexp.MustCompile(`id:\s+(whk_\S+)\nsecret:\s+(whsec_\S+)`).FindStringSubmatch(out)
	if m == nil {
		t.Fatalf("webhooks add printed %q, want its id and secret", out)
	}
	hookID, secret := m[1], m[2]
	rc.setSecret(secret)

	// Refused: bad URLs, unknown events, a viewer.
	for _, body := range []obj{
		{"url": "ftp://example.org/hook"},
		{"url": "http://93.184.216.34/hook"},               // plain http to a public address
		{"url": "http://169.254.169.254/latest/meta-data"}, // link-local (cloud metadata)
		{"url": "https://[::ffff:169.254.169.254]/"},
		{"url": rc.URL, "events": []string{"release.exploded"}},
		{"url": ""},
	} {
		var p obj
		code, _ := s.do(coordinator, "POST", "/v1/webhooks", "application/json", body, &p)
		errs, _ := p["errors"].([]any)
		if code != 400 || len(errs) != 1 {
			t.Errorf("POST /v1/webhooks %v = %d %v, want 400 with one field error", body, code, p)
		}
	}
	if code, _ := s.do(viewer, "POST", "/v1/webhooks", "application/json", obj{"url": rc.URL}, nil); code != 403 {
		t.Errorf("viewer POST /v1/webhooks = %d, want 403", code)
	}
	// A viewer lists it, without its secret.
	resp := testkit.Do(t, testkit.Request{Method: "GET", URL: s.url + "/v1/webhooks", Token: viewer})
	if resp.Status != 200 || !strings.Contains(string(resp.Body), hookID) || strings.Contains(string(resp.Body), secret) ||
		!strings.Contains(string(resp.Body), `"status":"active"`) {
		t.Errorf("GET /v1/webhooks = %d %s, want the active webhook without its secret", resp.Status, resp.Body)
	}

	release := func(contacts []obj) string {
		t.Helper()
		var list, rel obj
		if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list); code != 201 {
			t.Fatalf("create list: %d %v", code, list)
		}
		if code := s.post("/v1/lists/"+list["id"].(string)+"/contacts", contacts, nil); code != 200 {
			t.Fatalf("import: %d", code)
		}
		if code := s.post("/v1/releases", obj{"title": "Comunidades piden consulta previa", "body": statementES, "language": "es",
			"audiences": obj{"lists": []string{list["id"].(string)}}, "send": true}, &rel); code != 201 {
			t.Fatalf("create release: %d %v", code, rel)
		}
		return rel["id"].(string)
	}

	first := release([]obj{{"email": "ana@example.org"}, {"email": "bob@example.net"}})
	if st := s.waitFinal(first)["status"]; st != "sent" {
		t.Fatalf("first release %v, want sent", st)
	}
	sent := rc.waitFor(t, "release.sent", first)
	counts, _ := sent.Data["counts"].(map[string]any)
	if sent.Data["status"] != "sent" || counts["total"] != 2.0 || sent.CreatedAt.IsZero() {
		t.Errorf("release.sent = %+v, want status sent and 2 deliveries", sent)
	}
	rc.waitFor(t, "release.scheduled", first)

	second := release([]obj{{"email": "carla@example.org"}, {"email": refused}})
	if st := s.waitFinal(second)["status"]; st != "sent_with_failures" {
		t.Fatalf("second release %v, want sent_with_failures", st)
	}
	rc.waitFor(t, "release.sent_with_failures", second)
	failed := rc.waitFor(t, "delivery.failed", second)
	if failed.Data["recipient"] != refused || failed.Data["channel"] != "email" || !strings.Contains(failed.Data["error"].(string), "550") {
		t.Errorf("delivery.failed = %+v, want the refused address and its 550", failed)
	}
	rc.waitFor(t, "release.scheduled", second)

	rc.mu.Lock()
	for id, n := range rc.accepted {
		if n != 1 {
			t.Errorf("event %s accepted %d times, want once", id, n)
		}
	}
	if rc.refused != 0 {
		t.Errorf("%d requests had a bad signature", rc.refused)
	}
	rc.mu.Unlock()
	for _, typ := range []string{"release.sent", "release.scheduled", "release.sent_with_failures", "delivery.failed"} {
		for _, rid := range []string{first, second} {
			if n := len(rc.find(typ, rid)); n > 1 {
				t.Errorf("%d %s events for %s, want at most one", n, typ, rid)
			}
		}
	}

	// The first request was answered 500 and retried: the log shows the
	// failed try and then the success of the same event.
	var log struct{ Items []webhooks.Attempt }
	if code, _ := s.do(viewer, "GET", "/v1/webhooks/"+hookID+"/deliveries", "", nil, &log); code != 200 || len(log.Items) < 2 {
		t.Fatalf("deliveries: %d %+v", code, log)
	}
	oldest := log.Items[len(log.Items)-1]
	if oldest.StatusCode != 500 || oldest.Try != 1 {
		t.Errorf("first attempt = %+v, want a 500 on try 1", oldest)
	}
	retried := false
	for _, a := range log.Items {
		if a.EventID == oldest.EventID && a.Try == 2 && a.StatusCode == 204 {
			retried = true
		}
	}
	if !retried {
		t.Errorf("event %s was not retried to a 204: %+v", oldest.EventID, log.Items)
	}
	if out := cli(viewer, "webhooks", "deliveries", hookID); !strings.Contains(out, oldest.EventID) || !strings.Contains(out, "500") {
		t.Errorf("webhooks deliveries printed %q, want the 500", out)
	}
	if out := cli(viewer, "webhooks", "list"); !strings.Contains(out, hookID) || !strings.Contains(out, "active") {
		t.Errorf("webhooks list printed %q", out)
	}
	cli(coordinator, "webhooks", "rm", hookID)
	if out := cli(viewer, "webhooks", "list"); strings.Contains(out, hookID) {
		t.Errorf("webhooks list after rm printed %q", out)
	}
}
