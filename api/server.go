// Package api serves Pregón's HTTP API v1: JSON handlers for lists, contacts,
// Telegram channels and releases, bearer-token authentication with roles,
// RFC 9457 problem+json errors and request-size limits.
//
// It also serves the public pages that take no token (the one-click
// unsubscribe page of signed links, GET and POST /u/{token}), each
// rate-limited per client address.
//
// Every change made through it is recorded in the audit log (AuditLog,
// package audit) before it is answered; see Server.audit.
//
// The persistence, the sender, the renderer, the links checker and the rate
// limiter it needs are the small interfaces Store, Sender, Previewer, Links
// and RateLimiter, implemented elsewhere (ratelimit.PerClient is the one on
// Redis); IdempotencyStore and ProgressStore (both *store.Store) keep
// Idempotency-Key requests and feed the release event streams.
package api

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/bounces"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/linkcheck"
	"github.com/pregon/pregon/links"
)

// Store is the persistence the API needs.
type Store interface {
	// CreateList stores a new list and sets l.ID and l.CreatedAt.
	CreateList(ctx context.Context, l *dispatcher.List) error
	// List returns a list, or dispatcher.ErrNotFound.
	List(ctx context.Context, id string) (*dispatcher.List, error)
	// Lists returns a page of lists, newest first, and the cursor of the
	// next page ("" on the last page).
	Lists(ctx context.Context, cursor string, limit int) ([]*dispatcher.List, string, error)
	// ImportContacts adds contacts to a list, or overwrites the fields of
	// those already on it; the api passes at most 1000 at a time, which are
	// written atomically. The emails in cs are normalised and unique. added
	// counts contacts that were not members of the list before, updated those
	// that were; suppressed maps each suppressed email in cs to the reason.
	// It returns dispatcher.ErrNotFound for an unknown list.
	ImportContacts(ctx context.Context, listID string, cs []dispatcher.Contact) (added, updated int, suppressed map[string]string, err error)
	// Contacts returns a page of a list's members ordered by email, and the
	// cursor of the next page ("" on the last page); dispatcher.ErrNotFound
	// for an unknown list.
	Contacts(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Contact, string, error)
	// RemoveContact takes a contact off a list; dispatcher.ErrNotFound if the
	// list does not exist or the contact is not a member.
	RemoveContact(ctx context.Context, listID, email string) error
	// CreateChannel stores a new channel and sets its ID, CreatedAt and Status
	// "active"; dispatcher.ErrConflict if its chat id is already registered.
	CreateChannel(ctx context.Context, c *dispatcher.TelegramChannel) error
	// Channel returns a channel, or dispatcher.ErrNotFound.
	Channel(ctx context.Context, id string) (*dispatcher.TelegramChannel, error)
	// Channels returns a page of channels, newest first, and the cursor of
	// the next page ("" on the last page).
	Channels(ctx context.Context, cursor string, limit int) ([]*dispatcher.TelegramChannel, string, error)
	// EnableChannel makes a channel active again and returns it and the
	// status it had; dispatcher.ErrNotFound if there is no such channel.
	EnableChannel(ctx context.Context, id string) (*dispatcher.TelegramChannel, string, error)
	// UpdateChannel changes a channel's settings and returns it;
	// dispatcher.ErrNotFound if there is no such channel.
	UpdateChannel(ctx context.Context, id string, ch dispatcher.ChannelChange) (*dispatcher.TelegramChannel, error)
	// CreateRelease stores a new release and sets its ID, CreatedAt, UpdatedAt
	// and Status draft.
	CreateRelease(ctx context.Context, r *dispatcher.Release) error
	// Release returns a release with its Counts, or dispatcher.ErrNotFound.
	Release(ctx context.Context, id string) (*dispatcher.Release, error)
	// Releases returns a page of releases with their counts, newest first,
	// in one status ("" for all), and the cursor of the next page ("" on the
	// last page). Without full, releases come without their body and their
	// translations' bodies. The page ends early, after at least one release,
	// once the releases read reach maxBytes of stored JSON (0: no bound). A
	// status filter reads only the releases it returns.
	Releases(ctx context.Context, status dispatcher.ReleaseStatus, cursor string, limit int, full bool, maxBytes int) ([]*dispatcher.Release, string, error)
	// EditRelease stores e.Release as the next version of its release, in
	// one step, and returns the release as stored; dispatcher.ErrNotFound, or
	// a *dispatcher.ConflictError when the release is no longer a draft or
	// scheduled, had its early copies sent and e changes more than the
	// embargo, or is no longer at version e.Base.
	EditRelease(ctx context.Context, e *dispatcher.Edit) (*dispatcher.Release, error)
	// ApproveRelease records that approver approved version of a release and
	// returns it; dispatcher.ErrNotFound, or a *dispatcher.ConflictError when
	// approver wrote it, it is no longer a draft or scheduled, or version is
	// not its current one.
	ApproveRelease(ctx context.Context, id string, version int, approver string) (*dispatcher.Release, error)
	// Deliveries returns a page of a release's deliveries that match f, and
	// the cursor of the next page ("" on the last page); dispatcher.ErrNotFound
	// for an unknown release.
	Deliveries(ctx context.Context, releaseID string, f DeliveryFilter, cursor string, limit int) ([]*dispatcher.Delivery, string, error)
	// Token returns the token stored under a hash (see auth.Hash),
	// or dispatcher.ErrNotFound.
	Token(ctx context.Context, hash string) (*auth.Token, error)
	// Tokens returns every token, oldest first; RevokeToken deletes one by
	// id (dispatcher.ErrNotFound if none has it); TouchToken records that the
	// token under hash was used at a time.
	Tokens(ctx context.Context) ([]*auth.Token, error)
	RevokeToken(ctx context.Context, id string) error
	TouchToken(ctx context.Context, hash string, at time.Time) error
	// Suppress records that email must never be mailed again, and why. It
	// succeeds whether or not the address is on any list.
	Suppress(ctx context.Context, email, reason string) error
	// Members returns a page of a list's members as planning a release
	// reads them, and Suppressed whether each email is suppressed: the
	// pre-send checks count a release's audience with them, as
	// dispatcher.Dispatch would plan it.
	Members(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Member, string, error)
	Suppressed(ctx context.Context, emails []string) ([]bool, error)
	// Ping reports whether the store can serve requests.
	Ping(ctx context.Context) error
}

