package dispatcher_test

import (
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// events is a dispatcher.Notifier that keeps what it is told.
type events struct {
	mu sync.Mutex
	es []dispatcher.Event
}

func (n *events) Notify(_ context.Context, e dispatcher.Event) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	n.es = append(n.es, e)
	return nil
}

func (n *events) types() []dispatcher.EventType {
	n.mu.Lock()
	defer n.mu.Unlock()
	var ts []dispatcher.EventType
	for _, e := range n.es {
		ts = append(ts, e.Type)
	}
	return ts
}

func (r *rig) notifying(t *testing.T, n dispatcher.Notifier, worker string) *dispatcher.Service {
	t.Helper()
	s, err := dispatcher.NewService(dispatcher.Config{Store: r.store, Queue: r.queue, Renderer: r.render, Email: r.email, Telegram: r.tg,
		Now: r.clock.Now, WorkerID: worker, Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Notifier: n})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// TestNotifyEndOfRelease: a failed delivery and the release's end are
// told once each; a task run again tells nothing more.
func TestNotifyEndOfRelease(t *testing.T) {
	r := newRig()
	r.email = &mock.EmailSender{SendEmailFn: func(_ context.Context, msg *dispatcher.EmailMessage) (string, error) {
		if msg.To.Email == "bad@example.org" {
			return "", dispatcher.Permanent(errors.New("550 no such user"))
		}
		return msg.MessageID, nil
	}}
	n := &events{}
	svc := r.notifying(t, n, "w1")
	rid, ids := r.sending(t, "ana@example.org", "bad@example.org")
	b := dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}
	ctx := context.Background()
	if err := svc.Deliver(ctx, b); err != nil {
		t.Fatal(err)
	}
	got := n.types()
	if len(got) != 2 || got[0] != dispatcher.EventDeliveryFailed || got[1] != dispatcher.EventReleaseSentWithFailures {
		t.Fatalf("events %v, want delivery.failed then release.sent_with_failures", got)
	}
	failed, final := n.es[0], n.es[1]
	if failed.Data["recipient"] != "bad@example.org" || failed.Data["delivery_id"] != ids[1] || failed.Data["release_id"] != rid {
		t.Errorf("delivery.failed data %v", failed.Data)
	}
	if final.Data["release_id"] != rid || final.Data["status"] != dispatcher.ReleaseSentWithFailures || final.ID == "" {
		t.Errorf("release event %+v", final)
	}
	// The task again, on this worker and another: nothing is sent, nothing told.
	for _, s := range []*dispatcher.Service{svc, r.notifying(t, n, "w2")} {
		if err := s.Deliver(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	if got := n.types(); len(got) != 2 {
		t.Errorf("after the task ran again: events %v, want the same two", got)
	}
}

// TestNotifyScheduled: send tells release.scheduled, and a second send
// tells the same event (same id), which the queue drops.
func TestNotifyScheduled(t *testing.T) {
	r := newRig()
	n := &events{}
	svc := r.notifying(t, n, "w1")
	rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseDraft, Title: "Nota", Language: "es",
		Audiences: dispatcher.Audiences{Lists: []string{"lst_prensa"}}})
	ctx := context.Background()
	for range 2 {
		if _, err := svc.Send(ctx, rid, nil); err != nil {
			t.Fatal(err)
		}
	}
	if len(n.es) != 2 || n.es[0].Type != dispatcher.EventReleaseScheduled || n.es[0].ID != n.es[1].ID ||
		n.es[0].Data["release_id"] != rid || n.es[0].Data["title"] != "Nota" {
		t.Errorf("events %+v, want release.scheduled twice with one id", n.es)
	}
}

func TestBouncedEvent(t *testing.T) {
	at := t0.Add(time.Hour)
	a := dispatcher.BouncedEvent("rel_1", "d1", "ana@example.org", "hard", "dsn", at)
	b := dispatcher.BouncedEvent("rel_1", "d1", "ana@example.org", "hard", "ses", at)
	c := dispatcher.BouncedEvent("rel_1", "d1", "ana@example.org", "complaint", "ses", at)
	if a.Type != dispatcher.EventDeliveryBounced || a.ID != b.ID || a.ID == c.ID || a.Data["kind"] != "hard" || !a.CreatedAt.Equal(at) {
		t.Errorf("events %+v, %+v, %+v: want one id per bounce", a, b, c)
	}
}
