package dispatcher

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"strconv"
	"strings"
	"time"
)

// EventType names an event that outside systems may subscribe to (outgoing
// webhooks).
type EventType string

// The events Pregón emits.
const (
	// EventReleaseScheduled: a release was scheduled by send.
	EventReleaseScheduled EventType = "release.scheduled"
	// EventReleaseSent: every delivery of a release ended well.
	EventReleaseSent EventType = "release.sent"
	// EventReleaseSentWithFailures: a release ended with failed or uncertain deliveries.
	EventReleaseSentWithFailures EventType = "release.sent_with_failures"
	// EventDeliveryFailed: a delivery reached failed.
	EventDeliveryFailed EventType = "delivery.failed"
	// EventDeliveryBounced: a delivery bounced (reported by the provider).
	EventDeliveryBounced EventType = "delivery.bounced"
	// EventContactUnsubscribed: an address unsubscribed.
	EventContactUnsubscribed EventType = "contact.unsubscribed"
)

// EventTypes lists every EventType, in the order the documentation gives them.
var EventTypes = []EventType{EventReleaseScheduled, EventReleaseSent, EventReleaseSentWithFailures,
	EventDeliveryFailed, EventDeliveryBounced, EventContactUnsubscribed}

// Event is one thing that happened, as webhooks receive it.
type Event struct {
	// ID identifies the event: the same fact, noticed twice (by two
	// workers, or a task run twice), has the same id (see EventID), so that
	// it is delivered once and receivers can drop a repeat.
	ID        string         `json:"id"`
	Type      EventType      `json:"type"`
	CreatedAt time.Time      `json:"created_at"`
	Data      map[string]any `json:"data"`
}

// EventID returns the id of the event of type typ about the fact that key
// names (e.g. a release id and the time it ended): "evt_" and 24 hex digits.
func EventID(typ EventType, key ...string) string {
	sum := sha256.Sum256([]byte(string(typ) + "\x00" + strings.Join(key, "\x00")))
	return "evt_" + hex.EncodeToString(sum[:12])
}

// Notifier is told of events; the webhooks service queues them for the
// webhooks subscribed to them. Notify must return quickly (it enqueues, it
// does not deliver); an error means the event may not reach its webhooks.
type Notifier interface {
	Notify(ctx context.Context, e Event) error
}

// notify tells the configured Notifier of e, if any. A failure is logged
// and not returned: an event lost does not undo what happened.
func (s *Service) notify(ctx context.Context, e Event) {
	if s.cfg.Notifier == nil {
		return
	}
	if e.CreatedAt.IsZero() {
		e.CreatedAt = s.cfg.Now().UTC()
	}
	if err := s.cfg.Notifier.Notify(context.WithoutCancel(ctx), e); err != nil {
		s.log.Warn("event not queued for webhooks", "event", string(e.Type), "event_id", e.ID, "error", err)
	}
}

// notifyScheduled emits release.scheduled for a release due at when.
func (s *Service) notifyScheduled(ctx context.Context, rel *Release, when time.Time) {
	s.notify(ctx, Event{ID: EventID(EventReleaseScheduled, rel.ID, strconv.FormatInt(when.UnixMilli(), 10)),
		Type: EventReleaseScheduled, Data: map[string]any{"release_id": rel.ID, "title": rel.Title,
			"scheduled_at": when.UTC(), "embargo_until": rel.EmbargoUntil}})
}

// notifyIfFinal emits release.sent or release.sent_with_failures when the
// release rid has ended. It is called wherever a release may have ended
// (after outcomes are recorded, after planning); the event's id is the
// release's and its end time, so that two callers who see the same end emit
// one event, and a release that ends again after a retry emits another.
// Corrections emit nothing.
func (s *Service) notifyIfFinal(ctx context.Context, rid string) {
	if s.cfg.Notifier == nil {
		return
	}
	a, err := s.cfg.Store.Activity(ctx, rid)
	if err != nil || (a.Status != ReleaseSent && a.Status != ReleaseSentWithFailures) {
		return
	}
	rel, err := s.cfg.Store.Release(ctx, rid)
	if err != nil || rel.CorrectionOf != nil || (rel.Status != ReleaseSent && rel.Status != ReleaseSentWithFailures) {
		return
	}
	typ := EventReleaseSent
	if rel.Status == ReleaseSentWithFailures {
		typ = EventReleaseSentWithFailures
	}
	s.notify(ctx, Event{ID: EventID(typ, rel.ID, strconv.FormatInt(rel.UpdatedAt.UnixMilli(), 10)),
		Type: typ, Data: map[string]any{"release_id": rel.ID, "title": rel.Title, "status": rel.Status,
			"finished_at": rel.UpdatedAt.UTC(), "counts": rel.Counts}})
}

// notifyFailed emits delivery.failed for a delivery of release rid that
// ended failed after attempts attempts.
func (s *Service) notifyFailed(ctx context.Context, rid string, d *Claimed, out Outcome) {
	if s.cfg.Notifier == nil || d == nil {
		return
	}
	s.notify(ctx, Event{ID: EventID(EventDeliveryFailed, rid, d.ID, strconv.Itoa(d.Attempts)),
		Type: EventDeliveryFailed, Data: map[string]any{"release_id": rid, "delivery_id": d.ID,
			"channel": d.Channel, "recipient": d.Recipient, "attempts": d.Attempts, "error": out.Error}})
	if b := out.Bounce; b != nil {
		at := b.At
		if at.IsZero() {
			at = s.cfg.Now()
		}
		s.notify(ctx, BouncedEvent(rid, d.ID, d.Recipient, string(b.Kind), b.Source, at))
	}
}

// BouncedEvent returns the delivery.bounced event for a bounce or complaint
// (kind: hard, soft or complaint) that a provider or a DSN reported at at
// for delivery deliveryID of release releaseID, to recipient: give it to a
// Notifier where bounces are recorded. Its id is the bounce's, so one
// bounce reported twice is one event.
func BouncedEvent(releaseID, deliveryID, recipient, kind, source string, at time.Time) Event {
	return Event{ID: EventID(EventDeliveryBounced, releaseID, deliveryID, kind, strconv.FormatInt(at.UnixMilli(), 10)),
		Type: EventDeliveryBounced, CreatedAt: at.UTC(), Data: map[string]any{"release_id": releaseID, "delivery_id": deliveryID,
			"recipient": recipient, "kind": kind, "source": source, "at": at.UTC()}}
}
