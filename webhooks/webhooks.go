// Package webhooks sends Pregón's events to the URLs that coordinators
// register: signed JSON, one queue task per event and webhook, retried with
// backoff, each attempt logged, and a webhook that fails for too long
// disabled with the reason.
//
// An event is posted as {"id", "type", "created_at", "data"} with the
// headers Pregon-Signature (t=<unix>,v1=<hex HMAC-SHA256 of "<t>.<body>">,
// keyed with the webhook's secret), Pregon-Event-Id and Pregon-Event-Type.
// Delivery is at least once: a receiver drops an event id it has seen.
package webhooks

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// Webhook statuses.
const (
	StatusActive   = "active"
	StatusDisabled = "disabled"
)

// AllEvents, as a webhook's only event, subscribes it to every event.
const AllEvents = "*"

// Webhook is a URL that receives events.
type Webhook struct {
	ID          string   `json:"id"`
	URL         string   `json:"url"`
	Events      []string `json:"events"` // event types, or ["*"]
	Description string   `json:"description"`
	// Status is active or disabled; DisabledReason says why it was
	// disabled, DisabledAt when.
	Status         string     `json:"status"`
	DisabledReason string     `json:"disabled_reason,omitempty"`
	DisabledAt     *time.Time `json:"disabled_at,omitempty"`
	// FailingSince is the time of the first failed attempt since the last
	// success (nil while it succeeds).
	FailingSince *time.Time `json:"failing_since,omitempty"`
	CreatedAt    time.Time  `json:"created_at"`
	CreatedBy    string     `json:"created_by,omitempty"`
}

// Wants reports whether w is subscribed to events of type t.
func (w *Webhook) Wants(t dispatcher.EventType) bool {
	return slices.Contains(w.Events, AllEvents) || slices.Contains(w.Events, string(t))
}

// Attempt is one try at posting an event to a webhook.
type Attempt struct {
	At        time.Time `json:"at"`
	EventID   string    `json:"event_id"`
	EventType string    `json:"event_type"`
	// Try counts the attempts at this event: 1 for the first.
	Try        int    `json:"try"`
	StatusCode int    `json:"status_code"` // 0 when no answer came
	Error      string `json:"error,omitempty"`
	DurationMS int64  `json:"duration_ms"`
}

// OK reports whether the attempt succeeded (a 2xx answer).
func (a *Attempt) OK() bool { return a.StatusCode >= 200 && a.StatusCode < 300 }

// Store keeps webhooks and their delivery logs (store.Store implements it).
type Store interface {
	// CreateWebhook stores w, setting its ID.
	CreateWebhook(ctx context.Context, w *Webhook) error
	// Webhook returns one webhook, or dispatcher.ErrNotFound.
	Webhook(ctx context.Context, id string) (*Webhook, error)
	// Webhooks returns every webhook, oldest first.
	Webhooks(ctx context.Context) ([]*Webhook, error)
	// DeleteWebhook removes a webhook and its log; dispatcher.ErrNotFound if none.
	DeleteWebhook(ctx context.Context, id string) error
	// EnableWebhook makes a webhook active and forgets its failures;
	// dispatcher.ErrNotFound if none.
	EnableWebhook(ctx context.Context, id string) (*Webhook, error)
	// RecordAttempt appends a to the webhook's log (keeping the last
	// logSize), and keeps its failure state: a success clears FailingSince;
	// a failure sets it when unset and, once it is disableAfter old,
	// disables the webhook with reason. It returns the webhook as it is
	// then, or dispatcher.ErrNotFound for one deleted meanwhile.
	RecordAttempt(ctx context.Context, id string, a Attempt, logSize int, disableAfter time.Duration, reason string) (*Webhook, error)
	// Attempts returns a webhook's log, newest first.
	Attempts(ctx context.Context, id string) ([]Attempt, error)
}

// Queue enqueues the delivery of one event to one webhook (queue.Client
// implements it). It is idempotent per (webhook, event).
type Queue interface {
	EnqueueWebhook(ctx context.Context, webhookID, eventID string, body []byte) error
}

// Defaults.
const (
	DefaultDisableAfter = 24 * time.Hour
	DefaultTimeout      = 10 * time.Second
	DefaultLogSize      = 50
)

// Config sets up a Service. Store, Queue and Secret are required.
type Config struct {
	Store Store
	Queue Queue
	// Secret is the server's secret (PREGON_SECRET): each webhook's signing
	// secret is derived from it and the webhook's id, and never stored.
	Secret []byte
	Policy Policy
	// Resolver resolves webhook hosts when they are registered (default
	// net.DefaultResolver).
	Resolver Resolver
	// DisableAfter is how long a webhook may fail without a success before
	// it is disabled (default DefaultDisableAfter; PREGON_WEBHOOK_DISABLE_AFTER).
	DisableAfter time.Duration
	// Timeout bounds one attempt (default DefaultTimeout).
	Timeout time.Duration
	// LogSize is how many attempts each webhook's log keeps (default DefaultLogSize).
	LogSize int
	// Now is the clock (default time.Now).
	Now    func() time.Time
	Logger *slog.Logger
}

// Service registers webhooks, queues events for them, and delivers them.
// It implements dispatcher.Notifier.
type Service struct {
	cfg    Config
	log    *slog.Logger
	client *client
}

var _ dispatcher.Notifier = (*Service)(nil)

