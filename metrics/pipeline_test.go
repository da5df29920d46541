package metrics_test

import (
	"context"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/pregon/pregon/metrics"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

const botToken = "123456:TEST"

// TestPipelineCounts runs a release through the real pipeline (Redis, asynq
// workers, an SMTP server, a fake Bot API) with an address answered 451
// twice, one answered 550 and a Telegram 429, and checks what was counted.
func TestPipelineCounts(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st := store.New(rdb, nil)
	log := slog.New(slog.NewTextHandler(io.Discard, nil))
	smtpSrv, tg := smtptest.Start(t), telegramtest.Start(t, botToken)
	smtpSrv.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		switch {
		case strings.HasPrefix(rcpt, "flaky@") && attempt <= 2:
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		case strings.HasPrefix(rcpt, "gone@"):
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
		}
		return nil
	})
	tg.AddChat("@canal")
	tg.FailNext("@canal", 1, telegramtest.Failure{Status: 429, RetryAfter: 1})

	m := metrics.New(nil)
	mail, err := email.New(email.Config{URL: "smtp://" + smtpSrv.Addr + "?tls=none", From: dispatcher.Address{Email: "prensa@coalicion.example"}, PoolSize: 2, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mail.Close() })
	tgc, err := telegram.New(telegram.Config{Token: botToken, APIURL: tg.URL(), Timeout: 5 * time.Second, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dispatcher.NewService(dispatcher.Config{
		Store: st, Queue: queue.NewClient(rdb), Renderer: r, Email: m.Email(mail), Telegram: m.Telegram(tgc), Logger: log,
		MaxAttempts: 3, RetryBase: 50 * time.Millisecond, Observer: m,
	})
	if err != nil {
		t.Fatal(err)
	}
	w := queue.NewServer(rdb, queue.Config{Concurrency: 2, RetryBase: 50 * time.Millisecond, PollInterval: 20 * time.Millisecond, ShutdownTimeout: time.Second, Logger: log}, svc)
	if err := w.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(w.Shutdown)

	ch := &dispatcher.TelegramChannel{ChatID: "@canal", Language: "es"}
	if err := st.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	var cs []dispatcher.Contact
	for _, e := range []string{"ok@example.org", "flaky@example.org", "gone@example.org"} {
		cs = append(cs, dispatcher.Contact{Email: e, Language: "es"})
	}
	if _, _, err := st.UpsertContacts(ctx, l.ID, cs); err != nil {
		t.Fatal(err)
	}
	rel := &dispatcher.Release{Title: "Comunicado", Body: "Texto.", Language: "es",
		Audiences: dispatcher.Audiences{Lists: []string{l.ID}, TelegramChannels: []string{ch.ID}}}
	if err := st.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	if _, err := svc.Send(ctx, rel.ID, nil); err != nil {
		t.Fatal(err)
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		got, err := st.Release(ctx, rel.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Status == dispatcher.ReleaseSentWithFailures {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("release still %s: %+v", got.Status, got.Counts.ByStatus)
		}
		time.Sleep(20 * time.Millisecond)
	}

	want := `
# HELP pregon_deliveries_total Deliveries that reached a status (sent, failed, uncertain, retrying), by channel, counted when the outcome is recorded.
# TYPE pregon_deliveries_total counter
pregon_deliveries_total{channel="email",status="failed"} 1
pregon_deliveries_total{channel="email",status="retrying"} 2
pregon_deliveries_total{channel="email",status="sent"} 2
pregon_deliveries_total{channel="telegram",status="retrying"} 1
pregon_deliveries_total{channel="telegram",status="sent"} 1
# HELP pregon_retries_total Sends that failed and will be retried, by channel and reason (rate_limit, retry_after, timeout, transient).
# TYPE pregon_retries_total counter
pregon_retries_total{channel="email",reason="transient"} 2
pregon_retries_total{channel="telegram",reason="retry_after"} 1
# HELP pregon_telegram_429_total Telegram Bot API answers 429 Too Many Requests.
# TYPE pregon_telegram_429_total counter
pregon_telegram_429_total 1
`
	// An outcome is counted just after it is recorded, so the release can
	// be final in Redis a moment before its last outcome is counted: the
	// counters are read until they settle, and the last difference is the
	// failure.
	durations := []string{`pregon_send_duration_seconds_count{channel="email"} 5`, `pregon_send_duration_seconds_count{channel="telegram"} 2`}
	deadline = time.Now().Add(10 * time.Second)
	for {
		err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want),
			"pregon_deliveries_total", "pregon_retries_total", "pregon_telegram_429_total")
		body := scrape(t, m)
		var lacks []string
		for _, s := range durations {
			if !strings.Contains(body, s) {
				lacks = append(lacks, s)
			}
		}
		if err == nil && len(lacks) == 0 {
			return
		}
		if time.Now().After(deadline) {
			if err != nil {
				t.Error(err)
			}
			for _, s := range lacks {
				t.Errorf("scrape lacks %q", s)
			}
			return
		}
		time.Sleep(20 * time.Millisecond)
	}
}
