package main

import (
	"context"
	"log/slog"
	"time"

	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/webhooks"
)

// webhooksConfig configures the outgoing webhooks.
type webhooksConfig struct {
	Policy       webhooks.Policy
	DisableAfter time.Duration
}

// loadWebhooks reads PREGON_WEBHOOKS_ALLOW_PRIVATE, PREGON_WEBHOOKS_ALLOW_HTTP
// (true or false, default false) and PREGON_WEBHOOK_DISABLE_AFTER (a
// duration, default 24h), and reports a problem through bad.
func loadWebhooks(get func(name, def string) string, bad func(name, format string, args ...any)) webhooksConfig {
	c := webhooksConfig{DisableAfter: webhooks.DefaultDisableAfter}
	for name, dst := range map[string]*bool{"PREGON_WEBHOOKS_ALLOW_PRIVATE": &c.Policy.AllowPrivate, "PREGON_WEBHOOKS_ALLOW_HTTP": &c.Policy.AllowHTTP} {
		switch v := get(name, "false"); v {
		case "true", "false":
			*dst = v == "true"
		default:
			bad(name, "want true or false, got %q", v)
		}
	}
	if c.Policy.AllowHTTP && !c.Policy.AllowPrivate {
		bad("PREGON_WEBHOOKS_ALLOW_HTTP", "allows plain http to private addresses only: it needs PREGON_WEBHOOKS_ALLOW_PRIVATE=true")
	}
	if v := get("PREGON_WEBHOOK_DISABLE_AFTER", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Minute || d > 30*24*time.Hour {
			bad("PREGON_WEBHOOK_DISABLE_AFTER", "want a duration from 1m to 720h such as 24h, got %q", v)
		}
		c.DisableAfter = d
	}
	return c
}

// newWebhooks returns the webhooks service, its signing secrets derived
// from PREGON_SECRET (or, without it, the random secret kept in Redis that
// the links use too).
func newWebhooks(ctx context.Context, cfg *config, st *store.Store, q *queue.Client, log *slog.Logger, now func() time.Time) (*webhooks.Service, error) {
	secret := []byte(cfg.Secret)
	if len(secret) == 0 {
		s, _, err := st.SharedSecret(ctx)
		if err != nil {
			return nil, err
		}
		secret = s
	}
	return webhooks.New(webhooks.Config{Store: st, Queue: q, Secret: secret, Policy: cfg.Webhooks.Policy,
		DisableAfter: cfg.Webhooks.DisableAfter, Now: now, Logger: log.With("component", "webhooks")})
}
