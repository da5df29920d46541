// Package tgbot is the receiving side of Pregón's Telegram bot: the
// updates Telegram sends it (private commands of followers, the bot's own
// membership of channels, groups upgraded to supergroups), taken by one
// consumer for the whole deployment: long polling (getUpdates) under a
// lease in Redis, so that only one process polls at a time, or a webhook
// whose secret-token header is checked.
package tgbot

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// Defaults for Config's zero values.
const (
	DefaultAPIURL      = "https://api.telegram.org"
	DefaultPollTimeout = 25 * time.Second
	DefaultLeaseTTL    = 60 * time.Second
)

// Store is what the bot keeps in Redis. store.Store implements it.
type Store interface {
	AddFollower(ctx context.Context, chatID, language string) (bool, error)
	SetFollowerLanguage(ctx context.Context, chatID, language string) error
	RemoveFollower(ctx context.Context, chatID string) (bool, error)
	Follower(ctx context.Context, chatID string) (*dispatcher.Follower, error)
	FoundChannel(ctx context.Context, chatID, username, title string) (*dispatcher.TelegramChannel, bool, error)
	MarkChannelUnavailable(ctx context.Context, chatID, reason string, at time.Time) (bool, error)
	ChannelByChat(ctx context.Context, chatID string) (*dispatcher.TelegramChannel, error)
	MigrateChat(ctx context.Context, from, to string) (*dispatcher.TelegramChannel, bool, error)
	UpdatesOffset(ctx context.Context) (int64, error)
	SetUpdatesOffset(ctx context.Context, holder string, offset int64) (bool, error)
	AcquireUpdatesLease(ctx context.Context, holder string, ttl time.Duration) (bool, error)
	ReleaseUpdatesLease(ctx context.Context, holder string) error
}

// Auditor records the changes the bot makes (store.Store implements it).
type Auditor interface {
	AppendAudit(ctx context.Context, e *audit.Entry) error
}

// Limiter paces the bot's answers with the rest of its messages
// (telegram.Limiter's shape).
type Limiter interface {
	Wait(ctx context.Context, chatID string) error
}

// Config configures a Bot.
type Config struct {
	// Token is the bot's token from @BotFather. Required.
	Token string
	// APIURL is the Bot API base URL (default DefaultAPIURL).
	APIURL string
	// HTTPClient makes the requests (default: a new http.Client).
	HTTPClient *http.Client
	// Store keeps followers, channels, the updates offset and the lease. Required.
	Store Store
	// Audit, when set, records channels found, removed and migrated.
	Audit Auditor
	// Limiter, when set, is waited on before each answer.
	Limiter Limiter
	// DefaultLanguage is a new follower's language when its Telegram
	// client reports neither es nor en (default "es").
	DefaultLanguage string
	// WebhookURL, when set, makes Run set this webhook (with
	// WebhookSecret) instead of polling.
	WebhookURL    string
	WebhookSecret string
	// Holder names this process in the poller's lease (default: a new
	// random id). PollTimeout is getUpdates' long-poll timeout (default
	// DefaultPollTimeout); LeaseTTL how long the lease outlives its last
	// renewal (default DefaultLeaseTTL; more than PollTimeout).
	Holder      string
	PollTimeout time.Duration
	LeaseTTL    time.Duration
	// Now is the clock (default time.Now); Logger the log (default: discard).
	Now    func() time.Time
	Logger *slog.Logger
}

// Bot handles the updates of the bot.
type Bot struct {
	cfg    Config
	api    *bot.Bot
	apiURL string
	hc     *http.Client
	log    *slog.Logger
}