// DeliveryFilter selects deliveries; a zero field matches all.
type DeliveryFilter = dispatcher.DeliveryFilter

// Sender starts, stops and retries releases.
type Sender interface {
	// SendVersion schedules a release for at (nil: now). It is idempotent:
	// for a release already scheduled, sending or sent it returns the
	// release as it is. A draft is scheduled only while it is at version
	// (0: any), the one whose checks passed, in the step that schedules it.
	// It returns dispatcher.ErrNotFound, dispatcher.ErrConflict for a
	// cancelled release, or a *dispatcher.ConflictError (ConflictVersion:
	// edited since; ConflictUnapproved).
	SendVersion(ctx context.Context, id string, at *time.Time, version int) (*dispatcher.Release, error)
	// Cancel stops a release; dispatcher.ErrConflict if it was already sent.
	Cancel(ctx context.Context, id string) (*dispatcher.Release, error)
	// Retry re-enqueues a release's failed deliveries and returns how many.
	Retry(ctx context.Context, id string) (int, error)
	// Reschedule moves the dispatch of a scheduled release after an edit
	// changed its timing, and returns the release; one in another status is
	// returned as it is.
	Reschedule(ctx context.Context, id string) (*dispatcher.Release, error)
}

// Previewer renders a release as a channel would send it.
type Previewer interface {
	// Email renders the version of rel in lang for email.
	Email(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error)
	// EmbargoedEmail renders it as its early lists get it: under the
	// embargo line.
	EmbargoedEmail(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error)
	// Telegram renders the version of rel in lang as Telegram messages.
	Telegram(rel *dispatcher.Release, lang string) ([]string, error)
}

