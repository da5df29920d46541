package main

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/pregon/pregon/internal/testkit"
)

// TestEndToEndRedisCluster runs Pregón on a real Redis Cluster of three
// masters (redis-server --cluster-enabled yes, joined by redis-cli --cluster
// create): a `pregon api` and a `pregon worker` process, both given a
// redis+cluster:// URL, send a release to an email list and a Telegram
// channel through the SMTP test server and the fake Bot API. One address is
// refused for good and one greylisted once, so that the claim, the
// transitions, the retry and the failure log all run on the cluster; the
// coordinator's retry then sends the refused one. Every delivery's status
// is checked through the API. A script whose keys are not in one slot
// fails here with CROSSSLOT.
func TestEndToEndRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	s := &service{t: t, smtp: smtptest.Start(t), tg: telegramtest.Start(t, e2eBotToken)}
	addr := testkit.FreeAddr(t)
	s.url = "http://" + addr
	s.env = map[string]string{
		"PREGON_REDIS_URL":        cl.URL(),
		"PREGON_HTTP_ADDR":        addr,
		"PREGON_SMTP_URL":         "smtp://" + s.smtp.Addr + "?tls=none",
		"PREGON_FROM":             "Coalición por el Territorio <prensa@coalicion.example>",
		"PREGON_TELEGRAM_TOKEN":   e2eBotToken,
		"PREGON_TELEGRAM_API_URL": s.tg.URL(),
		"PREGON_OUTBOX_DIR":       t.TempDir(),
		"PREGON_RETRY_BASE":       "100ms",
		"PREGON_MAX_ATTEMPTS":     "4",
		"PREGON_CONCURRENCY":      "4",
		"PREGON_CLAIM_TIMEOUT":    "5s",
		"PREGON_LOG_LEVEL":        "info",
	}
	// The api and the worker are separate processes of one deployment.
	for _, cmd := range []string{"api", "worker"} {
		ctx, cancel := context.WithCancel(context.Background())
		done := make(chan int, 1)
		logs := &testkit.Buffer{}
		go func() { done <- run(ctx, []string{cmd}, io.Discard, logs, s.getenv) }()
		t.Cleanup(func() {
			cancel()
			select {
			case code := <-done:
				if code != 0 {
					t.Errorf("pregon %s exited %d", cmd, code)
				}
			case <-time.After(30 * time.Second):
				t.Errorf("pregon %s did not stop", cmd)
			}
			if t.Failed() {
				t.Logf("pregon %s's log:\n%s", cmd, logs)
			}
		})
	}
	testkit.WaitFor(t, "pregon api to be ready", 30*time.Second, 20*time.Millisecond, func() (bool, string) {
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	s.admin = s.token("admin")

	greylisted := map[string]bool{}
	refuse := true
	var mu = make(chan struct{}, 1)
	s.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		mu <- struct{}{}
		defer func() { <-mu }()
		switch {
		case rcpt == "gone@example.org" && refuse:
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "refused by policy"}
		case rcpt == "slow@example.org" && !greylisted[rcpt]:
			greylisted[rcpt] = true
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again"}
		}
		return nil
	})

	var list, channel, rel obj
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list); code != 201 {
		t.Fatalf("create list: %d %v", code, list)
	}
	emails := []string{"ana@example.org", "bob@example.net", "carla@example.org", "dan@example.org", "slow@example.org", "gone@example.org"}
	var contacts []obj
	for _, e := range emails {
		contacts = append(contacts, obj{"email": e, "language": "es"})
	}
	var rep obj
	if code := s.post("/v1/lists/"+list["id"].(string)+"/contacts", contacts, &rep); code != 200 || rep["added"] != float64(len(emails)) {
		t.Fatalf("import: %d %v", code, rep)
	}
	s.tg.AddChat("@canal_prensa")
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_prensa", "title": "Canal", "language": "es"}, &channel); code != 201 {
		t.Fatalf("create channel: %d %v", code, channel)
	}
	if code := s.post("/v1/releases", obj{"title": "Aviso en clúster", "body": "Texto del comunicado.", "language": "es",
		"audiences": obj{"lists": []string{list["id"].(string)}, "telegram_channels": []string{channel["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	rel = s.waitFinal(id)
	if rel["status"] != "sent_with_failures" {
		t.Fatalf("status = %v (%v), want sent_with_failures: gone@ is refused", rel["status"], rel["counts"])
	}
	want := map[string]string{"@canal_prensa": "sent", "gone@example.org": "failed"}
	for _, e := range emails[:5] {
		want[e] = "sent"
	}
	s.checkDeliveries(id, want)

	// The listings by status, kept outside the release's slot, agree.
	var failedRels obj
	s.do(s.admin, "GET", "/v1/releases?status=sent_with_failures", "", nil, &failedRels)
	if items, _ := failedRels["items"].([]any); len(items) != 1 || items[0].(obj)["id"] != id {
		t.Errorf("releases sent_with_failures = %v, want %s alone", failedRels["items"], id)
	}

	// The mailbox is fixed; the coordinator retries the failed delivery.
	mu <- struct{}{}
	refuse = false
	<-mu
	var rr obj
	if code := s.post("/v1/releases/"+id+"/retry", nil, &rr); code != 202 || rr["requeued"] != 1.0 {
		t.Fatalf("retry: %d %v", code, rr)
	}
	rel = s.waitFinal(id)
	if rel["status"] != "sent" {
		t.Fatalf("after retry: %v %v", rel["status"], rel["counts"])
	}
	want["gone@example.org"] = "sent"
	s.checkDeliveries(id, want)
	var sentRels obj
	s.do(s.admin, "GET", "/v1/releases?status=sent", "", nil, &sentRels)
	if items, _ := sentRels["items"].([]any); len(items) != 1 || items[0].(obj)["id"] != id {
		t.Errorf("releases sent = %v, want %s alone", sentRels["items"], id)
	}

	got := map[string]int{}
	for _, m := range s.smtp.Messages() {
		got[strings.ToLower(m.To[0])]++
	}
	for _, e := range emails {
		if got[e] != 1 {
			t.Errorf("%s got %d emails, want 1 (all: %v)", e, got[e], got)
		}
	}
	if posts := s.tg.Messages("@canal_prensa"); len(posts) != 1 || !strings.Contains(posts[0].PlainText, "Texto del comunicado") {
		t.Errorf("telegram posts = %v, want the statement once", posts)
	}

	// /metrics reads the release counts and asynq's queues through the
	// cluster client; so does the queue dashboard, and its Redis page
	// knows it is a cluster.
	code, scrape := s.get(s.url+"/metrics", "Bearer "+s.admin)
	if v, ok := sample(scrape, `pregon_releases{status="sent"}`); code != 200 || !ok || v != 1 {
		t.Errorf("/metrics: %d, pregon_releases{status=\"sent\"} = %v (%v):\n%.500s", code, v, ok, scrape)
	}
	if !strings.Contains(scrape, "asynq_queue_size") {
		t.Errorf("/metrics has no asynq queue sizes:\n%.500s", scrape)
	}
	if code, body := s.get(s.url+"/monitoring/api/queues", "Bearer "+s.admin); code != 200 || !strings.Contains(body, `"queues"`) {
		t.Errorf("dashboard queues: %d %.300s", code, body)
	}
	if code, body := s.get(s.url+"/monitoring/api/redis_info", "Bearer "+s.admin); code != 200 || !strings.Contains(body, "cluster") {
		t.Errorf("dashboard Redis info: %d %.300s", code, body)
	}
}

// checkDeliveries pages through a release's deliveries with the API and
// checks each recipient's status against want, and that none is missing or
// extra.
func (s *service) checkDeliveries(id string, want map[string]string) {
	s.t.Helper()
	got := map[string]string{}
	cursor := ""
	for {
		var page obj
		path := "/v1/releases/" + id + "/deliveries?limit=3"
		if cursor != "" {
			path += "&cursor=" + cursor
		}
		if code, _ := s.do(s.admin, "GET", path, "", nil, &page); code != 200 {
			s.t.Fatalf("deliveries: %d %v", code, page)
		}
		for _, it := range page["items"].([]any) {
			d := it.(obj)
			r := strings.ToLower(d["recipient"].(string))
			if _, dup := got[r]; dup {
				s.t.Errorf("%s listed twice", r)
			}
			got[r] = d["status"].(string)
		}
		cursor, _ = page["next_cursor"].(string)
		if cursor == "" {
			break
		}
	}
	for r, st := range want {
		if got[r] != st {
			s.t.Errorf("delivery to %s is %q, want %q", r, got[r], st)
		}
	}
	if len(got) != len(want) {
		s.t.Errorf("deliveries = %v, want %v", got, want)
	}
}
