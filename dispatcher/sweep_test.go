package dispatcher_test

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// sweptDelivery sets up a delivery for a sweeper test, relative to now, the
// time of the sweep.
type sweptDelivery func(now time.Time, r *mock.Record)

// inQueue is a queued delivery.
func inQueue() sweptDelivery {
	return func(_ time.Time, r *mock.Record) { r.Status = dispatcher.DeliveryQueued }
}

// sendingBy is a delivery claimed ago by worker.
func sendingBy(worker string, ago time.Duration) sweptDelivery {
	return func(now time.Time, r *mock.Record) {
		r.Status, r.Worker, r.ClaimedAt = dispatcher.DeliverySending, worker, now.Add(-ago)
	}
}

// retryingDue is a retry due in (negative: overdue); with in zero, one
// without a due time, last changed ago.
func retryingDue(in, ago time.Duration) sweptDelivery {
	return func(now time.Time, r *mock.Record) {
		r.Status, r.UpdatedAt = dispatcher.DeliveryRetrying, now.Add(-ago)
		if in != 0 {
			r.Due = now.Add(in)
		}
	}
}

// finalAs is a delivery in a final status.
func finalAs(st dispatcher.DeliveryStatus) sweptDelivery {
	return func(_ time.Time, r *mock.Record) { r.Status = st }
}