// Links checks the signed links of the public pages and makes them.
// *links.Signer implements it.
type Links interface {
	// Verify returns the claims of a token made for purpose, or an error
	// wrapping links.ErrMalformed, links.ErrBadSignature, links.ErrExpired or
	// links.ErrWrongPurpose.
	Verify(token, purpose string) (links.Claims, error)
	// UnsubscribeURL returns the unsubscribe link for email in a message of
	// release releaseID.
	UnsubscribeURL(email, releaseID string) string
}

// Default limits.
const (
	DefaultMaxBodyBytes   = 1 << 20  // JSON request bodies
	DefaultMaxUploadBytes = 10 << 20 // contact uploads (CSV or JSON)
	DefaultPublicRate     = 30       // requests a minute from one client to one public page
	DefaultProbeRate      = 600      // requests a minute from one client to /readyz
	DefaultMaxPageBytes   = 1 << 20  // releases read for one page of GET /v1/releases
	// ReadyTimeout is how long /readyz waits for the store before it
	// answers 503.
	ReadyTimeout = time.Second
)

// Config configures a Server. Store, Sender, Previewer and Audit are
// required; the other fields have defaults.
type Config struct {
	Store     Store
	Sender    Sender
	Previewer Previewer
	// Audit records every change made through the API (see Server.audit).
	Audit AuditLog
	// Logger receives one line per request; nil discards them.
	Logger *slog.Logger
	// MaxBodyBytes caps JSON request bodies; 0 means DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxUploadBytes caps contact uploads; 0 means DefaultMaxUploadBytes.
	MaxUploadBytes int64
	// MaxPageBytes ends a page of releases once the releases read for it
	// reach this many bytes; 0 means DefaultMaxPageBytes.
	MaxPageBytes int
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Links checks the tokens of the unsubscribe page; nil means that page
	// answers 404, and previews leave out the unsubscribe line.
	Links Links
	// Limiter limits the endpoints that take no token, per client address;
	// nil means no limit (tests only: a public server needs one).
	Limiter RateLimiter
	// PublicRate is how many requests a minute one client may make to one
	// public page (0: DefaultPublicRate); ProbeRate the same for the health
	// checks (0: DefaultProbeRate). A client may make a few at once
	// (see ratelimit.PerClient), then one per interval.
	PublicRate, ProbeRate int
	// TrustedProxies are the reverse proxies whose X-Forwarded-For header
	// is believed when they connect: the client is then the address the
	// nearest untrusted hop connected from. Empty: the client is the
	// connection's address.
	TrustedProxies []netip.Prefix
	// Timezone is the IANA name of the time zone given to a release created
	// without one (PREGON_TIMEZONE); "" means UTC. New refuses a name it
	// cannot load.
	Timezone string
	// Idempotency keeps the Idempotency-Key of POST /v1/releases; nil
	// means a request with that header is refused (501).
	Idempotency IdempotencyStore
	// Progress serves GET /v1/releases/{id}/events; nil means that
	// endpoint answers 501. EventPoll is how often a stream reads it (0:
	// DefaultEventPoll), EventHeartbeat how often an idle stream sends a
	// comment to keep proxies from closing it (0: DefaultEventHeartbeat).
	Progress                  ProgressStore
	EventPoll, EventHeartbeat time.Duration
	// Metrics, when set, serves GET /metrics to admin tokens; Monitoring,
	// when set, serves the queue dashboard under MonitoringPath to them.
	Metrics, Monitoring http.Handler
	// RequireApproval says that releases are sent only once a coordinator
	// other than the author approved their current version (the Sender
	// enforces it): an edit of a scheduled release then sends it back to
	// draft, since it withdraws the approval (PREGON_REQUIRE_APPROVAL).
	RequireApproval bool
	// Tester starts test sends and reports on them; nil means the test send
	// endpoints answer 501. TestRate is how many test sends a minute one
	// token may start after a burst (0: DefaultTestRate; see testsend.go).
	Tester   Tester
	TestRate int
	// LinkChecker asks the links of a release for its pre-send checks; nil
	// means a linkcheck.Checker with its defaults (non-public addresses
	// refused).
	LinkChecker LinkChecker
	// Newsroom serves the public newsroom under /news/ and /robots.txt
	// (package newsroom; issue 15); nil means those answer 404.
	Newsroom http.Handler
	// Optin serves double opt-in (subscribe.go): the subscribe form, the
	// confirmation page and the members' statuses; nil means the public
	// pages answer 404 and members are listed as plain contacts.
	Optin *Optin
	// Webhooks serves /v1/webhooks (nil: 501); Notifier is told of the
	// events the API sees (contact.unsubscribed). Outgoing webhooks.
	Webhooks Webhooks
	Notifier dispatcher.Notifier
	// Bounces (suppressions.go, webhooks.go): Suppressions lists and lifts
	// suppressed addresses; nil means those endpoints answer 501.
	Suppressions SuppressionStore
	// BounceProviders serves POST /webhooks/{name} for each provider
	// configured (ses, postmark, mailgun, sendgrid), whose reports go to
	// Bounces; a provider not in it answers 404.
	BounceProviders map[string]bounces.Provider
	Bounces         BounceRecorder

	// Erasure erases addresses on request (POST /v1/contacts/{email}/erase)
	// and answers GET /v1/suppressions/{email}; nil means those answer 501.
	// ErasureUnavailable tells which of its errors mean it cannot erase at
	// all (no secret), answered 501 too. Issue 14 item 5 (erase.go).
	Erasure            ErasureStore
	ErasureUnavailable ErasureUnavailable

	// EmailHasher names an address in the audit log by a keyed hash
	// (contact.remove), since the log is never edited and so cannot forget
	// an address that is later erased; nil means such entries name no
	// address. *links.Signer implements it.
	EmailHasher EmailHasher

	// DNS reads the From domain's SPF, DKIM and DMARC records for the
	// checklist's "dns" check (a warning at most); nil leaves the check
	// out. Its finding is kept for DNSCacheTTL (0: DefaultDNSCacheTTL).
	DNS         DNSChecker
	DNSCacheTTL time.Duration
	// Telegram checks the bot (telegram.Channel): /readyz answers 503 once
	// the Bot API refused its token, and enabling a channel first checks
	// that the bot may post there. Nil: neither is checked.
	Telegram TelegramChecker
	// TelegramWebhook serves POST /telegram/webhook, the updates Telegram
	// posts to the bot (tgbot.Bot.WebhookHandler, which checks the
	// secret-token header); nil means that endpoint answers 404 (the bot
	// is polled). Followers via the bot (followers.go).
	TelegramWebhook http.Handler

	// Attachments limits the files a release carries (attachments.go;
	// issue 10 item 5). Zero values mean the defaults.
	Attachments AttachmentLimits
}

