package tgbot_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/tgbot"
)

const token = "123456:test-token"

type rig struct {
	tg    *telegramtest.Server
	store *store.Store
}

func newRig(t *testing.T) *rig {
	t.Helper()
	srv := redistest.Start(t)
	return &rig{tg: telegramtest.Start(t, token, telegramtest.NoRateLimits()), store: store.New(srv.Client(t), nil)}
}

func (r *rig) bot(t *testing.T, holder string) *tgbot.Bot {
	t.Helper()
	b, err := tgbot.New(tgbot.Config{Token: token, APIURL: r.tg.URL(), Store: r.store, Audit: r.store,
		Holder: holder, PollTimeout: time.Second, LeaseTTL: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// run runs b's consumer until the returned stop is called (or the test ends).
func run(t *testing.T, b *tgbot.Bot) (stop func()) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		if err := b.Run(ctx); err != nil {
			t.Errorf("Run: %v", err)
		}
	}()
	var once sync.Once
	stop = func() { once.Do(func() { cancel(); wg.Wait() }) }
	t.Cleanup(stop)
	return stop
}

// handled waits until the fake has no unconfirmed update.
func (r *rig) handled(t *testing.T) {
	t.Helper()
	testkit.WaitFor(t, "updates confirmed", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		n := r.tg.Pending()
		return n == 0, fmt.Sprintf("%d updates pending", n)
	})
}

func (r *rig) follower(t *testing.T, chat string) *dispatcher.Follower {
	t.Helper()
	f, err := r.store.Follower(context.Background(), chat)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	return f
}

// lastText returns the last message the bot sent to chat.
func (r *rig) lastText(t *testing.T, chat string, n int) string {
	t.Helper()
	ms := r.tg.WaitFor(t, chat, n, 10*time.Second)
	return ms[n-1].PlainText
}

func TestFollowerCommands(t *testing.T) {
	r := newRig(t)
	run(t, r.bot(t, "a"))
	steps := []struct {
		user           int64
		langCode, text string
		wantLang       string // "" means not a follower
		wantReply      string
	}{
		{101, "es-MX", "/start", "es", "Listo"},
		{202, "en", "/start", "en", "Done"},
		{303, "pt-BR", "/start", "es", "Listo"}, // neither es nor en: the default
		{101, "es", "/start", "es", "Ya recibes"},
		{101, "es", "/language en", "en", "in English"},
		{202, "en", "/idioma@pregon_test_bot es", "es", "en español"},
		{202, "en", "/idioma fr", "es", "/idioma es"},
		{303, "pt", "/stop", "", "Ya no recibirás"},
		{404, "en", "/idioma es", "", "Aún no recibes"},
		{101, "en", "hello", "en", "Commands"},
	}
	sent := map[int64]int{}
	for _, s := range steps {
		r.tg.PushCommand(s.user, s.langCode, s.text)
		r.handled(t)
		chat := fmt.Sprint(s.user)
		sent[s.user]++
		if got := r.lastText(t, chat, sent[s.user]); !strings.Contains(got, s.wantReply) {
			t.Errorf("%d %q: answer %q, want it to contain %q", s.user, s.text, got, s.wantReply)
		}
		f := r.follower(t, chat)
		switch {
		case s.wantLang == "" && f != nil:
			t.Errorf("%d %q: still a follower: %+v", s.user, s.text, f)
		case s.wantLang != "" && (f == nil || f.Language != s.wantLang):
			t.Errorf("%d %q: follower %+v, want language %s", s.user, s.text, f, s.wantLang)
		}
	}
	n, err := r.store.FollowerCount(context.Background())
	if err != nil || n != 2 {
		t.Fatalf("FollowerCount = %d, %v; want 2", n, err)
	}
}

