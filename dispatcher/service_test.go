package dispatcher_test

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/hibiken/asynq"
	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
	"github.com/redis/go-redis/v9"
)

const botToken = "123456:TEST"

// harness is a whole pipeline on real components: redis-server, asynq
// workers, an SMTP server over TCP and a fake Telegram Bot API over HTTP.
type harness struct {
	store *store.Store
	svc   *dispatcher.Service
	smtp  *smtptest.Server
	tg    *telegramtest.Server
	queue *queue.Client
	rdb   *redis.Client
	log   *slog.Logger
}

func newHarness(t *testing.T) *harness {
	t.Helper()
	h := newIdleHarness(t, dispatcher.Config{})
	h.startWorkers(t)
	return h
}

// newIdleHarness is a harness whose workers are not started yet; cfg's
// non-zero fields override the harness's dispatcher settings.
func newIdleHarness(t *testing.T, over dispatcher.Config) *harness {
	t.Helper()
	rs := redistest.Start(t)
	rdb := rs.Client(t)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	if testing.Verbose() {
		log = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	h := &harness{store: store.New(rdb, nil), smtp: smtptest.Start(t), tg: telegramtest.Start(t, botToken), rdb: rdb, log: log}
	h.tg.AddChat("@canal")
	mail, err := email.New(email.Config{URL: "smtp://" + h.smtp.Addr + "?tls=none", From: dispatcher.Address{Name: "Coalición", Email: "prensa@coalicion.example"}, PoolSize: 4, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mail.Close() })
	tgc, err := telegram.New(telegram.Config{Token: botToken, APIURL: h.tg.URL(), Timeout: 5 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	h.queue = queue.NewClient(rdb)
	h.svc, err = dispatcher.NewService(dispatcher.Config{
		Store: h.store, Queue: h.queue, Renderer: r, Email: mail, Telegram: tgc, Logger: log,
		MaxAttempts: 3, RetryBase: 50 * time.Millisecond, BatchSize: 7, ClaimTimeout: over.ClaimTimeout,
		RequireApproval: over.RequireApproval,
	})
	if err != nil {
		t.Fatal(err)
	}
	return h
}

func (h *harness) startWorkers(t *testing.T) {
	t.Helper()
	w := queue.NewServer(h.rdb, queue.Config{Concurrency: 4, RetryBase: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond, ShutdownTimeout: time.Second, Logger: h.log}, h.svc)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)
}

type testWriter struct{ t *testing.T }

func (w testWriter) Write(p []byte) (int, error) {
	w.t.Log(strings.TrimSpace(string(p)))
	return len(p), nil
}

func (h *harness) list(t *testing.T, emails ...string) string {
	t.Helper()
	ctx := context.Background()
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	if err := h.store.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	cs := make([]dispatcher.Contact, len(emails))
	for i, e := range emails {
		cs[i] = dispatcher.Contact{Email: e, Language: "es"}
	}
	if _, _, err := h.store.UpsertContacts(ctx, l.ID, cs); err != nil {
		t.Fatal(err)
	}
	return l.ID
}

func (h *harness) release(t *testing.T, aud dispatcher.Audiences) string {
	t.Helper()
	r := &dispatcher.Release{Title: "Comunicado", Body: "Texto del “comunicado”.", Language: "es", Audiences: aud}
	if err := h.store.CreateRelease(context.Background(), r); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// newService returns the service of cfg, with a logger that discards when
// cfg has none, and the templates' renderer when withRenderer; it fails
// the test when cfg is refused.
func newService(t *testing.T, cfg dispatcher.Config, withRenderer bool) *dispatcher.Service {
	t.Helper()
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.NewTextHandler(io.Discard, nil))
	}
	if withRenderer {
		r, err := templates.New()
		if err != nil {
			t.Fatal(err)
		}
		cfg.Renderer = r
	}
	svc, err := dispatcher.NewService(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

// sendTo creates a release to a new press list of emails and sends it.
func (h *harness) sendTo(t *testing.T, emails ...string) string {
	t.Helper()
	rid := h.release(t, dispatcher.Audiences{Lists: []string{h.list(t, emails...)}})
	if _, err := h.svc.Send(context.Background(), rid, nil); err != nil {
		t.Fatal(err)
	}
	return rid
}

// addresses returns n addresses made from format and 0…n-1.
func addresses(format string, n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf(format, i)
	}
	return out
}

// wait waits until the release reaches a final status and returns it.
func (h *harness) wait(t *testing.T, id string) *dispatcher.Release {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		r, err := h.store.Release(context.Background(), id)
		if err != nil {
			t.Fatal(err)
		}
		switch r.Status {
		case dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures, dispatcher.ReleaseCancelled:
			return r
		}
		if time.Now().After(deadline) {
			t.Fatalf("release %s still %s with counts %+v", id, r.Status, r.Counts.ByStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

func (h *harness) delivery(t *testing.T, rid string, ch dispatcher.ChannelKind, to string) *dispatcher.Delivery {
	t.Helper()
	d, err := h.store.Delivery(context.Background(), rid, dispatcher.DeliveryID(rid, ch, to))
	if err != nil {
		t.Fatal(err)
	}
	return d
}

func TestRetriesAndClassification(t *testing.T) {
	h := newHarness(t)
	// flaky@ is answered 451 twice then accepted; gone@ is answered 550.
	h.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		switch {
		case strings.HasPrefix(rcpt, "flaky@") && attempt <= 2:
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		case strings.HasPrefix(rcpt, "gone@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
		}
		return nil
	})
	ch := &dispatcher.TelegramChannel{ChatID: "@canal", Language: "es"}
	if err := h.store.CreateChannel(context.Background(), ch); err != nil {
		t.Fatal(err)
	}
	h.tg.FailNext("@canal", 1, telegramtest.Failure{Status: 429, RetryAfter: 1})
	lid := h.list(t, "ok@example.org", "flaky@example.org", "gone@example.org")
	rid := h.release(t, dispatcher.Audiences{Lists: []string{lid}, TelegramChannels: []string{ch.ID}})
	if _, err := h.svc.Send(context.Background(), rid, nil); err != nil {
		t.Fatal(err)
	}
	rel := h.wait(t, rid)
	if rel.Status != dispatcher.ReleaseSentWithFailures {
		t.Errorf("release status = %s, want sent_with_failures", rel.Status)
	}
	flaky := h.delivery(t, rid, dispatcher.ChannelEmail, "flaky@example.org")
	if flaky.Status != dispatcher.DeliverySent || flaky.Attempts != 3 {
		t.Errorf("flaky: status %s after %d attempts, want sent after 3", flaky.Status, flaky.Attempts)
	}
	gone := h.delivery(t, rid, dispatcher.ChannelEmail, "gone@example.org")
	if gone.Status != dispatcher.DeliveryFailed || gone.Attempts != 1 || !strings.Contains(gone.LastError, "550") || !strings.Contains(gone.LastError, "mailbox unavailable") {
		t.Errorf("gone: status %s, attempts %d, error %q; want failed after 1 with the 550 reply", gone.Status, gone.Attempts, gone.LastError)
	}
	tg := h.delivery(t, rid, dispatcher.ChannelTelegram, "@canal")
	if tg.Status != dispatcher.DeliverySent || tg.Attempts != 2 || len(tg.MessageIDs) == 0 {
		t.Errorf("telegram: status %s after %d attempts, ids %v; want sent after 2 (429 waited out)", tg.Status, tg.Attempts, tg.MessageIDs)
	}
	if v := h.tg.Violations(); v != 0 {
		t.Errorf("telegram saw %d requests inside a rate limit or retry_after, want 0", v)
	}
	if n := len(h.tg.Messages("@canal")); n != len(tg.MessageIDs) {
		t.Errorf("telegram received %d messages, delivery records %d ids", n, len(tg.MessageIDs))
	}
	if got := rel.Counts.ByStatus; got[dispatcher.DeliverySent] != 3 || got[dispatcher.DeliveryFailed] != 1 || rel.Counts.Total != 4 {
		t.Errorf("counts = %+v total %d; want 3 sent, 1 failed of 4", got, rel.Counts.Total)
	}
}

func TestSendTwiceAndTaskRerunSendNothingAgain(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	emails := addresses("p%02d@example.org", 20)
	a := h.list(t, emails...)
	b := h.list(t, emails[:10]...) // the first ten are on both lists
	rid := h.release(t, dispatcher.Audiences{Lists: []string{a, b}})
	for range 3 {
		if _, err := h.svc.Send(ctx, rid, nil); err != nil {
			t.Fatal(err)
		}
	}
	rel := h.wait(t, rid)
	if rel.Status != dispatcher.ReleaseSent || rel.Counts.Total != 20 {
		t.Fatalf("release %s with %d deliveries, want sent with 20", rel.Status, rel.Counts.Total)
	}
	// Run the dispatch and every delivery task again, as a crashed worker's
	// retried tasks would.
	if err := h.svc.Dispatch(ctx, rid); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range emails {
		ids = append(ids, dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, e))
	}
	if err := h.svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Send(ctx, rid, nil); err != nil {
		t.Fatal(err)
	}
	got := map[string]int{}
	for _, m := range h.smtp.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	if len(got) != 20 {
		t.Errorf("%d distinct recipients got mail, want 20", len(got))
	}
	for to, n := range got {
		if n != 1 {
			t.Errorf("%s got %d emails, want 1", to, n)
		}
	}
}

func TestCancelScheduledSendsNothing(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	rid := h.release(t, dispatcher.Audiences{Lists: []string{h.list(t, "a@example.org")}})
	at := time.Now().Add(time.Hour)
	rel, err := h.svc.Send(ctx, rid, &at)
	if err != nil || rel.Status != dispatcher.ReleaseScheduled {
		t.Fatalf("Send = %v, %v; want scheduled", rel, err)
	}
	if rel, err = h.svc.Cancel(ctx, rid); err != nil || rel.Status != dispatcher.ReleaseCancelled {
		t.Fatalf("Cancel = %v, %v", rel, err)
	}
	// The dispatch runs (as it would at the embargo) and must do nothing.
	if err := h.svc.Dispatch(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if rel, _ = h.store.Release(ctx, rid); rel.Counts.Total != 0 {
		t.Errorf("cancelled release planned %d deliveries", rel.Counts.Total)
	}
	if _, err := h.svc.Send(ctx, rid, nil); err == nil {
		t.Errorf("Send of a cancelled release succeeded")
	}
}

func TestSuppressedAddressIsRecordedNotMailed(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	if err := h.store.Suppress(ctx, "quit@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	rid := h.sendTo(t, "quit@example.org", "stay@example.org")
	rel := h.wait(t, rid)
	if rel.Status != dispatcher.ReleaseSent || rel.Counts.ByStatus[dispatcher.DeliverySuppressed] != 1 || rel.Counts.ByStatus[dispatcher.DeliverySent] != 1 {
		t.Fatalf("release %s counts %+v; want sent with 1 sent, 1 suppressed", rel.Status, rel.Counts.ByStatus)
	}
	for _, m := range h.smtp.Messages() {
		if m.To[0] == "quit@example.org" {
			t.Fatalf("a suppressed address was mailed")
		}
	}
}

// TestSweeperRecoversLostTasksAndDeadClaims simulates a worker that died
// holding two deliveries, and delivery tasks lost from Redis: the sweeper
// sets the release going again, and everyone gets exactly one email.
func TestSweeperRecoversLostTasksAndDeadClaims(t *testing.T) {
	h := newIdleHarness(t, dispatcher.Config{ClaimTimeout: 300 * time.Millisecond})
	ctx := context.Background()
	emails := addresses("s%02d@example.org", 12)
	rid := h.sendTo(t, emails...)
	if err := h.svc.Dispatch(ctx, rid); err != nil { // planned and enqueued, but no worker runs yet
		t.Fatal(err)
	}
	// The delivery tasks are lost, and a dead worker holds two deliveries.
	if _, err := asynq.NewInspectorFromRedisClient(h.rdb).DeleteAllPendingTasks(queue.QueueEmail); err != nil {
		t.Fatal(err)
	}
	held := []string{dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, emails[0]), dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, emails[1])}
	if c, _, err := h.store.ClaimDeliveries(ctx, rid, held, time.Now().Add(-time.Minute)); err != nil || len(c) != 2 {
		t.Fatalf("claim = %v, %v", c, err)
	}
	h.startWorkers(t)
	deadline := time.Now().Add(20 * time.Second)
	for {
		rel, err := h.store.Release(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if rel.Status == dispatcher.ReleaseSent {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("release still %s: %v", rel.Status, rel.Counts.ByStatus)
		}
		if _, err := h.svc.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(50 * time.Millisecond)
	}
	got := map[string]int{}
	for _, m := range h.smtp.Messages() {
		got[m.To[0]]++
	}
	for _, e := range emails {
		if got[e] != 1 {
			t.Errorf("%s got %d emails, want 1", e, got[e])
		}
	}
	if ids, _ := h.store.ActiveReleases(ctx); len(ids) != 1 {
		t.Fatalf("active releases = %v", ids)
	}
	if _, err := h.svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if ids, _ := h.store.ActiveReleases(ctx); len(ids) != 0 {
		t.Errorf("a sent release is still watched by the sweeper: %v", ids)
	}
}
