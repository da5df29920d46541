package telegram_test

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-telegram/bot"
	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/telegramtest"
)

const token = "123456:TEST-token-abc"

func newChannel(t testing.TB, apiURL string, mod func(*telegram.Config)) *telegram.Channel {
	t.Helper()
	cfg := telegram.Config{Token: token, APIURL: apiURL, Timeout: 10 * time.Second}
	if mod != nil {
		mod(&cfg)
	}
	c, err := telegram.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// statement is three parts of a release, each valid on its own.
var statement = []string{
	"<b>Comunicado: “Cambiemos el agua”</b>\n\n<i>Nota editorial: embargado hasta las 10:00.</i>\n\nLas comunidades de Peñón exigen… <a href=\"https://example.org/c/1?a=1&amp;b=2\">leer más</a>",
	"«No vamos a esperar otro año», dijo María Núñez. " + strings.Repeat("Texto del cuerpo con acentos: ñ, á, é. ", 60),
	"<b>Firman:</b> Colectivo Río Claro, Red de Mujeres del Sur\n\n<b>Contacto de prensa:</b> Ana Pérez, +52 55 0000 0000, prensa@example.org 👍",
}

func TestSendTelegramParts(t *testing.T) {
	for _, chat := range []string{"@canal", "-1001234567890"} {
		t.Run(chat, func(t *testing.T) {
			s := telegramtest.Start(t, token)
			s.AddChat(chat)
			c := newChannel(t, s.URL(), nil)

			ids, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{DeliveryID: "d1", ChatID: chat, Parts: statement})
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]string{"1", "2", "3"}, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			msgs := s.Messages(chat)
			if len(msgs) != len(statement) {
				t.Fatalf("fake got %d messages, want %d", len(msgs), len(statement))
			}
			for i, m := range msgs {
				if m.Text != statement[i] || m.ParseMode != "HTML" || fmt.Sprint(m.ID) != ids[i] {
					t.Errorf("message %d = {%d %q %q}, want {%s %q HTML}", i, m.ID, m.Text, m.ParseMode, ids[i], statement[i])
				}
				if want := i > 0; m.LinkPreviewDisabled != want {
					t.Errorf("message %d: link preview disabled = %v, want %v", i, m.LinkPreviewDisabled, want)
				}
			}
		})
	}
}