// TestSweepSetsGoingWhatNoTaskWill: with a claim timeout of 2m, which
// releases and deliveries a sweep sets going again, and which it leaves
// alone. Workers beat at the start with the TTL given ("dead" ones with
// 10s, gone by the sweep); the sweep runs idle after the release last
// moved, on worker "sweeper".
func TestSweepSetsGoingWhatNoTaskWill(t *testing.T) {
	const (
		live = time.Hour
		dead = 10 * time.Second
	)
	// A release a live worker is sending, with more queued.
	aliveHolds := map[string]sweptDelivery{
		"held by the alive": sendingBy("busy", 20*time.Second),
		"queued":            inQueue(),
	}
	tests := []struct {
		name       string
		status     dispatcher.ReleaseStatus // default sending
		unplanned  bool                     // planning has not finished
		idle       time.Duration
		workers    map[string]time.Duration // worker → TTL of its beat
		deliveries map[string]sweptDelivery
		// wantEnqueued are the deliveries enqueued again, wantDispatch
		// whether the release is dispatched again, wantWatched whether the
		// sweeper still watches it afterwards.
		wantEnqueued []string
		wantDispatch bool
		wantWatched  bool
	}{
		{name: "idle: queued, stale claims and lost retries enqueued; fresh claims, retries not yet due and final ones left",
			idle: 3 * time.Minute, workers: map[string]time.Duration{"busy": live},
			deliveries: map[string]sweptDelivery{
				"queued":                           inQueue(),
				"stale claim":                      sendingBy("busy", 3*time.Minute),
				"claim renewed by a long send":     sendingBy("busy", 10*time.Second),
				"retry overdue past the timeout":   retryingDue(-3*time.Minute, 10*time.Minute),
				"retry overdue within the timeout": retryingDue(-time.Minute, 10*time.Minute),
				"retry due later":                  retryingDue(time.Minute, 10*time.Minute),
				"retry without due, old":           retryingDue(0, 3*time.Hour),
				"retry without due, recent":        retryingDue(0, time.Hour),
				"sent":                             finalAs(dispatcher.DeliverySent),
				"failed":                           finalAs(dispatcher.DeliveryFailed),
			},
			wantEnqueued: []string{"queued", "retry overdue past the timeout", "retry without due, old", "stale claim"},
			wantWatched:  true},
		{name: "busy, a dead worker's claims: taken at once, with the queued ones",
			idle: 30 * time.Second, workers: map[string]time.Duration{"gone": dead, "busy": live},
			deliveries: map[string]sweptDelivery{
				"held by the dead":  sendingBy("gone", 20*time.Second),
				"held by the alive": sendingBy("busy", 20*time.Second),
				"queued":            inQueue(),
				"retry overdue":     retryingDue(-3*time.Minute, 10*time.Minute),
			},
			wantEnqueued: []string{"held by the dead", "queued"},
			wantWatched:  true},
		{name: "busy, no worker dead: left alone",
			idle: 30 * time.Second, workers: map[string]time.Duration{"busy": live},
			deliveries: aliveHolds, wantWatched: true},
		{name: "busy, a dead worker that held none of it: left alone",
			idle: 30 * time.Second, workers: map[string]time.Duration{"gone": dead, "busy": live},
			deliveries: aliveHolds, wantWatched: true},
		{name: "the sweeper's own claims: never taken for a dead worker's",
			idle: 30 * time.Second, workers: map[string]time.Duration{"sweeper": dead},
			deliveries: map[string]sweptDelivery{
				"held by the sweeper": sendingBy("sweeper", 20*time.Second),
				"queued":              inQueue(),
			},
			wantWatched: true},
		{name: "planning stalled: dispatched again",
			unplanned: true, idle: 3 * time.Minute,
			deliveries:   map[string]sweptDelivery{"queued": inQueue()},
			wantDispatch: true, wantWatched: true},
		{name: "planning under way: left alone",
			unplanned: true, idle: 30 * time.Second,
			deliveries:  map[string]sweptDelivery{"queued": inQueue()},
			wantWatched: true},
		{name: "sent: no longer watched",
			status: dispatcher.ReleaseSent, idle: 3 * time.Minute,
			deliveries: map[string]sweptDelivery{"sent": finalAs(dispatcher.DeliverySent)}},
		{name: "cancelled, deliveries left: no longer watched, nothing enqueued",
			status: dispatcher.ReleaseCancelled, idle: 3 * time.Minute,
			deliveries: map[string]sweptDelivery{"queued": inQueue(), "stale claim": sendingBy("busy", 3*time.Minute)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			ctx := context.Background()
			for w, ttl := range tt.workers {
				if err := r.mem.Heartbeat(ctx, w, ttl); err != nil {
					t.Fatal(err)
				}
			}
			rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseSending, Title: "Nota", Language: "es"})
			name := map[string]string{} // delivery id → its name in the table
			var ds []*dispatcher.Delivery
			for n := range tt.deliveries {
				addr := fmt.Sprintf("d%d@example.org", len(ds))
				id := dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, addr)
				name[id] = n
				ds = append(ds, &dispatcher.Delivery{ID: id, Channel: dispatcher.ChannelEmail, Recipient: addr, Status: dispatcher.DeliveryQueued})
			}
			if _, err := r.mem.CreateDeliveries(ctx, rid, ds); err != nil {
				t.Fatal(err)
			}
			if !tt.unplanned {
				if _, err := r.mem.SnapshotDone(ctx, rid); err != nil {
					t.Fatal(err)
				}
			}
			if err := r.mem.MarkActive(ctx, rid); err != nil {
				t.Fatal(err)
			}
			now := r.clock.Add(tt.idle)
			for _, rec := range r.mem.Records(rid) {
				tt.deliveries[name[rec.ID]](now, &rec)
				r.mem.Put(rid, rec)
			}
			if tt.status != "" {
				if _, err := r.mem.SetReleaseStatus(ctx, rid, tt.status, dispatcher.ReleaseSending); err != nil {
					t.Fatal(err)
				}
			}

			r.beating(t, "sweeper")
			n, err := r.service(t, dispatcher.Config{WorkerID: "sweeper", ClaimTimeout: 2 * time.Minute}).Sweep(ctx)
			if err != nil {
				t.Fatal(err)
			}
			var enqueued []string
			for _, b := range r.queue.Batches() {
				if b.ReleaseID != rid || b.Channel != dispatcher.ChannelEmail || b.Delay != 0 {
					t.Errorf("enqueued %+v, want email batches of %s to run now", b, rid)
				}
				for _, id := range b.IDs {
					enqueued = append(enqueued, name[id])
				}
			}
			slices.Sort(enqueued)
			if !slices.Equal(enqueued, tt.wantEnqueued) {
				t.Errorf("enqueued again %q, want %q", enqueued, tt.wantEnqueued)
			}
			wantDispatches := []string(nil)
			if tt.wantDispatch {
				wantDispatches = []string{rid}
			}
			if got := r.queue.Dispatches(); !slices.Equal(got, wantDispatches) {
				t.Errorf("dispatched %v, want %v", got, wantDispatches)
			}
			wantN := 0
			if len(tt.wantEnqueued) > 0 || tt.wantDispatch {
				wantN = 1
			}
			if n != wantN {
				t.Errorf("Sweep = %d, want %d", n, wantN)
			}
			if active, _ := r.mem.ActiveReleases(ctx); slices.Contains(active, rid) != tt.wantWatched {
				t.Errorf("watched = %v, want %v", !tt.wantWatched, tt.wantWatched)
			}
			// The dead workers are forgotten: a later sweep need not look.
			if dead, _, _ := r.mem.DeadWorkers(ctx, "sweeper"); len(dead) > 0 {
				t.Errorf("dead workers %v still registered after the sweep", dead)
			}
		})
	}
}

