package main

import (
	"fmt"
	"log/slog"
	"net"
	"strings"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/channels/outbox"
	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/metrics"
	"github.com/pregon/pregon/ratelimit"
)

// channels are the senders the workers deliver with.
type channels struct {
	email    dispatcher.EmailSender
	telegram dispatcher.TelegramSender
	// telegramPacer paces the parts of posts (nil: no Bot API configured).
	telegramPacer dispatcher.TelegramPacer
}

// openChannels returns the email and Telegram senders: the real ones when
// configured (paced by lim), the outbox otherwise, timed and counted by m,
// and a function that closes them.
func openChannels(cfg *config, log *slog.Logger, lim *ratelimit.Limiter, now func() time.Time, m *metrics.Metrics) (channels, func(), error) {
	var out channels
	closers := []func(){}
	closeAll := func() {
		for _, c := range closers {
			c()
		}
	}
	from := dispatcher.Address{Name: cfg.From.Name, Email: cfg.From.Address}
	if d := domainOf(cfg.From.Address); !publicDomain(d) {
		log.Warn("PREGON_FROM's domain, which every Message-ID and the List-Id use, is not a real domain: "+
			"receivers may take the emails for spam; set PREGON_FROM to an address of your own domain",
			"channel", "email", "domain", d)
	}
	var box *outbox.Outbox
	useOutbox := func() (*outbox.Outbox, error) {
		if box != nil {
			return box, nil
		}
		b, err := outbox.New(outbox.Config{Dir: cfg.OutboxDir, From: from, DKIM: cfg.DKIM,
			UnsubscribeMailto: cfg.UnsubscribeMailto, Logger: log, Now: now})
		box = b
		return b, err
	}
	if cfg.SMTPURL != "" {
		ecfg := email.Config{URL: cfg.SMTPURL, From: from, DKIM: cfg.DKIM,
			UnsubscribeMailto: cfg.UnsubscribeMailto, PoolSize: cfg.Concurrency, Logger: log, Now: now}
		if cfg.BounceBox.VERP != nil { // bounce address: VERP envelope senders
			ecfg.EnvelopeSender = cfg.BounceBox.VERP
		}
		if cfg.EmailRate > 0 {
			ecfg.Limiter = &ratelimit.Email{L: lim, PerSecond: cfg.EmailRate}
		}
		ch, err := email.New(ecfg)
		if err != nil {
			return channels{}, nil, fmt.Errorf("PREGON_SMTP_URL: %w", err)
		}
		closers = append(closers, func() { ch.Close() })
		out.email = ch
		if err := m.WatchSMTPConns(ch.Conns); err != nil {
			closeAll()
			return channels{}, nil, err
		}
		log.Info("email channel: SMTP", "smtp", redact(cfg.SMTPURL))
		if cfg.DKIM != nil {
			var sel []string
			for _, k := range cfg.DKIM.Keys {
				sel = append(sel, k.Selector)
			}
			log.Info("email channel: DKIM signing", "domain", cfg.DKIM.Domain, "selectors", strings.Join(sel, ","))
		}
	} else {
		b, err := useOutbox()
		if err != nil {
			return channels{}, nil, err
		}
		out.email = b
		log.Warn("email channel: PREGON_SMTP_URL is not set, so emails are NOT sent: they are written to the outbox", "dir", cfg.OutboxDir)
	}
	if cfg.TelegramToken != "" {
		pacer := &ratelimit.Telegram{L: lim, PerSecond: cfg.TelegramRate, PerChatPerMinute: cfg.TelegramChatRate, Now: now}
		ch, err := telegram.New(telegram.Config{
			Token: cfg.TelegramToken, APIURL: cfg.TelegramAPIURL, Logger: log, Limiter: pacer, Timeout: cfg.TelegramTimeout,
		})
		if err != nil {
			closeAll()
			return channels{}, nil, fmt.Errorf("PREGON_TELEGRAM_TOKEN: %w", err)
		}
		out.telegram, out.telegramPacer = ch, pacer
		log.Info("telegram channel: Bot API", "api_url", cfg.TelegramAPIURL)
	} else {
		b, err := useOutbox()
		if err != nil {
			closeAll()
			return channels{}, nil, err
		}
		out.telegram = b
		log.Warn("telegram channel: PREGON_TELEGRAM_TOKEN is not set, so posts are NOT sent: they are written to the outbox", "dir", cfg.OutboxDir)
	}
	out.email, out.telegram = m.Email(out.email), m.Telegram(out.telegram)
	return out, closeAll, nil
}

// publicDomain reports whether d can be a domain on the Internet: a dotted
// name, not an IP address, not "localhost" nor under a name reserved for
// tests and local networks (RFC 2606, 6761, 6762).
func publicDomain(d string) bool {
	d = strings.ToLower(strings.TrimSuffix(d, "."))
	if !strings.Contains(d, ".") || net.ParseIP(strings.Trim(d, "[]")) != nil {
		return false
	}
	for _, tld := range []string{"localhost", "local", "invalid", "test", "example", "example.com", "example.net", "example.org",
		"internal", "lan", "home.arpa"} {
		if d == tld || strings.HasSuffix(d, "."+tld) {
			return false
		}
	}
	return true
}

// telegramChecker returns what the API checks the bot with (/readyz and
// enabling a channel), or nil when no bot token is configured.
func telegramChecker(cfg *config, log *slog.Logger) (api.TelegramChecker, error) {
	if cfg.TelegramToken == "" {
		return nil, nil
	}
	ch, err := telegram.New(telegram.Config{Token: cfg.TelegramToken, APIURL: cfg.TelegramAPIURL, Logger: log, Timeout: cfg.TelegramTimeout})
	if err != nil {
		return nil, fmt.Errorf("PREGON_TELEGRAM_TOKEN: %w", err)
	}
	return ch, nil
}