func TestSendTelegramErrors(t *testing.T) {
	closed := telegramtest.New(token)
	closedURL := closed.URL()
	closed.Close()

	tests := []struct {
		name       string
		limits     bool // the fake enforces rate limits
		setup      func(s *telegramtest.Server)
		url        string // default: the fake's
		config     func(*telegram.Config)
		ctx        func(t *testing.T) context.Context // default t.Context()
		chat       string                             // default "@canal"
		parts      []string
		handler    http.HandlerFunc // when set, serves the requests instead of the fake
		wantIDs    []string
		wantPosted int // messages the fake holds; default len(wantIDs)
		permanent  bool
		uncertain  bool // the message may have been posted: not to be sent again
		retryAfter time.Duration
		wantMsg    []string // substrings of the error
		wantIs     error
	}{
		{
			name: "429 on the second part",
			setup: func(s *telegramtest.Server) {
				s.FailAfter("@canal", 1, 1, telegramtest.Failure{Status: 429, RetryAfter: 3})
			},
			wantIDs:    []string{"1"},
			retryAfter: 3 * time.Second,
			wantMsg:    []string{"part 2 of 3 to @canal", "retry after 3"},
		},
		{
			name:       "real rate limit: 20 per minute per chat",
			limits:     true,
			parts:      manyParts(21),
			wantIDs:    seq(20),
			retryAfter: 60 * time.Second,
			wantMsg:    []string{"part 21 of 21 to @canal", "Too Many Requests"},
		},
		{
			name:      "kicked",
			setup:     func(s *telegramtest.Server) { s.Kick("@canal") },
			wantIDs:   []string{},
			permanent: true,
			wantMsg:   []string{"part 1 of 3 to @canal", "Forbidden: bot was kicked from the channel chat"},
			wantIs:    bot.ErrorForbidden,
		},
		{
			name:      "chat not found",
			chat:      "@otro",
			wantIDs:   []string{},
			permanent: true,
			wantMsg:   []string{"to @otro", "Bad Request: chat not found"},
			wantIs:    bot.ErrorBadRequest,
		},
		{
			name:      "bad HTML in the second part",
			parts:     []string{"uno", "dos<br>tres", "cuatro"},
			wantIDs:   []string{"1"},
			permanent: true,
			wantMsg:   []string{"part 2 of 3", `Bad Request: can't parse entities: Unsupported start tag "br"`},
			wantIs:    bot.ErrorBadRequest,
		},
		{
			name:      "too long",
			parts:     []string{strings.Repeat("👍", 2049)},
			wantIDs:   []string{},
			permanent: true,
			wantMsg:   []string{"Bad Request: message is too long"},
		},
		{
			name:      "bad token",
			config:    func(c *telegram.Config) { c.Token = "123456:wrong" },
			wantIDs:   []string{},
			permanent: true,
			wantMsg:   []string{"bad bot token", "Unauthorized"},
			wantIs:    telegram.ErrBadToken,
		},
		{
			name:      "invalid chat id",
			chat:      "canal",
			wantIDs:   nil,
			permanent: true,
			wantIs:    telegram.ErrInvalidChatID,
		},
		{
			name:    "502 JSON",
			setup:   func(s *telegramtest.Server) { s.FailNext("@canal", 1, telegramtest.Failure{Status: 502}) },
			wantIDs: []string{},
			wantMsg: []string{"part 1 of 3 to @canal", "502 Bad Gateway"},
		},
		{
			name:    "500 JSON after the first part",
			setup:   func(s *telegramtest.Server) { s.FailAfter("@canal", 1, 1, telegramtest.Failure{Status: 500}) },
			wantIDs: []string{"1"},
			wantMsg: []string{"500 Internal Server Error"},
		},
		{
			name:    "HTML error page",
			setup:   func(s *telegramtest.Server) { s.FailNext("@canal", 1, telegramtest.Failure{HTMLPage: true}) },
			wantIDs: []string{},
			wantMsg: []string{"HTTP 502 Bad Gateway (text/html)"},
			wantIs:  telegram.ErrUnexpectedResponse,
		},
		{
			name:      "hang past Timeout",
			setup:     func(s *telegramtest.Server) { s.FailAfter("@canal", 2, 1, telegramtest.Failure{Hang: true}) },
			config:    func(c *telegram.Config) { c.Timeout = 200 * time.Millisecond },
			wantIDs:   []string{"1", "2"},
			uncertain: true,
			wantIs:    context.DeadlineExceeded,
		},
		{
			name:      "hang past the HTTP client's timeout",
			setup:     func(s *telegramtest.Server) { s.FailNext("@canal", 1, telegramtest.Failure{Hang: true}) },
			config:    func(c *telegram.Config) { c.HTTPClient = &http.Client{Timeout: 200 * time.Millisecond} },
			wantIDs:   []string{},
			uncertain: true,
			wantMsg:   []string{"Client.Timeout exceeded"},
			wantIs:    telegram.ErrNoAnswer,
		},
		{
			name:  "hang past the caller's deadline",
			setup: func(s *telegramtest.Server) { s.FailNext("@canal", 1, telegramtest.Failure{Hang: true}) },
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			},
			wantIDs:   []string{},
			uncertain: true,
			wantIs:    context.DeadlineExceeded,
		},
		{
			name:      "connection reset after the request",
			setup:     func(s *telegramtest.Server) { s.FailNext("@canal", 1, telegramtest.Failure{Reset: true}) },
			wantIDs:   []string{},
			uncertain: true,
			wantMsg:   []string{"part 1 of 3 to @canal", "EOF"},
			wantIs:    telegram.ErrNoAnswer,
		},
		{
			name: "posted, then the connection reset",
			setup: func(s *telegramtest.Server) {
				s.FailAfter("@canal", 1, 1, telegramtest.Failure{Reset: true, AfterDelivery: true})
			},
			wantIDs:    []string{"1"},
			wantPosted: 2,
			uncertain:  true,
			wantMsg:    []string{"part 2 of 3 to @canal"},
			wantIs:     telegram.ErrNoAnswer,
		},
		{
			name: "posted, then no answer",
			setup: func(s *telegramtest.Server) {
				s.FailNext("@canal", 1, telegramtest.Failure{Hang: true, AfterDelivery: true})
			},
			config:     func(c *telegram.Config) { c.Timeout = 200 * time.Millisecond },
			wantIDs:    []string{},
			wantPosted: 1,
			uncertain:  true,
			wantIs:     context.DeadlineExceeded,
		},
		{
			name:      "200 with a truncated body",
			handler:   truncated(http.StatusOK, `{"ok":true,"result":{"message_id":`),
			wantIDs:   []string{},
			uncertain: true,
			wantIs:    telegram.ErrNoAnswer,
		},
		{
			name:    "503 with a truncated body",
			handler: truncated(http.StatusServiceUnavailable, `{"ok":false,`),
			wantIDs: []string{},
		},
		{
			name:    "server down: nothing was written",
			url:     closedURL,
			wantIDs: []string{},
			wantMsg: []string{"connect"},
		},
		{
			name: "caller's context already cancelled",
			ctx: func(t *testing.T) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				return ctx
			},
			wantIDs: []string{},
			wantIs:  context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []telegramtest.Option
			if !tt.limits {
				opts = append(opts, telegramtest.NoRateLimits())
			}
			s := telegramtest.Start(t, token, opts...)
			s.AddChat("@canal")
			if tt.setup != nil {
				tt.setup(s)
			}
			u := s.URL()
			if tt.url != "" {
				u = tt.url
			}
			if tt.handler != nil {
				hs := httptest.NewServer(tt.handler)
				hs.Config.ErrorLog = log.New(io.Discard, "", 0)
				t.Cleanup(hs.Close)
				u = hs.URL
			}
			c := newChannel(t, u, tt.config)
			ctx := t.Context()
			if tt.ctx != nil {
				ctx = tt.ctx(t)
			}
			chat := tt.chat
			if chat == "" {
				chat = "@canal"
			}
			parts := tt.parts
			if parts == nil {
				parts = []string{"uno", "dos", "tres"}
			}

			ids, err := c.SendTelegram(ctx, &dispatcher.TelegramPost{ChatID: chat, Parts: parts})
			if err == nil {
				t.Fatalf("no error; ids %v", ids)
			}
			t.Logf("error: %v", err)
			var se *dispatcher.SendError
			if !errors.As(err, &se) {
				t.Fatalf("error %v is not a *dispatcher.SendError", err)
			}
			if diff := cmp.Diff(tt.wantIDs, ids); diff != "" {
				t.Errorf("ids (-want +got):\n%s", diff)
			}
			if se.Permanent != tt.permanent || se.Uncertain != tt.uncertain {
				t.Errorf("permanent=%v uncertain=%v, want permanent=%v uncertain=%v: %v", se.Permanent, se.Uncertain, tt.permanent, tt.uncertain, err)
			}
			if se.RetryAfter != tt.retryAfter {
				t.Errorf("RetryAfter = %s, want %s", se.RetryAfter, tt.retryAfter)
			}
			for _, want := range tt.wantMsg {
				if !strings.Contains(err.Error(), want) {
					t.Errorf("error %q does not contain %q", err, want)
				}
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %v is not %v", err, tt.wantIs)
			}
			if strings.Contains(err.Error(), "TEST-token") || strings.Contains(err.Error(), "<html>") {
				t.Errorf("error leaks the token or the body: %v", err)
			}
			wantPosted := tt.wantPosted
			if wantPosted == 0 {
				wantPosted = len(tt.wantIDs)
			}
			if got := len(s.Messages("@canal")); got != wantPosted {
				t.Errorf("fake holds %d messages, want %d", got, wantPosted)
			}
		})
	}
}