// TestSweepTakesOverADeadWorkersClaimsAtOnce: a worker that dies holding
// a delivery has it sent by another as soon as its liveness key has gone,
// long before the claim timeout.
func TestSweepTakesOverADeadWorkersClaimsAtOnce(t *testing.T) {
	r := newRig()
	ctx := context.Background()
	rid, ids := r.sending(t, "ana@example.org")
	dead := r.service(t, dispatcher.Config{WorkerID: "dead", ClaimTimeout: time.Hour})
	stop, err := dead.StartHeartbeat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer stop(false)
	// It claims the delivery, and dies before it sends it.
	if _, _, err := r.mem.FinishAndClaimBy(ctx, rid, "dead", nil, ids, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	stop(false)
	if err := r.mem.Heartbeat(ctx, "alive", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	alive := r.service(t, dispatcher.Config{WorkerID: "alive", ClaimTimeout: time.Hour})
	for _, step := range []struct {
		after time.Duration
		want  dispatcher.DeliveryStatus
	}{
		{5 * time.Second, dispatcher.DeliverySending}, // its key has not gone yet
		{10 * time.Second, dispatcher.DeliverySent},   // it has (LivenessTTL 10s)
	} {
		r.clock.Set(t0.Add(step.after))
		// The live worker has beaten since t0 (renewing keeps when its run began).
		if err := r.mem.Heartbeat(ctx, "alive", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		r.queue.Reset()
		if _, err := alive.Sweep(ctx); err != nil {
			t.Fatal(err)
		}
		for _, b := range r.queue.Batches() {
			if err := alive.Deliver(ctx, b.Batch); err != nil {
				t.Fatal(err)
			}
		}
		if rec := r.record(t, rid, ids[0]); rec.Status != step.want {
			t.Errorf("%s after the death: delivery %s, want %s", step.after, rec.Status, step.want)
		}
	}
	if n := r.email.Count("SendEmail"); n != 1 {
		t.Errorf("%d emails sent, want 1", n)
	}
}

// TestSweeperWithoutItsOwnKeyJudgesNobody: a sweeper whose own liveness key
// is gone (Redis was frozen or away, and every key may have expired, live
// workers' too) takes nobody's deliveries and forgets nobody, until its own
// heartbeats have run for half the TTL.
func TestSweeperWithoutItsOwnKeyJudgesNobody(t *testing.T) {
	r := newRig()
	ctx := context.Background()
	rid, ids := r.sending(t, "ana@example.org")
	if err := r.mem.Heartbeat(ctx, "other", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.mem.FinishAndClaimBy(ctx, rid, "other", nil, ids, t0.Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	r.mem.Kill("other") // its key expired, as every key may have
	sweeper := r.service(t, dispatcher.Config{WorkerID: "sweeper", ClaimTimeout: time.Hour})
	if _, err := sweeper.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if b := r.queue.Batches(); len(b) != 0 {
		t.Errorf("a sweeper without its own key enqueued %+v", b)
	}
	if dead, _, _ := r.mem.DeadWorkers(ctx, "sweeper"); len(dead) != 1 {
		t.Errorf("dead workers %v; want the other still registered", dead)
	}
	// Once it has beaten for half the TTL, it judges.
	r.beating(t, "sweeper")
	if _, err := sweeper.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if b := r.queue.Batches(); len(b) != 1 || len(b[0].IDs) != 1 || b[0].IDs[0] != ids[0] {
		t.Errorf("after beating, enqueued %+v; want the dead worker's delivery", b)
	}
}