// New returns a Bot; it makes no request. It fails when the token or the
// store is missing, or a URL is not http(s).
func New(cfg Config) (*Bot, error) {
	if strings.TrimSpace(cfg.Token) == "" {
		return nil, errors.New("tgbot: empty bot token")
	}
	if cfg.Store == nil {
		return nil, errors.New("tgbot: Config.Store is required")
	}
	apiURL := strings.TrimRight(cfg.APIURL, "/")
	if apiURL == "" {
		apiURL = DefaultAPIURL
	}
	if !httpURL(apiURL) {
		return nil, fmt.Errorf("tgbot: invalid Bot API URL %q", cfg.APIURL)
	}
	if cfg.WebhookURL != "" && (!httpURL(cfg.WebhookURL) || cfg.WebhookSecret == "") {
		return nil, fmt.Errorf("tgbot: the webhook needs an http(s) URL (got %q) and a secret", cfg.WebhookURL)
	}
	if cfg.DefaultLanguage == "" {
		cfg.DefaultLanguage = "es"
	}
	if cfg.Holder == "" {
		cfg.Holder = dispatcher.NewWorkerID()
	}
	if cfg.PollTimeout <= 0 {
		cfg.PollTimeout = DefaultPollTimeout
	}
	if cfg.LeaseTTL <= cfg.PollTimeout {
		cfg.LeaseTTL = max(DefaultLeaseTTL, 2*cfg.PollTimeout)
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	b := &Bot{cfg: cfg, apiURL: apiURL, hc: cfg.HTTPClient, log: cfg.Logger}
	if b.log == nil {
		b.log = slog.New(slog.DiscardHandler)
	}
	if b.hc == nil {
		b.hc = &http.Client{}
	}
	api, err := bot.New(cfg.Token, bot.WithServerURL(apiURL), bot.WithSkipGetMe(),
		bot.WithHTTPClient(cfg.PollTimeout+30*time.Second, b.hc),
		bot.WithErrorsHandler(func(err error) { b.log.Error("go-telegram/bot", "channel", "telegram", "error", err) }))
	if err != nil {
		return nil, fmt.Errorf("tgbot: %w", err)
	}
	b.api = api
	return b, nil
}

func httpURL(s string) bool {
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// WebhookSecret derives the webhook's secret token from the server's
// secret (PREGON_SECRET): 64 hex digits, which Telegram sends back in the
// X-Telegram-Bot-Api-Secret-Token header of every update.
func WebhookSecret(serverSecret string) string {
	m := hmac.New(sha256.New, []byte(serverSecret))
	m.Write([]byte("pregon telegram webhook secret token"))
	return hex.EncodeToString(m.Sum(nil))
}

// allowedUpdates are the updates the bot asks for.
var allowedUpdates = []string{models.AllowedUpdateMessage, models.AllowedUpdateMyChatMember}

// Run consumes the bot's updates until ctx ends. With Config.WebhookURL
// it sets the webhook (Telegram then posts updates to WebhookHandler) and
// waits; otherwise it polls getUpdates while it holds the lease, and
// waits for the lease while another process holds it. It returns nil when
// ctx ends, or an error when the webhook cannot be set.
func (b *Bot) Run(ctx context.Context) error {
	if b.cfg.WebhookURL != "" {
		if err := b.setWebhook(ctx); err != nil {
			return err
		}
		<-ctx.Done()
		return nil
	}
	b.poll(ctx)
	return nil
}

func (b *Bot) setWebhook(ctx context.Context) error {
	ok, err := b.api.SetWebhook(ctx, &bot.SetWebhookParams{URL: b.cfg.WebhookURL, SecretToken: b.cfg.WebhookSecret, AllowedUpdates: allowedUpdates})
	if err != nil || !ok {
		return fmt.Errorf("tgbot: setWebhook %s: %v", b.cfg.WebhookURL, err)
	}
	b.log.Info("telegram updates come to the webhook", "channel", "telegram", "url", b.cfg.WebhookURL)
	return nil
}

// reply sends text to a private chat, logging a failure.
func (b *Bot) reply(ctx context.Context, chatID int64, text string) {
	chat := fmt.Sprint(chatID)
	if b.cfg.Limiter != nil {
		if err := b.cfg.Limiter.Wait(ctx, chat); err != nil {
			b.log.Warn("telegram answer not sent", "channel", "telegram", "chat_id", chat, "error", err)
			return
		}
	}
	if _, err := b.api.SendMessage(ctx, &bot.SendMessageParams{ChatID: chatID, Text: text}); err != nil {
		b.log.Warn("telegram answer not sent", "channel", "telegram", "chat_id", chat, "error", err)
	}
}

// record appends an audit entry for a change the bot made (actor
// "telegram"), logging a failure: the change is made already.
func (b *Bot) record(ctx context.Context, action audit.Action, target string, detail map[string]any) {
	if b.cfg.Audit == nil {
		return
	}
	e := &audit.Entry{Actor: "telegram", Client: "telegram", Action: action, Target: target, Detail: detail}
	if err := b.cfg.Audit.AppendAudit(context.WithoutCancel(ctx), e); err != nil {
		b.log.Error("cannot record the bot's change in the audit log", "channel", "telegram", "action", action, "target", target, "error", err)
	}
}