func manyParts(n int) []string {
	parts := make([]string, n)
	for i := range parts {
		parts[i] = fmt.Sprintf("parte %d", i+1)
	}
	return parts
}

func seq(n int) []string {
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprint(i + 1)
	}
	return ids
}

func TestSendTelegramNoParts(t *testing.T) {
	c := newChannel(t, "http://127.0.0.1:1", nil)
	for _, p := range []*dispatcher.TelegramPost{nil, {ChatID: "@canal"}} {
		ids, err := c.SendTelegram(t.Context(), p)
		if len(ids) != 0 || !dispatcher.IsPermanent(err) {
			t.Errorf("SendTelegram(%+v) = %v, %v; want a permanent error", p, ids, err)
		}
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name    string
		cfg     telegram.Config
		wantErr bool
	}{
		{"defaults", telegram.Config{Token: token}, false},
		// New makes no request: a server that is down does not matter.
		{"server down", telegram.Config{Token: token, APIURL: "http://127.0.0.1:1/"}, false},
		{"empty token", telegram.Config{Token: " "}, true},
		{"bad URL", telegram.Config{Token: token, APIURL: "api.telegram.org"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := telegram.New(tt.cfg)
			if (err != nil) != tt.wantErr {
				t.Errorf("New() error = %v, want error %v", err, tt.wantErr)
			}
		})
	}
}

