package main

import (
	"context"
	"fmt"
	"net/http"
	"net/url"

	"github.com/pregon/pregon/ratelimit"
	"github.com/pregon/pregon/tgbot"
)

// telegramWebhookURL reads PREGON_TELEGRAM_WEBHOOK_URL: when set, the bot's
// updates come to this URL (the API's POST /telegram/webhook, as the
// internet reaches it) instead of being polled, and its secret token is
// derived from PREGON_SECRET, which must then be set, as must the token.
func telegramWebhookURL(get func(name, def string) string, bad func(name, format string, args ...any), c *config) string {
	v := get("PREGON_TELEGRAM_WEBHOOK_URL", "")
	if v == "" {
		return ""
	}
	u, err := url.Parse(v)
	switch {
	case err != nil || u.Scheme != "https" || u.Host == "":
		bad("PREGON_TELEGRAM_WEBHOOK_URL", "want the https URL at which Telegram reaches POST /telegram/webhook, e.g. https://press.example.org/telegram/webhook, got %q", v)
	case c.TelegramToken == "":
		bad("PREGON_TELEGRAM_WEBHOOK_URL", "is set, but PREGON_TELEGRAM_TOKEN is not")
	case c.Secret == "":
		bad("PREGON_TELEGRAM_WEBHOOK_URL", "needs PREGON_SECRET, from which the webhook's secret token is derived")
	}
	return v
}

// telegramBot returns the consumer of the bot's updates (followers and the
// channels the bot is added to), or nil when no bot token is configured.
// It runs in the processes that serve the API, never in the workers, and
// only one of them polls at a time (a lease in Redis).
func (p *parts) telegramBot() (*tgbot.Bot, error) {
	if p.cfg.TelegramToken == "" {
		return nil, nil
	}
	cfg := tgbot.Config{Token: p.cfg.TelegramToken, APIURL: p.cfg.TelegramAPIURL, Store: p.store, Audit: p.store,
		Limiter: &ratelimit.Telegram{L: p.limiter, PerSecond: p.cfg.TelegramRate, PerChatPerMinute: p.cfg.TelegramChatRate},
		Now:     p.now, Logger: p.log.With("part", "telegram-updates")}
	if p.cfg.TelegramWebhookURL != "" {
		cfg.WebhookURL, cfg.WebhookSecret = p.cfg.TelegramWebhookURL, tgbot.WebhookSecret(p.cfg.Secret)
	}
	b, err := tgbot.New(cfg)
	if err != nil {
		return nil, fmt.Errorf("PREGON_TELEGRAM_TOKEN: %w", err)
	}
	return b, nil
}

// runTelegramBot consumes the bot's updates until ctx ends; a webhook that
// cannot be set is logged (the API keeps serving).
func (p *parts) runTelegramBot(ctx context.Context, b *tgbot.Bot) {
	if b == nil {
		return
	}
	go func() {
		if err := b.Run(ctx); err != nil {
			p.log.Error("telegram updates are not received", "channel", "telegram", "error", err)
		}
	}()
}

// telegramWebhook is the API's POST /telegram/webhook handler when the
// bot's updates come by webhook; nil otherwise.
func (p *parts) telegramWebhook() http.Handler {
	if p.bot == nil || p.cfg.TelegramWebhookURL == "" {
		return nil
	}
	return p.bot.WebhookHandler()
}