func TestChannelMembership(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	run(t, r.bot(t, "a"))
	r.tg.PushMyChatMember("@prensa_canal", "Prensa Canal", "left", "administrator")
	r.handled(t)
	c, err := r.store.ChannelByChat(ctx, fmt.Sprint(r.tg.ChatNumericID("@prensa_canal")))
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != dispatcher.ChannelPending || c.Title != "Prensa Canal" {
		t.Fatalf("found channel = %+v, want pending, titled Prensa Canal", c)
	}
	// Made admin again (an update delivered twice): still the one channel.
	r.tg.PushMyChatMember("@prensa_canal", "Prensa Canal", "left", "administrator")
	r.handled(t)
	cs, _, err := r.store.Channels(ctx, "", 10)
	if err != nil || len(cs) != 1 {
		t.Fatalf("Channels = %d, %v; want 1", len(cs), err)
	}
	if _, err := r.store.ApproveChannel(ctx, c.ID); err != nil {
		t.Fatal(err)
	}
	r.tg.PushMyChatMember("@prensa_canal", "Prensa Canal", "administrator", "kicked")
	r.handled(t)
	c, err = r.store.Channel(ctx, c.ID)
	if err != nil {
		t.Fatal(err)
	}
	if c.Status != dispatcher.ChannelUnavailable || !strings.Contains(c.UnavailableReason, "removed") {
		t.Fatalf("after kick: %+v, want unavailable, removed", c)
	}
	page, err := r.store.AuditEntries(ctx, audit.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var actions []string
	for _, e := range page.Entries {
		actions = append(actions, string(e.Action))
	}
	if got := strings.Join(actions, " "); !strings.Contains(got, "channel.found") || !strings.Contains(got, "channel.removed") {
		t.Fatalf("audit actions %q, want channel.found and channel.removed", got)
	}
}

func TestMigrationUpdate(t *testing.T) {
	ctx := context.Background()
	r := newRig(t)
	c := &dispatcher.TelegramChannel{ChatID: "-4001", Title: "Grupo"}
	if err := r.store.CreateChannel(ctx, c); err != nil {
		t.Fatal(err)
	}
	run(t, r.bot(t, "a"))
	r.tg.PushMigration(-4001, -1004001)
	r.handled(t)
	got, err := r.store.ChannelByChat(ctx, "-1004001")
	if err != nil || got.ID != c.ID || got.ChatID != "-1004001" {
		t.Fatalf("channel of the supergroup = %+v, %v; want %s with the new chat id", got, err, c.ID)
	}
	if _, err := r.store.ChannelByChat(ctx, "-4001"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Fatalf("old chat still registered: %v", err)
	}
}

func TestOnePollerAtATime(t *testing.T) {
	r := newRig(t)
	stopA := run(t, r.bot(t, "a"))
	run(t, r.bot(t, "b"))
	for i := range 20 {
		r.tg.PushCommand(int64(1000+i), "en", "/start")
	}
	r.handled(t)
	// The holder stops: the other takes over.
	stopA()
	for i := range 5 {
		r.tg.PushCommand(int64(2000+i), "es", "/start")
	}
	r.handled(t)
	n, err := r.store.FollowerCount(context.Background())
	if err != nil || n != 25 {
		t.Fatalf("FollowerCount = %d, %v; want 25", n, err)
	}
	for i := range 20 {
		if ms := r.tg.Messages(fmt.Sprint(1000 + i)); len(ms) != 1 {
			t.Errorf("chat %d got %d answers, want 1", 1000+i, len(ms))
		}
	}
	if conflicts, most := r.tg.PollConflicts(); conflicts != 0 || most != 1 {
		t.Fatalf("getUpdates conflicts = %d, most in flight = %d; want 0 and 1", conflicts, most)
	}
}

func TestWebhook(t *testing.T) {
	r := newRig(t)
	secret := tgbot.WebhookSecret("a-server-secret-of-32-characters")
	b, err := tgbot.New(tgbot.Config{Token: token, APIURL: r.tg.URL(), Store: r.store,
		WebhookURL: "https://press.example.org/telegram/webhook", WebhookSecret: secret})
	if err != nil {
		t.Fatal(err)
	}
	run(t, b)
	testkit.WaitFor(t, "setWebhook", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		u, s := r.tg.Webhook()
		return u == "https://press.example.org/telegram/webhook" && s == secret, "webhook " + u
	})
	const body = `{"update_id":7,"message":{"message_id":1,"date":1,"text":"/start","chat":{"id":555,"type":"private"},"from":{"id":555,"is_bot":false,"first_name":"F","language_code":"en"}}}`
	srv := httptest.NewServer(b.WebhookHandler())
	t.Cleanup(srv.Close)
	post := func(secretHeader string) int {
		t.Helper()
		req, err := http.NewRequest(http.MethodPost, srv.URL+"/telegram/webhook", strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		if secretHeader != "" {
			req.Header.Set(tgbot.SecretHeader, secretHeader)
		}
		resp, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	r.tg.AddChat("555")
	for _, h := range []string{"", "wrong", secret[:63]} {
		if st := post(h); st != http.StatusUnauthorized {
			t.Fatalf("secret %q: status %d, want 401", h, st)
		}
	}
	if f := r.follower(t, "555"); f != nil {
		t.Fatalf("a refused update made a follower: %+v", f)
	}
	if st := post(secret); st != http.StatusOK {
		t.Fatalf("right secret: status %d, want 200", st)
	}
	if f := r.follower(t, "555"); f == nil || f.Language != "en" {
		t.Fatalf("follower = %+v, want one in en", f)
	}
	// Back to polling: the poller deletes the webhook first.
	run(t, r.bot(t, "a"))
	testkit.WaitFor(t, "deleteWebhook", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		u, _ := r.tg.Webhook()
		return u == "", "webhook " + u
	})
	r.tg.PushCommand(556, "es", "/start")
	r.handled(t)
	if f := r.follower(t, "556"); f == nil {
		t.Fatal("no follower from polling after the webhook was deleted")
	}
}
