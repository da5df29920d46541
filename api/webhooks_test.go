package api

import (
	"context"
	"net/http"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// notified is a dispatcher.Notifier that keeps the events it is told of.
type notified struct {
	mu     sync.Mutex
	events []dispatcher.Event
}

func (n *notified) Notify(_ context.Context, e dispatcher.Event) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.events = append(n.events, e)
	return nil
}

func TestUnsubscribeNotifies(t *testing.T) {
	n := &notified{}
	h := newHarness(t, func(c *Config) { c.Notifier = n })
	path := h.unsubscribePath("ana@example.org")
	for range 2 { // twice: the same event id, for the receiver to drop
		h.page("POST", path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil, http.StatusOK)
	}
	if len(n.events) != 2 {
		t.Fatalf("events %+v, want two", n.events)
	}
	e := n.events[0]
	if e.Type != dispatcher.EventContactUnsubscribed || e.Data["email"] != "ana@example.org" || e.Data["release_id"] != "rel_1" ||
		e.ID == "" || e.ID != n.events[1].ID || e.CreatedAt.IsZero() {
		t.Errorf("event %+v (then %+v), want contact.unsubscribed for ana with one id", e, n.events[1])
	}
	// A refused unsubscribe tells nobody.
	h.page("POST", path, "application/x-www-form-urlencoded", "List-Unsubscribe=No", nil, http.StatusBadRequest)
	if len(n.events) != 2 {
		t.Errorf("a refused unsubscribe notified: %+v", n.events[2:])
	}
}

func TestWebhooksNotConfigured(t *testing.T) {
	h := newHarness(t)
	for _, r := range [][2]string{{"GET", "/v1/webhooks"}, {"POST", "/v1/webhooks"}, {"DELETE", "/v1/webhooks/whk_1"},
		{"POST", "/v1/webhooks/whk_1/enable"}, {"GET", "/v1/webhooks/whk_1/deliveries"}} {
		w := h.do(r[0], r[1], coordToken, "application/json", `{"url":"https://example.org/"}`)
		if w.Code != http.StatusNotImplemented || !strings.Contains(w.Body.String(), "webhooks") {
			t.Errorf("%s %s = %d %s, want 501", r[0], r[1], w.Code, w.Body)
		}
	}
}
