package webhooks

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/netip"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// client posts events: one http.Client for https URLs and one for plain
// http (which may reach private addresses only), each dialling through the
// policy's checks, following no redirects and using no proxy.
type client struct {
	policy      Policy
	https, http *http.Client
}

func newClient(p Policy, timeout time.Duration) *client {
	mk := func(needPrivate bool) *http.Client {
		return &http.Client{
			Timeout: timeout,
			Transport: &http.Transport{
				Proxy:               nil, // a proxy would dial for us, past the checks
				DialContext:         p.Dialer(needPrivate).DialContext,
				TLSHandshakeTimeout: timeout,
				MaxIdleConnsPerHost: 2,
				IdleConnTimeout:     90 * time.Second,
			},
			CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse },
		}
	}
	return &client{policy: p, https: mk(false), http: mk(true)}
}

// maxResponse is how much of a receiver's answer is read (and logged, on a
// failure, up to errorExcerpt).
const (
	maxResponse  = 64 << 10
	errorExcerpt = 200
)

// Deliver posts one event (body, as Notify queued it) to webhook id, and
// records the attempt (try counts from 1). It returns nil on a 2xx answer;
// a permanent error (not worth retrying) when the webhook is gone, is
// disabled, or was disabled by this failure; any other error is worth
// retrying.
func (s *Service) Deliver(ctx context.Context, id string, body []byte, try int) error {
	var ev struct {
		ID   string `json:"id"`
		Type string `json:"type"`
	}
	if err := json.Unmarshal(body, &ev); err != nil || ev.ID == "" {
		return dispatcher.Permanent(fmt.Errorf("webhook %s: bad event payload: %v", id, err))
	}
	log := s.log.With("webhook_id", id, "event_id", ev.ID, "event", ev.Type, "attempt", try)
	w, err := s.cfg.Store.Webhook(ctx, id)
	if errors.Is(err, dispatcher.ErrNotFound) {
		log.Info("webhook deleted: event dropped")
		return dispatcher.Permanent(err)
	}
	if err != nil {
		return err
	}
	if w.Status != StatusActive {
		log.Info("webhook disabled: event dropped")
		return dispatcher.Permanent(fmt.Errorf("webhook %s is disabled", id))
	}
	a := s.post(ctx, w, ev.ID, ev.Type, body)
	a.Try = try
	reason := ""
	if !a.OK() {
		reason = fmt.Sprintf("failed without a success for %s; last error: %s", s.cfg.DisableAfter, a.failure())
	}
	rctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	after, err := s.cfg.Store.RecordAttempt(rctx, id, a, s.cfg.LogSize, s.cfg.DisableAfter, reason)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return dispatcher.Permanent(err)
	}
	if err != nil {
		log.Warn("webhook attempt not recorded", "error", err)
	}
	if a.OK() {
		log.Debug("webhook delivered", "status_code", a.StatusCode)
		return nil
	}
	if after != nil && after.Status == StatusDisabled {
		log.Warn("webhook disabled", "reason", after.DisabledReason)
		return dispatcher.Permanent(fmt.Errorf("webhook %s disabled: %s", id, a.failure()))
	}
	log.Warn("webhook delivery failed; it will be retried", "error", a.failure())
	return fmt.Errorf("webhook %s: %s", id, a.failure())
}

// failure says what went wrong in a failed attempt.
func (a *Attempt) failure() string {
	if a.Error != "" {
		return a.Error
	}
	return fmt.Sprintf("answered %d", a.StatusCode)
}

// post signs and posts body to w and returns the attempt.
func (s *Service) post(ctx context.Context, w *Webhook, eventID, eventType string, body []byte) Attempt {
	start := s.cfg.Now()
	a := Attempt{At: start.UTC().Truncate(time.Millisecond), EventID: eventID, EventType: eventType}
	u, err := s.cfg.Policy.checkURL(w.URL) // the policy may have changed since it was registered
	if err != nil {
		a.Error = err.Error()
		return a
	}
	hc := s.client.https
	if u.Scheme == "http" {
		hc = s.client.http
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, w.URL, bytes.NewReader(body))
	if err != nil {
		a.Error = err.Error()
		return a
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", "Pregon-Webhooks/1")
	req.Header.Set(HeaderSignature, Sign(s.Secret(w.ID), s.cfg.Now(), body))
	req.Header.Set(HeaderEventID, eventID)
	req.Header.Set(HeaderEventType, eventType)
	t0 := time.Now()
	resp, err := hc.Do(req)
	a.DurationMS = time.Since(t0).Milliseconds()
	if err != nil {
		a.Error = describe(err)
		return a
	}
	defer resp.Body.Close()
	excerpt, _ := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	a.StatusCode = resp.StatusCode
	if !a.OK() {
		if len(excerpt) > errorExcerpt {
			excerpt = excerpt[:errorExcerpt]
		}
		a.Error = fmt.Sprintf("answered %s: %q", resp.Status, excerpt)
	}
	return a
}

// describe shortens a transport error for the log: it keeps the refusal
// of a forbidden address plain.
func describe(err error) string {
	if errors.Is(err, ErrForbiddenAddress) {
		var op *net.OpError
		if errors.As(err, &op) && op.Err != nil {
			return "refused: " + op.Err.Error()
		}
	}
	return err.Error()
}

// netResolver is net.DefaultResolver as a Resolver.
type netResolver struct{}

func (netResolver) LookupNetIP(ctx context.Context, network, host string) ([]netip.Addr, error) {
	return net.DefaultResolver.LookupNetIP(ctx, network, host)
}
