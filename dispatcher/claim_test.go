package dispatcher_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// TestDeliverClaimsBeforeSending: what a delivery task does with a
// delivery, by the state it finds it in (worker "w1", claim timeout 2m;
// "other" is a live worker, "gone" one whose liveness key has gone).
func TestDeliverClaimsBeforeSending(t *testing.T) {
	tests := []struct {
		name    string
		setup   func(r *rig, rid string, rec *mock.Record)
		want    dispatcher.DeliveryStatus
		wantMsg bool // whether it is mailed
		// wantDelay is the delay after which the task enqueues it again.
		wantDelay time.Duration
	}{
		{name: "queued: sent",
			want: dispatcher.DeliverySent, wantMsg: true, wantDelay: noTask},
		{name: "held by a live worker: checked again once the claim could be stale",
			setup: func(r *rig, _ string, rec *mock.Record) { claim(rec, "other", r.clock.Now()) },
			want:  dispatcher.DeliverySending, wantDelay: 2*time.Minute + time.Second},
		{name: "held by this worker (a task run twice): left to the first",
			setup: func(r *rig, _ string, rec *mock.Record) { claim(rec, "w1", r.clock.Now()) },
			want:  dispatcher.DeliverySending, wantDelay: 2*time.Minute + time.Second},
		{name: "held by a dead worker: taken at once",
			setup: func(r *rig, _ string, rec *mock.Record) { claim(rec, "gone", r.clock.Now()) },
			want:  dispatcher.DeliverySent, wantMsg: true, wantDelay: noTask},
		{name: "claim of a live worker gone stale: taken",
			setup: func(r *rig, _ string, rec *mock.Record) { claim(rec, "other", r.clock.Now().Add(-3*time.Minute)) },
			want:  dispatcher.DeliverySent, wantMsg: true, wantDelay: noTask},
		{name: "claim naming no worker (older code), fresh: left",
			setup: func(r *rig, _ string, rec *mock.Record) { claim(rec, "", r.clock.Now()) },
			want:  dispatcher.DeliverySending, wantDelay: 2*time.Minute + time.Second},
		{name: "already sent: nothing",
			setup: func(_ *rig, _ string, rec *mock.Record) { rec.Status = dispatcher.DeliverySent },
			want:  dispatcher.DeliverySent, wantDelay: noTask},
		{name: "release cancelled: cancelled, not sent",
			setup: func(r *rig, rid string, _ *mock.Record) {
				if _, err := r.mem.SetReleaseStatus(context.Background(), rid, dispatcher.ReleaseCancelled, dispatcher.ReleaseSending); err != nil {
					panic(err)
				}
			},
			want: dispatcher.DeliveryCancelled, wantDelay: noTask},
		{name: "unsubscribed since planning: suppressed, not sent",
			setup: func(r *rig, _ string, rec *mock.Record) { r.mem.Suppress(rec.Recipient, "unsubscribed") },
			want:  dispatcher.DeliverySuppressed, wantDelay: noTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			ctx := context.Background()
			// w1 (the claimer) has beaten for longer than half its TTL by the
			// time it claims, so it may take a dead worker's deliveries.
			for w, ttl := range map[string]time.Duration{"w1": 90 * time.Second, "other": time.Hour, "gone": time.Second} {
				if err := r.mem.Heartbeat(ctx, w, ttl); err != nil {
					t.Fatal(err)
				}
			}
			rid, ids := r.sending(t, "ana@example.org")
			r.clock.Add(time.Minute) // "gone" is gone
			if tt.setup != nil {
				rec := r.record(t, rid, ids[0])
				tt.setup(r, rid, &rec)
				r.mem.Put(rid, rec)
			}
			svc := r.service(t, dispatcher.Config{ClaimTimeout: 2 * time.Minute})
			if err := svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}); err != nil {
				t.Fatal(err)
			}
			if rec := r.record(t, rid, ids[0]); rec.Status != tt.want {
				t.Errorf("delivery %s, want %s", rec.Status, tt.want)
			}
			if sent := r.email.Count("SendEmail") > 0; sent != tt.wantMsg {
				t.Errorf("mailed = %v, want %v", sent, tt.wantMsg)
			}
			r.checkEnqueued(t, ids, tt.wantDelay)
		})
	}
}

// claim makes rec a delivery claimed at by worker.
func claim(rec *mock.Record, worker string, at time.Time) {
	rec.Status, rec.Worker, rec.ClaimedAt = dispatcher.DeliverySending, worker, at
}