// EmailHasher returns a keyed hash of an email address that only the
// holder of the server's secret can match to the address.
type EmailHasher interface {
	HashEmail(email string) string
}

// TelegramChecker checks the Telegram bot. *telegram.Channel implements it.
type TelegramChecker interface {
	// Ready returns an error when the bot cannot post at all (its token
	// was refused).
	Ready(ctx context.Context) error
	// CheckChat returns an error, saying why, when the bot may not post to
	// chatID; it wraps dispatcher.ErrChatUnavailable when the bot is not
	// in the chat or the chat is gone.
	CheckChat(ctx context.Context, chatID string) error
}

// Server is the API v1 HTTP handler.
type Server struct {
	store     Store
	sender    Sender
	previewer Previewer
	auditLog  AuditLog
	log       *slog.Logger
	maxBody   int64
	maxUpload int64
	maxPage   int
	now       func() time.Time
	links     Links
	limiter   RateLimiter
	rates     map[auth.Role]int // per minute, for rolePublic and roleProbe
	proxies   []netip.Prefix
	pages     *pages
	handler   http.Handler
	// requireApproval is Config.RequireApproval.
	requireApproval bool

	linkChecker LinkChecker
	location    *time.Location // of timezone
	maxScan     int            // list members the checks read at most
	scans       scanMemo       // recent list scans (scanmemo.go)
	timezone    string         // the default time zone of a new release

	idempotency          IdempotencyStore
	progress             ProgressStore
	eventPoll, heartbeat time.Duration

	metricsHandler, monitoringHandler http.Handler
	tester                            Tester
	testRate                          int
	newsroom                          http.Handler // Config.Newsroom (issue 15)
	optin                             *Optin       // double opt-in; nil when off

	webhooks Webhooks            // outgoing webhooks
	notifier dispatcher.Notifier // outgoing webhooks

	suppressions    SuppressionStore
	bounceProviders map[string]bounces.Provider
	bounces         BounceRecorder
	emailHasher     EmailHasher
	dns             DNSChecker
	dnsTTL          time.Duration
	dnsCache        dnsCache
	telegram        TelegramChecker
	// telegramWebhookHandler: Config.TelegramWebhook (followers.go).
	telegramWebhookHandler http.Handler
	attach                 AttachmentLimits // attachments.go

	// erasure (erase.go)
	erasure            ErasureStore
	erasureUnavailable ErasureUnavailable
}