func TestSendTelegramConcurrent(t *testing.T) {
	s := telegramtest.Start(t, token, telegramtest.NoRateLimits())
	c := newChannel(t, s.URL(), nil)
	const chats = 12
	var wg sync.WaitGroup
	errs := make(chan error, chats)
	for i := range chats {
		chat := fmt.Sprintf("@canal%d", i)
		s.AddChat(chat)
		wg.Go(func() {
			ids, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{ChatID: chat, Parts: statement})
			if err == nil && len(ids) != len(statement) {
				err = fmt.Errorf("%s: %d ids", chat, len(ids))
			}
			errs <- err
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Error(err)
		}
	}
	for i := range chats {
		chat := fmt.Sprintf("@canal%d", i)
		for j, m := range s.Messages(chat) {
			if m.Text != statement[j] {
				t.Errorf("%s message %d out of order", chat, j)
			}
		}
	}
	if got := s.Total(); got != chats*int64(len(statement)) {
		t.Errorf("Total() = %d, want %d", got, chats*len(statement))
	}
}

func BenchmarkSendTelegram(b *testing.B) {
	s := telegramtest.New(token, telegramtest.NoRateLimits())
	defer s.Close()
	s.AddChat("@canal")
	c := newChannel(b, s.URL(), nil)
	post := &dispatcher.TelegramPost{ChatID: "@canal", Parts: statement}
	b.ReportAllocs()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			if _, err := c.SendTelegram(context.Background(), post); err != nil {
				b.Error(err)
				return
			}
		}
	})
	b.ReportMetric(float64(s.Total())/b.Elapsed().Seconds(), "msgs/s")
}

// truncated answers status with a body that ends after prefix, short of
// the 200 bytes its Content-Length promises, and breaks the connection.
func truncated(status int, prefix string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		io.Copy(io.Discard, r.Body)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Content-Length", "200")
		w.WriteHeader(status)
		io.WriteString(w, prefix)
		w.(http.Flusher).Flush()
		panic(http.ErrAbortHandler)
	}
}