// New returns a Service, or an error when a required part is missing.
func New(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Queue == nil || len(cfg.Secret) == 0 {
		return nil, errors.New("webhooks: Store, Queue and Secret are required")
	}
	if cfg.DisableAfter <= 0 {
		cfg.DisableAfter = DefaultDisableAfter
	}
	if cfg.Timeout <= 0 {
		cfg.Timeout = DefaultTimeout
	}
	if cfg.LogSize <= 0 {
		cfg.LogSize = DefaultLogSize
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.New(slog.DiscardHandler)
	}
	if cfg.Resolver == nil {
		cfg.Resolver = netResolver{}
	}
	return &Service{cfg: cfg, log: cfg.Logger, client: newClient(cfg.Policy, cfg.Timeout)}, nil
}

// Secret returns the signing secret of webhook id: "whsec_" and the
// base64url HMAC-SHA256 of the id under the server's secret. Receivers key
// their HMAC with the whole string.
func (s *Service) Secret(id string) string {
	m := hmac.New(sha256.New, s.cfg.Secret)
	m.Write([]byte("pregon webhook secret\x00" + id))
	return "whsec_" + base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// Input is what a coordinator gives to register a webhook.
type Input struct {
	URL         string
	Events      []string // empty: every event
	Description string
	CreatedBy   string
}

// InputError is a bad field of an Input.
type InputError struct{ Field, Message string }

func (e *InputError) Error() string { return e.Field + " " + e.Message }

// Create checks in and registers a webhook, and returns it with its
// signing secret (shown once: it is derived again for each delivery, and
// never returned again). A refused URL or event gives an *InputError.
func (s *Service) Create(ctx context.Context, in Input) (*Webhook, string, error) {
	events, err := normalizeEvents(in.Events)
	if err != nil {
		return nil, "", err
	}
	if err := s.cfg.Policy.CheckURL(ctx, s.cfg.Resolver, in.URL); err != nil {
		var ue *URLError
		if errors.As(err, &ue) {
			return nil, "", &InputError{Field: "url", Message: ue.Reason}
		}
		return nil, "", err
	}
	w := &Webhook{URL: in.URL, Events: events, Description: in.Description, Status: StatusActive,
		CreatedAt: s.cfg.Now().UTC().Truncate(time.Millisecond), CreatedBy: in.CreatedBy}
	if err := s.cfg.Store.CreateWebhook(ctx, w); err != nil {
		return nil, "", err
	}
	return w, s.Secret(w.ID), nil
}

func normalizeEvents(in []string) ([]string, error) {
	if len(in) == 0 {
		return []string{AllEvents}, nil
	}
	var out []string
	for _, e := range in {
		switch {
		case e == AllEvents:
			return []string{AllEvents}, nil
		case !slices.Contains(dispatcher.EventTypes, dispatcher.EventType(e)):
			return nil, &InputError{Field: "events", Message: fmt.Sprintf("has unknown event %q: want some of %v, or \"*\"", e, dispatcher.EventTypes)}
		case !slices.Contains(out, e):
			out = append(out, e)
		}
	}
	return out, nil
}

// List returns every webhook, oldest first.
func (s *Service) List(ctx context.Context) ([]*Webhook, error) { return s.cfg.Store.Webhooks(ctx) }

// Get returns one webhook, or dispatcher.ErrNotFound.
func (s *Service) Get(ctx context.Context, id string) (*Webhook, error) {
	return s.cfg.Store.Webhook(ctx, id)
}

// Delete removes a webhook; its events still queued are dropped when they
// come up. dispatcher.ErrNotFound if there is none.
func (s *Service) Delete(ctx context.Context, id string) error {
	return s.cfg.Store.DeleteWebhook(ctx, id)
}

// Enable makes a disabled webhook active again; dispatcher.ErrNotFound if
// there is none. Events that came while it was disabled are not sent.
func (s *Service) Enable(ctx context.Context, id string) (*Webhook, error) {
	return s.cfg.Store.EnableWebhook(ctx, id)
}

// Deliveries returns the last attempts at posting to webhook id, newest
// first; dispatcher.ErrNotFound if there is no such webhook.
func (s *Service) Deliveries(ctx context.Context, id string) ([]Attempt, error) {
	if _, err := s.cfg.Store.Webhook(ctx, id); err != nil {
		return nil, err
	}
	return s.cfg.Store.Attempts(ctx, id)
}

// Notify queues e for every active webhook subscribed to its type: one
// task each, which Deliver runs.
func (s *Service) Notify(ctx context.Context, e dispatcher.Event) error {
	hooks, err := s.cfg.Store.Webhooks(ctx)
	if err != nil {
		return fmt.Errorf("notify %s: %w", e.Type, err)
	}
	var body []byte
	var errs []error
	for _, w := range hooks {
		if w.Status != StatusActive || !w.Wants(e.Type) {
			continue
		}
		if body == nil {
			if e.CreatedAt.IsZero() {
				e.CreatedAt = s.cfg.Now().UTC()
			}
			if body, err = json.Marshal(e); err != nil {
				return fmt.Errorf("notify %s: %w", e.Type, err)
			}
		}
		if err := s.cfg.Queue.EnqueueWebhook(ctx, w.ID, e.ID, body); err != nil {
			errs = append(errs, err)
		}
	}
	return errors.Join(errs...)
}