// New returns the API handler, or an error when a required Config field is missing.
func New(cfg Config) (*Server, error) {
	switch {
	case cfg.Store == nil:
		return nil, errors.New("api: Config.Store is required")
	case cfg.Sender == nil:
		return nil, errors.New("api: Config.Sender is required")
	case cfg.Previewer == nil:
		return nil, errors.New("api: Config.Previewer is required")
	case cfg.Audit == nil:
		return nil, errors.New("api: Config.Audit is required")
	}
	s := &Server{
		store: cfg.Store, sender: cfg.Sender, previewer: cfg.Previewer, auditLog: cfg.Audit,
		log: cfg.Logger, maxBody: cfg.MaxBodyBytes, maxUpload: cfg.MaxUploadBytes, maxPage: cfg.MaxPageBytes, now: cfg.Now,
		links: cfg.Links, limiter: cfg.Limiter, proxies: cfg.TrustedProxies,
		rates: map[auth.Role]int{rolePublic: cfg.PublicRate, roleProbe: cfg.ProbeRate},
	}
	s.metricsHandler, s.monitoringHandler = cfg.Metrics, cfg.Monitoring
	s.requireApproval = cfg.RequireApproval
	s.webhooks, s.notifier = cfg.Webhooks, cfg.Notifier // outgoing webhooks
	s.telegram = cfg.Telegram
	s.telegramWebhookHandler = cfg.TelegramWebhook // followers via the bot
	s.attach = cfg.Attachments.withDefaults()      // attachments.go
	s.tester, s.testRate = cfg.Tester, cfg.TestRate
	s.newsroom = cfg.Newsroom     // newsroom (issue 15)
	if o := cfg.Optin; o != nil { // double opt-in
		oc := *o
		if oc.MaxMailsPerAddress <= 0 {
			oc.MaxMailsPerAddress = DefaultMaxConfirmationMails
		}
		if oc.MailWindow <= 0 {
			oc.MailWindow = DefaultConfirmationWindow
		}
		s.optin = &oc
	}
	s.suppressions, s.bounceProviders, s.bounces = cfg.Suppressions, cfg.BounceProviders, cfg.Bounces
	s.emailHasher = cfg.EmailHasher
	s.erasure, s.erasureUnavailable = cfg.Erasure, cfg.ErasureUnavailable
	s.dns, s.dnsTTL = cfg.DNS, cfg.DNSCacheTTL
	if s.dnsTTL <= 0 {
		s.dnsTTL = DefaultDNSCacheTTL
	}
	if s.testRate <= 0 {
		s.testRate = DefaultTestRate
	}
	s.linkChecker, s.maxScan = cfg.LinkChecker, maxScanMembers
	if s.linkChecker == nil {
		s.linkChecker = linkcheck.New(linkcheck.Config{})
	}
	s.timezone = strings.TrimSpace(cfg.Timezone)
	if s.timezone == "" {
		s.timezone = "UTC"
	}
	loc, err := loadZone(s.timezone)
	if err != nil {
		return nil, fmt.Errorf("api: Config.Timezone: %w", err)
	}
	s.location = loc
	s.idempotency, s.progress, s.eventPoll, s.heartbeat = cfg.Idempotency, cfg.Progress, cfg.EventPoll, cfg.EventHeartbeat
	if s.eventPoll <= 0 {
		s.eventPoll = DefaultEventPoll
	}
	if s.heartbeat <= 0 {
		s.heartbeat = DefaultEventHeartbeat
	}
	if s.rates[rolePublic] <= 0 {
		s.rates[rolePublic] = DefaultPublicRate
	}
	if s.rates[roleProbe] <= 0 {
		s.rates[roleProbe] = DefaultProbeRate
	}
	pg, err := newPages()
	if err != nil {
		return nil, err
	}
	s.pages = pg
	if s.log == nil {
		s.log = slog.New(slog.DiscardHandler)
	}
	if s.maxBody <= 0 {
		s.maxBody = DefaultMaxBodyBytes
	}
	if s.maxUpload <= 0 {
		s.maxUpload = DefaultMaxUploadBytes
	}
	if s.maxPage <= 0 {
		s.maxPage = DefaultMaxPageBytes
	}
	if s.now == nil {
		s.now = time.Now
	}
	mux := http.NewServeMux()
	for _, rt := range s.routes() {
		if rt.role != rolePublic && rt.role != roleProbe && rt.role != roleLive && !rt.role.Valid() {
			return nil, fmt.Errorf("api: route %q has role %q: want a token role, or rolePublic for a deliberately public one", rt.pattern, rt.role)
		}
		mux.Handle(rt.pattern, s.endpoint(rt))
	}
	mux.Handle("/", s.endpoint(route{pattern: "/", role: roleNone, handle: s.unmatched(mux)}))
	s.handler = s.observe(secureHeaders(basicForMonitoring(mux)))
	return s, nil
}