// TestLongSendRenewsItsClaim: a send that takes longer than the claim
// timeout keeps its delivery while it renews its claim, so that another
// worker does not send it again; when it cannot renew, another worker takes
// the delivery, and the first one's outcome, which belongs to a claim that
// is no longer the delivery's, is not recorded over the second one's.
//
// The claim timeout is 30ms so that the renewals (every 10ms, on the
// dispatcher's own timers) come quickly; the clock moves only in the test.
func TestLongSendRenewsItsClaim(t *testing.T) {
	const timeout = 30 * time.Millisecond
	tests := []struct {
		name string
		// renewErr is what renewing the claim fails with (nil: it succeeds,
		// and the clock moves 20ms at each renewal).
		renewErr error
		// whose message is recorded, and how many attempts it took
		wantMsg      string
		wantAttempts int
		// wantRecheck is when w2 checks the delivery again.
		wantRecheck time.Duration
	}{
		{name: "renewed: kept", wantMsg: "from-w1", wantAttempts: 1, wantRecheck: timeout + time.Second},
		{name: "not renewed: taken by another, the first's outcome dropped",
			renewErr: errors.New("redis: connection refused"), wantMsg: "from-w2", wantAttempts: 2, wantRecheck: noTask},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			ctx := context.Background()
			for _, w := range []string{"w1", "w2"} {
				if err := r.mem.Heartbeat(ctx, w, time.Hour); err != nil {
					t.Fatal(err)
				}
			}
			rid, ids := r.sending(t, "ana@example.org")
			batch := dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}

			// w1 sends slowly, until released, renewing its claim meanwhile.
			st1 := mock.NewStore(r.mem)
			st1.RenewClaimFn = func(ctx context.Context, rid, id string, at time.Time) (time.Time, bool, error) {
				if tt.renewErr != nil {
					return time.Time{}, false, tt.renewErr
				}
				r.clock.Add(20 * time.Millisecond)
				return r.mem.RenewClaim(ctx, rid, id, at)
			}
			sending, release := make(chan struct{}), make(chan struct{})
			slow := &mock.EmailSender{SendEmailFn: func(context.Context, *dispatcher.EmailMessage) (string, error) {
				close(sending)
				<-release
				return "from-w1", nil
			}}
			w1 := r.service(t, dispatcher.Config{Store: st1, Email: slow, WorkerID: "w1", ClaimTimeout: timeout})
			done := make(chan error, 1)
			go func() { done <- w1.Deliver(ctx, batch) }()
			<-sending
			waitFor(t, "three renewals", func() bool { return st1.Count("RenewClaim") >= 3 })
			if tt.renewErr != nil {
				r.clock.Add(2 * timeout)
			}

			// w2 runs the same batch meanwhile (a task run twice, or
			// the sweeper's).
			quick := &mock.EmailSender{SendEmailFn: func(context.Context, *dispatcher.EmailMessage) (string, error) {
				return "from-w2", nil
			}}
			w2 := r.service(t, dispatcher.Config{Store: mock.NewStore(r.mem), Email: quick, WorkerID: "w2", ClaimTimeout: timeout})
			if err := w2.Deliver(ctx, batch); err != nil {
				t.Fatal(err)
			}
			close(release)
			if err := <-done; err != nil {
				t.Fatal(err)
			}

			rec := r.record(t, rid, ids[0])
			if rec.Status != dispatcher.DeliverySent || !slices.Equal(rec.MessageIDs, []string{tt.wantMsg}) || rec.Attempts != tt.wantAttempts {
				t.Errorf("delivery %s with %v after %d attempts, want sent with %s after %d",
					rec.Status, rec.MessageIDs, rec.Attempts, tt.wantMsg, tt.wantAttempts)
			}
			if n, want := quick.Count("SendEmail"), tt.wantAttempts-1; n != want {
				t.Errorf("w2 sent %d emails, want %d", n, want)
			}
			// w2 leaves a delivery it finds held to be checked again later.
			r.checkEnqueued(t, ids, tt.wantRecheck)
			rel, err := r.mem.Release(ctx, rid)
			if err != nil {
				t.Fatal(err)
			}
			if rel.Status != dispatcher.ReleaseSent || rel.Counts.ByStatus[dispatcher.DeliverySent] != 1 {
				t.Errorf("release %s with counts %v, want sent with one delivery sent", rel.Status, rel.Counts.ByStatus)
			}
		})
	}
}
