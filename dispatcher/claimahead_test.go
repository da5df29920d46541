package dispatcher_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// aheadEmails returns n addresses, and a sender that runs during(i, msg)
// before it accepts the i-th message (from 0).
func aheadEmails(n int, during func(i int, msg *dispatcher.EmailMessage)) ([]string, *mock.EmailSender) {
	to := make([]string, n)
	for i := range to {
		to[i] = fmt.Sprintf("ahead%02d@example.org", i)
	}
	var mu sync.Mutex
	sent := 0
	return to, &mock.EmailSender{SendEmailFn: func(_ context.Context, msg *dispatcher.EmailMessage) (string, error) {
		mu.Lock()
		i := sent
		sent++
		mu.Unlock()
		during(i, msg)
		return msg.MessageID, nil
	}}
}

// TestClaimAheadRecordsEachOutcomeBeforeTheNextSend: a worker claims
// several deliveries in one call, but when it sends one, every delivery it
// sent before is recorded already, so that a crash leaves at most the one
// in flight sent and unrecorded; each is sent once, with one attempt.
func TestClaimAheadRecordsEachOutcomeBeforeTheNextSend(t *testing.T) {
	r := newRig()
	ctx := context.Background()
	var rid string
	var ids []string
	to, sender := aheadEmails(20, func(i int, msg *dispatcher.EmailMessage) {
		for j, id := range ids[:i] {
			if rec := r.record(t, rid, id); rec.Status != dispatcher.DeliverySent {
				t.Errorf("sending #%d (%s): #%d is %s, want sent (recorded before the next send)", i, msg.To.Email, j, rec.Status)
			}
		}
	})
	rid, ids = r.sending(t, to...)
	r.email = sender
	svc := r.service(t, dispatcher.Config{})
	if err := svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}); err != nil {
		t.Fatal(err)
	}
	if n := sender.Count("SendEmail"); n != len(ids) {
		t.Errorf("%d emails sent, want %d", n, len(ids))
	}
	for _, id := range ids {
		if rec := r.record(t, rid, id); rec.Status != dispatcher.DeliverySent || rec.Attempts != 1 {
			t.Errorf("%s: %s after %d attempts, want sent after 1", id, rec.Status, rec.Attempts)
		}
	}
	// Fewer claims than deliveries: they were taken several at a time.
	claims := 0
	for _, c := range r.store.Calls("FinishAndClaimBy") {
		if len(c.Args[3].([]string)) > 0 {
			claims++
		}
	}
	if claims == 0 || claims >= len(ids) {
		t.Errorf("%d calls claimed deliveries, want fewer than the %d deliveries and some", claims, len(ids))
	}
}

// TestClaimAheadCancelled: a release cancelled while a worker holds
// deliveries claimed ahead sends none of them: they end cancelled, their
// attempt undone, as do those not claimed yet; only the email in flight at
// the cancel went out.
func TestClaimAheadCancelled(t *testing.T) {
	r := newRig()
	ctx := context.Background()
	var svc *dispatcher.Service
	var rid string
	to, sender := aheadEmails(12, func(i int, _ *dispatcher.EmailMessage) {
		if i == 1 {
			if _, err := svc.Cancel(ctx, rid); err != nil {
				t.Errorf("cancel: %v", err)
			}
		}
	})
	rid, ids := r.sending(t, to...)
	r.email = sender
	svc = r.service(t, dispatcher.Config{})
	if err := svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}); err != nil {
		t.Fatal(err)
	}
	if n := sender.Count("SendEmail"); n != 2 {
		t.Errorf("%d emails sent, want 2 (the first, and the one in flight at the cancel)", n)
	}
	r.wantFirstSent(t, rid, ids, 2, dispatcher.DeliveryCancelled)
}

// TestClaimAheadShutdown: a shutdown while a worker holds deliveries
// claimed ahead hands them back queued, their attempt undone and no longer
// held by the process, so that the task's next run sends each of them once.
func TestClaimAheadShutdown(t *testing.T) {
	r := newRig()
	ctx, stop := context.WithCancel(context.Background())
	defer stop()
	to, sender := aheadEmails(6, func(i int, _ *dispatcher.EmailMessage) {
		if i == 2 {
			stop() // the message in flight still goes
		}
	})
	rid, ids := r.sending(t, to...)
	r.email = sender
	svc := r.service(t, dispatcher.Config{})
	b := dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}
	if err := svc.Deliver(ctx, b); !errors.Is(err, context.Canceled) {
		t.Fatalf("Deliver = %v, want the context's error", err)
	}
	r.wantFirstSent(t, rid, ids, 3, dispatcher.DeliveryQueued)
	// The task's next run.
	if err := svc.Deliver(context.Background(), b); err != nil {
		t.Fatal(err)
	}
	if n := sender.Count("SendEmail"); n != len(ids) {
		t.Errorf("%d emails sent in all, want %d, each once", n, len(ids))
	}
	for _, id := range ids {
		if rec := r.record(t, rid, id); rec.Status != dispatcher.DeliverySent || rec.Attempts != 1 {
			t.Errorf("%s: %s after %d attempts, want sent after 1", id, rec.Status, rec.Attempts)
		}
	}
}

// TestClaimAheadRenewed: the deliveries waiting their turn, claimed ahead,
// have their claims renewed while a slow send goes on, and their outcomes
// are recorded under the renewed claims.
func TestClaimAheadRenewed(t *testing.T) {
	r := newRig()
	ctx := context.Background()
	var rid string
	var ids []string
	to, sender := aheadEmails(3, func(i int, _ *dispatcher.EmailMessage) {
		if i != 0 {
			return
		}
		// The claims of the two waiting are renewed at a later time.
		r.clock.Set(t0.Add(time.Minute))
		waitFor(t, "the claims waiting to be renewed", func() bool {
			n := map[string]bool{}
			for _, c := range r.store.Calls("RenewClaim") {
				n[c.Args[1].(string)] = true
			}
			return n[ids[1]] && n[ids[2]]
		})
		for _, id := range ids[1:] {
			if rec := r.record(t, rid, id); rec.Status != dispatcher.DeliverySending || !rec.ClaimedAt.Equal(t0.Add(time.Minute)) {
				t.Errorf("%s: %s claimed at %s, want sending claimed at %s", id, rec.Status, rec.ClaimedAt, t0.Add(time.Minute))
			}
		}
	})
	rid, ids = r.sending(t, to...)
	r.email = sender
	svc := r.service(t, dispatcher.Config{ClaimTimeout: 150 * time.Millisecond})
	if err := svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}); err != nil {
		t.Fatal(err)
	}
	for _, id := range ids {
		if rec := r.record(t, rid, id); rec.Status != dispatcher.DeliverySent {
			t.Errorf("%s: %s, want sent (its outcome recorded under its renewed claim)", id, rec.Status)
		}
	}
}

// wantFirstSent checks that the first n deliveries of ids were sent after one
// attempt and that the others are in status rest, their attempt undone.
func (r *rig) wantFirstSent(t *testing.T, rid string, ids []string, n int, rest dispatcher.DeliveryStatus) {
	t.Helper()
	for i, id := range ids {
		rec := r.record(t, rid, id)
		want, attempts := rest, 0
		if i < n {
			want, attempts = dispatcher.DeliverySent, 1
		}
		if rec.Status != want || rec.Attempts != attempts {
			t.Errorf("#%d: %s after %d attempts, want %s after %d", i, rec.Status, rec.Attempts, want, attempts)
		}
	}
}
