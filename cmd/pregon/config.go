package main

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"net/netip"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/bounces"
	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/newsroom"
	"github.com/pregon/pregon/retention"
)

// config is Pregón's configuration, read from PREGON_* environment variables.
type config struct {
	RedisURL       string
	HTTPAddr       string
	PublicURL      string
	Secret         string
	SMTPURL        string
	From           *mail.Address
	TelegramToken  string
	TelegramAPIURL string
	Concurrency    int
	OutboxDir      string
	MaxAttempts    int
	RetryBase      time.Duration
	ClaimTimeout   time.Duration
	BatchSize      int
	LogLevel       string
	PprofAddr      string
	// MetricsAddr, when set, serves /metrics without a token (for a private
	// network); otherwise the API serves it to admin tokens.
	MetricsAddr string
	// MonitoringWrite lets admins act on tasks in the queue dashboard.
	MonitoringWrite bool
	// LogFormat is "json", "text", or "" for text on a terminal and JSON
	// otherwise.
	LogFormat string
	// TrustedProxies are the reverse proxies whose X-Forwarded-For is
	// believed, for the per-client rate limits of public pages.
	TrustedProxies []netip.Prefix
	// Rates shared by all workers; 0 means no limit.
	EmailRate        int // emails per second
	TelegramRate     int // Telegram messages per second, in all
	TelegramChatRate int // Telegram messages per minute to one chat
	// TelegramMaxWaiting caps the paced posts one worker has on their way.
	TelegramMaxWaiting int
	// TelegramTimeout bounds each Bot API request (PREGON_TELEGRAM_TIMEOUT).
	TelegramTimeout time.Duration
	// DKIM signs emails when PREGON_DKIM_* are set (dkimconfig.go).
	DKIM *email.DKIM
	// UnsubscribeMailto is added to List-Unsubscribe as a mailto: URI.
	UnsubscribeMailto string
	// Attachments limits the files of a release (attachconfig.go).
	Attachments api.AttachmentLimits
	// RequireApproval refuses to send a release until a coordinator other
	// than its author approved its current version (two-person rule).
	RequireApproval bool
	// Checks configures the pre-send checks (checksconfig.go).
	Checks checksConfig
	// Newsroom (issue 15): the public newsroom's PREGON_NEWSROOM_* settings.
	Newsroom newsroom.Config
	// ConfirmMailsPerDay is how many double opt-in confirmation emails one
	// address gets in 24 hours at most (optin).
	ConfirmMailsPerDay int
	// Webhooks configures the outgoing webhooks (webhooksconfig.go).
	Webhooks webhooksConfig
	// BounceProviders are the provider webhooks configured (bouncesconfig.go).
	BounceProviders map[string]bounces.Provider
	// Retention: deliveries of a release final for this long are archived
	// (PREGON_RETENTION, default 30 days; 0: never).
	Retention time.Duration
	// BounceBox: the VERP bounce address and the bounce mailbox read over
	// IMAP (bounceboxconfig.go).
	BounceBox bounceBoxConfig
	// TelegramWebhookURL, when set, is where Telegram posts the bot's
	// updates instead of them being polled (followers; tgbot.go).
	TelegramWebhookURL string
}