// ServeHTTP serves one API request.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) { s.handler.ServeHTTP(w, r) }

// NewHTTPServer returns an http.Server for h on addr with timeouts that bound
// slow clients.
func NewHTTPServer(addr string, h http.Handler) *http.Server {
	return &http.Server{
		Addr:              addr,
		Handler:           h,
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      60 * time.Second,
		IdleTimeout:       120 * time.Second,
		MaxHeaderBytes:    64 << 10,
	}
}

// healthz is the liveness check: the process serves HTTP. It touches
// nothing else (no Redis, no rate limit), so that a Redis outage never makes
// an orchestrator restart a healthy process.
func (s *Server) healthz(w http.ResponseWriter, r *http.Request) error {
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}

// readyz is the readiness check: 200 when the store answers within
// ReadyTimeout (and, with Config.Telegram, the bot's token is not known to
// be refused), 503 otherwise.
func (s *Server) readyz(w http.ResponseWriter, r *http.Request) error {
	ctx, cancel := context.WithTimeout(r.Context(), ReadyTimeout)
	defer cancel()
	if err := s.store.Ping(ctx); err != nil {
		s.log.ErrorContext(ctx, "readiness check failed", "error", err)
		return &Problem{Type: "about:blank", Status: http.StatusServiceUnavailable, Detail: "The store is not reachable.", retryAfter: retryAfterUnavailable}
	}
	if s.telegram != nil {
		if err := s.telegram.Ready(ctx); err != nil {
			return &Problem{Type: "about:blank", Status: http.StatusServiceUnavailable,
				Detail: "Telegram is not ready: " + err.Error() + ". Check PREGON_TELEGRAM_TOKEN (a token BotFather revoked gives 401)."}
		}
	}
	return writeJSON(w, http.StatusOK, map[string]string{"status": "ok"})
}
