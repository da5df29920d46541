package metrics_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/metrics"
	"github.com/pregon/pregon/ratelimit"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

type fakeEmail struct{ err error }

func (f fakeEmail) SendEmail(context.Context, *dispatcher.EmailMessage) (string, error) {
	return "<id@x>", f.err
}

type fakeTelegram struct{ err error }

func (f fakeTelegram) SendTelegram(context.Context, *dispatcher.TelegramPost) ([]string, error) {
	return nil, f.err
}

type counts map[dispatcher.ReleaseStatus]int64

func (c counts) ReleaseCounts(context.Context) (map[dispatcher.ReleaseStatus]int64, error) {
	if c == nil {
		return nil, errors.New("redis down")
	}
	return c, nil
}

// clock advances by step at each reading.
func clock(step time.Duration) func() time.Time {
	t := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	return func() time.Time { t = t.Add(step); return t }
}

func TestCounters(t *testing.T) {
	m := metrics.New(clock(250 * time.Millisecond))
	if err := m.WatchReleases(counts{dispatcher.ReleaseSending: 2, dispatcher.ReleaseSent: 5}); err != nil {
		t.Fatal(err)
	}
	if err := m.WatchSMTPConns(func() int { return 3 }); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for range 3 {
		m.Email(fakeEmail{}).SendEmail(ctx, &dispatcher.EmailMessage{})
		m.DeliveryRecorded(dispatcher.ChannelEmail, dispatcher.DeliverySent)
	}
	tooMany := dispatcher.Transient(fmt.Errorf("send: %w", &bot.TooManyRequestsError{RetryAfter: 3}), 3*time.Second)
	m.Telegram(fakeTelegram{err: tooMany}).SendTelegram(ctx, &dispatcher.TelegramPost{})
	m.Telegram(fakeTelegram{err: errors.New("other")}).SendTelegram(ctx, &dispatcher.TelegramPost{})
	m.DeliveryRetrying(dispatcher.ChannelTelegram, tooMany)
	m.DeliveryRetrying(dispatcher.ChannelEmail, dispatcher.Transient(fmt.Errorf("x: %w", ratelimit.ErrRateLimited), time.Minute))
	m.RateLimitWait(ratelimit.Rule{Key: "telegram:chat:@c"}, time.Second)
	m.RateLimitWait(ratelimit.Rule{Key: "email"}, time.Second)

	want := `
# HELP pregon_deliveries_total Deliveries that reached a status (sent, failed, uncertain, retrying), by channel, counted when the outcome is recorded.
# TYPE pregon_deliveries_total counter
pregon_deliveries_total{channel="email",status="sent"} 3
# HELP pregon_rate_limit_waits_total Times a send had to wait for a turn under a shared rate limit, by channel.
# TYPE pregon_rate_limit_waits_total counter
pregon_rate_limit_waits_total{channel="email"} 1
pregon_rate_limit_waits_total{channel="telegram"} 1
# HELP pregon_releases Releases in each status, read from the store at scrape time.
# TYPE pregon_releases gauge
pregon_releases{status="sending"} 2
pregon_releases{status="sent"} 5
# HELP pregon_retries_total Sends that failed and will be retried, by channel and reason (rate_limit, retry_after, timeout, transient).
# TYPE pregon_retries_total counter
pregon_retries_total{channel="email",reason="rate_limit"} 1
pregon_retries_total{channel="telegram",reason="retry_after"} 1
# HELP pregon_smtp_connections SMTP connections this process holds, idle in the pool or in use.
# TYPE pregon_smtp_connections gauge
pregon_smtp_connections 3
# HELP pregon_telegram_429_total Telegram Bot API answers 429 Too Many Requests.
# TYPE pregon_telegram_429_total counter
pregon_telegram_429_total 1
`
	names := []string{"pregon_deliveries_total", "pregon_rate_limit_waits_total", "pregon_releases",
		"pregon_retries_total", "pregon_smtp_connections", "pregon_telegram_429_total"}
	if err := testutil.GatherAndCompare(m.Registry(), strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	// Each send took one clock step: 3 emails of 0.25s, 2 posts of 0.25s.
	if n := testutil.CollectAndCount(m.Registry(), "pregon_send_duration_seconds"); n != 2 {
		t.Errorf("pregon_send_duration_seconds has %d series, want 2", n)
	}
	body := scrape(t, m)
	for _, s := range []string{
		`pregon_send_duration_seconds_count{channel="email"} 3`,
		`pregon_send_duration_seconds_sum{channel="email"} 0.75`,
		`pregon_send_duration_seconds_count{channel="telegram"} 2`,
		"go_build_info{",
	} {
		if !strings.Contains(body, s) {
			t.Errorf("scrape lacks %q:\n%s", s, body)
		}
	}
}

func TestReleasesCollectorFailure(t *testing.T) {
	m := metrics.New(nil)
	if err := m.WatchReleases(counts(nil)); err != nil {
		t.Fatal(err)
	}
	m.DeliveryRecorded(dispatcher.ChannelEmail, dispatcher.DeliveryFailed)
	// The other metrics are still served when the store cannot be read.
	body := scrape(t, m)
	if !strings.Contains(body, `pregon_deliveries_total{channel="email",status="failed"} 1`) {
		t.Errorf("scrape lacks the deliveries:\n%s", body)
	}
	if strings.Contains(body, "pregon_releases{") {
		t.Errorf("scrape has pregon_releases although the store failed:\n%s", body)
	}
}

func TestRetryReason(t *testing.T) {
	tests := []struct {
		err  error
		want string
	}{
		{dispatcher.Transient(fmt.Errorf("k: %w", ratelimit.ErrRateLimited), time.Minute), "rate_limit"},
		{dispatcher.Transient(errors.New("429"), 3*time.Second), "retry_after"},
		{dispatcher.Transient(fmt.Errorf("dial: %w", context.DeadlineExceeded), 0), "timeout"},
		{dispatcher.Transient(errors.New("451 try later"), 0), "transient"},
	}
	for _, tt := range tests {
		if got := metrics.RetryReason(tt.err); got != tt.want {
			t.Errorf("RetryReason(%v) = %q, want %q", tt.err, got, tt.want)
		}
	}
}

func scrape(t *testing.T, m *metrics.Metrics) string {
	t.Helper()
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	if rec.Code != 200 {
		t.Fatalf("scrape: status %d: %s", rec.Code, rec.Body)
	}
	return rec.Body.String()
}