// loadConfig reads the configuration from getenv. A bad value gives an error
// that names the variable.
func loadConfig(getenv func(string) string) (*config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := &config{
		RedisURL:       get("PREGON_REDIS_URL", "redis://127.0.0.1:6379/0"),
		HTTPAddr:       get("PREGON_HTTP_ADDR", "127.0.0.1:8080"),
		PublicURL:      get("PREGON_PUBLIC_URL", ""),
		Secret:         get("PREGON_SECRET", ""),
		SMTPURL:        get("PREGON_SMTP_URL", ""),
		TelegramToken:  get("PREGON_TELEGRAM_TOKEN", ""),
		TelegramAPIURL: get("PREGON_TELEGRAM_API_URL", "https://api.telegram.org"),
		OutboxDir:      get("PREGON_OUTBOX_DIR", "outbox"),
		LogLevel:       get("PREGON_LOG_LEVEL", "info"),
		PprofAddr:      get("PREGON_PPROF_ADDR", ""),
	}
	c.MetricsAddr = get("PREGON_METRICS_ADDR", "")
	c.LogFormat = get("PREGON_LOG_FORMAT", "")
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", name, fmt.Sprintf(format, args...)))
	}
	if err := checkRedisURL(c.RedisURL); err != nil { // one Redis, Sentinel or Cluster (rediscluster.go)
		bad("PREGON_REDIS_URL", "%v", err)
	}
	if _, _, err := net.SplitHostPort(c.HTTPAddr); err != nil {
		bad("PREGON_HTTP_ADDR", "want host:port, got %q", c.HTTPAddr)
	}
	if c.PprofAddr != "" {
		if _, _, err := net.SplitHostPort(c.PprofAddr); err != nil {
			bad("PREGON_PPROF_ADDR", "want host:port, got %q", c.PprofAddr)
		}
	}
	if c.MetricsAddr != "" {
		if _, _, err := net.SplitHostPort(c.MetricsAddr); err != nil {
			bad("PREGON_METRICS_ADDR", "want host:port, got %q", c.MetricsAddr)
		}
	}
	switch v := get("PREGON_MONITORING_WRITE", "false"); v {
	case "true", "false":
		c.MonitoringWrite = v == "true"
	default:
		bad("PREGON_MONITORING_WRITE", "want true or false, got %q", v)
	}
	switch v := get("PREGON_REQUIRE_APPROVAL", "false"); v {
	case "true", "false":
		c.RequireApproval = v == "true"
	default:
		bad("PREGON_REQUIRE_APPROVAL", "want true or false, got %q", v)
	}
	c.BounceProviders = bounceProviders(get, bad)          // bounces and complaints
	c.TelegramWebhookURL = telegramWebhookURL(get, bad, c) // followers via the bot
	switch c.LogFormat {
	case "", "json", "text":
	default:
		bad("PREGON_LOG_FORMAT", "want json or text, got %q", c.LogFormat)
	}
	if c.PublicURL == "" {
		c.PublicURL = "http://" + c.HTTPAddr
	} else if u, err := url.Parse(c.PublicURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PREGON_PUBLIC_URL", "want an absolute http(s) URL, got %q", c.PublicURL)
	}
	if c.Secret != "" && len(c.Secret) < 16 {
		bad("PREGON_SECRET", "must be at least 16 characters")
	} else if placeholderSecret(c.Secret) {
		bad("PREGON_SECRET", "is an example value, which anyone can read, so links signed with it could be forged: "+
			"set a secret of your own, e.g. PREGON_SECRET=$(openssl rand -hex 32) (in .env for docker compose)")
	}
	c.BounceBox = loadBounceBox(get, c.Secret, bad) // bounce address (VERP) and mailbox (IMAP)
	if v := get("PREGON_TRUSTED_PROXIES", ""); v != "" {
		ps, err := api.ParseProxies(v)
		if err != nil {
			bad("PREGON_TRUSTED_PROXIES", "want IP addresses or CIDR prefixes separated by commas: %v", err)
		}
		c.TrustedProxies = ps
	}
	if c.SMTPURL != "" {
		u, err := url.Parse(c.SMTPURL)
		if err != nil || (u.Scheme != "smtp" && u.Scheme != "smtps") || u.Hostname() == "" {
			bad("PREGON_SMTP_URL", "want smtp://user:pass@host:port or smtps://..., got %q", redact(c.SMTPURL))
		}
	}
	from := get("PREGON_FROM", "Pregón <pregon@localhost>")
	if a, err := mail.ParseAddress(from); err != nil {
		bad("PREGON_FROM", "want \"Name <address>\", got %q: %v", from, err)
	} else {
		c.From = a
	}
	c.DKIM = loadDKIM(get, c.From, bad)
	c.Checks = loadChecks(get, bad)
	c.Webhooks = loadWebhooks(get, bad)       // outgoing webhooks
	c.Attachments = loadAttachments(get, bad) // attachments (issue 10 item 5)
	if v := get("PREGON_UNSUBSCRIBE_MAILTO", ""); v != "" {
		a, err := mail.ParseAddress(v)
		if err != nil || a.Name != "" || a.Address != v || strings.ContainsAny(v, "?&<>%") {
			bad("PREGON_UNSUBSCRIBE_MAILTO", "want a bare address such as unsubscribe@your-domain.example, got %q", v)
		} else {
			c.UnsubscribeMailto = v
		}
	}
	if u, err := url.Parse(c.TelegramAPIURL); err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		bad("PREGON_TELEGRAM_API_URL", "want an absolute http(s) URL, got %q", c.TelegramAPIURL)
	}
	if c.TelegramToken != "" && !strings.Contains(c.TelegramToken, ":") {
		bad("PREGON_TELEGRAM_TOKEN", "does not look like a bot token (123456:ABC...)")
	}
	intVar := func(name string, def, lo, hi int) int {
		v := get(name, "")
		if v == "" {
			return def
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < lo || n > hi {
			bad(name, "want a whole number from %d to %d, got %q", lo, hi, v)
		}
		return n
	}
	c.Concurrency = intVar("PREGON_CONCURRENCY", 20, 1, 1000)
	c.MaxAttempts = intVar("PREGON_MAX_ATTEMPTS", 5, 1, 100)
	c.BatchSize = intVar("PREGON_BATCH_SIZE", 100, 1, 10000)
	c.EmailRate = intVar("PREGON_EMAIL_RATE", 0, 0, 1000000)
	c.TelegramRate = intVar("PREGON_TELEGRAM_RATE", 30, 0, 10000)
	c.TelegramChatRate = intVar("PREGON_TELEGRAM_CHAT_RATE", 20, 0, 10000)
	c.TelegramMaxWaiting = intVar("PREGON_TELEGRAM_MAX_WAITING", dispatcher.DefaultMaxWaiting, 1, 1000000)
	c.ConfirmMailsPerDay = intVar("PREGON_CONFIRM_MAILS_PER_DAY", api.DefaultMaxConfirmationMails, 1, 100) // optin
	c.RetryBase = 30 * time.Second
	if v := get("PREGON_RETRY_BASE", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d <= 0 || d > 24*time.Hour {
			bad("PREGON_RETRY_BASE", "want a duration such as 30s or 500ms, got %q", v)
		}
		c.RetryBase = d
	}
	c.TelegramTimeout = telegram.DefaultTimeout
	if v := strings.TrimSpace(get("PREGON_TELEGRAM_TIMEOUT", "")); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > 5*time.Minute {
			bad("PREGON_TELEGRAM_TIMEOUT", "want a duration from 1s to 5m such as 30s, got %q", v)
		}
		c.TelegramTimeout = d
	}
	c.ClaimTimeout = 2 * time.Minute
	if v := get("PREGON_CLAIM_TIMEOUT", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < time.Second || d > 24*time.Hour {
			bad("PREGON_CLAIM_TIMEOUT", "want a duration from 1s to 24h such as 2m, got %q", v)
		}
		c.ClaimTimeout = d
	}
	// Retention: how long a final release's deliveries stay live.
	if d, err := retention.ParseRetention(get("PREGON_RETENTION", "30d")); err != nil {
		bad("PREGON_RETENTION", "%v", err)
	} else {
		c.Retention = d
	}
	// Newsroom (issue 15).
	if nc, err := newsroom.FromEnv(getenv); err != nil {
		errs = append(errs, err)
	} else {
		c.Newsroom = nc
	}
	switch c.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		bad("PREGON_LOG_LEVEL", "want debug, info, warn or error, got %q", c.LogLevel)
	}
	return c, errors.Join(errs...)
}

// placeholderSecret reports whether s is an example secret, such as the
// "CHANGE-ME-..." kind that documentation and compose files show: its
// letters, lower-cased, hold "changeme" or another such phrase. (Secrets
// made by openssl rand -hex or -base64 never hold one.)
func placeholderSecret(s string) bool {
	letters := strings.Map(func(r rune) rune {
		if 'a' <= r && r <= 'z' || '0' <= r && r <= '9' {
			return r
		}
		if 'A' <= r && r <= 'Z' {
			return r - 'A' + 'a'
		}
		return -1
	}, s)
	for _, p := range []string{"changeme", "replaceme", "yoursecret", "placeholder", "setpregonsecret", "randomstring"} {
		if strings.Contains(letters, p) {
			return true
		}
	}
	return false
}

// redact hides the password in a URL, for error messages and logs.
func redact(raw string) string {
	u, err := url.Parse(raw)
	if err != nil {
		return "(unparseable URL)"
	}
	return u.Redacted()
}
