package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// sendingRelease creates a sending release with one queued email delivery
// per address, whose ids are the addresses.
func sendingRelease(t *testing.T, s *store.Store, addrs ...string) string {
	t.Helper()
	ctx := context.Background()
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	var ds []*dispatcher.Delivery
	for _, a := range addrs {
		ds = append(ds, &dispatcher.Delivery{ID: a, Channel: dispatcher.ChannelEmail, Recipient: a, Status: dispatcher.DeliveryQueued})
	}
	if _, err := s.CreateDeliveries(ctx, r.ID, ds); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// TestClaimOfDeadWorkerTakenAtOnce: a delivery held by a worker whose
// liveness key has gone is taken over at once, long before its claim goes
// stale; one held by a live worker is not, even when that worker shares the
// dead one's host name and pid (a restart that got the same pid).
func TestClaimOfDeadWorkerTakenAtOnce(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	const (
		dead     = "host-a:4242:0d0d0d"
		restart  = "host-a:4242:1e1e1e" // same host and pid, another start
		stranger = "host-b:77:2f2f2f"
	)
	rid := sendingRelease(t, s, "a@x.org", "b@x.org")
	longAgo := time.Now().Add(-time.Hour) // claims never go stale here
	for _, w := range []string{dead, restart, stranger} {
		if err := s.Heartbeat(ctx, w, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	first, _, err := s.FinishAndClaimBy(ctx, rid, dead, nil, []string{"a@x.org"}, longAgo)
	if err != nil || len(first) != 1 {
		t.Fatalf("first claim = %v, %v", first, err)
	}
	held, _, err := s.FinishAndClaimBy(ctx, rid, restart, nil, []string{"b@x.org"}, longAgo)
	if err != nil || len(held) != 1 {
		t.Fatalf("claim by the restarted worker = %v, %v", held, err)
	}
	// Both alive: nobody takes anything.
	c, busy, err := s.FinishAndClaimBy(ctx, rid, stranger, nil, []string{"a@x.org", "b@x.org"}, longAgo)
	if err != nil || len(c) != 0 {
		t.Fatalf("claim of live workers' deliveries took %v, %v", c, err)
	}
	want := []dispatcher.Busy{
		{ID: "a@x.org", Channel: dispatcher.ChannelEmail, ClaimedAt: first[0].ClaimedAt, Worker: dead},
		{ID: "b@x.org", Channel: dispatcher.ChannelEmail, ClaimedAt: held[0].ClaimedAt, Worker: restart},
	}
	if d := cmp.Diff(want, busy); d != "" {
		t.Fatalf("busy (-want +got):\n%s", d)
	}
	// The first worker dies: its key goes.
	if err := s.Client().Del(ctx, "pregon:worker:"+dead).Err(); err != nil {
		t.Fatal(err)
	}
	got, since, err := s.DeadWorkers(ctx, stranger)
	if err != nil || !cmp.Equal(got, []string{dead}) {
		t.Fatalf("DeadWorkers = %v, %v; want only %s (not %s, which shares its host and pid)", got, err, dead, restart)
	}
	if since.IsZero() {
		t.Errorf("DeadWorkers: no time since which %s has been alive", stranger)
	}
	// The stranger's own heartbeats began just now (as after Redis was
	// frozen, when every key may have expired): it judges nobody dead yet.
	c, _, err = s.FinishAndClaimBy(ctx, rid, stranger, nil, []string{"a@x.org", "b@x.org"}, longAgo)
	if err != nil || len(c) != 0 {
		t.Fatalf("a worker whose heartbeats are young took %v, %v", c, err)
	}
	// Half its TTL later (its run began a minute ago), it does.
	if err := s.Client().Set(ctx, "pregon:worker:"+stranger, time.Now().Add(-time.Minute).UnixMilli(), 0).Err(); err != nil {
		t.Fatal(err)
	}
	c, busy, err = s.FinishAndClaimBy(ctx, rid, stranger, nil, []string{"a@x.org", "b@x.org"}, longAgo)
	if err != nil || len(c) != 1 || c[0].ID != "a@x.org" || c[0].Attempts != 2 {
		t.Fatalf("claim after the death took %+v, %v; want a@x.org only, attempt 2", c, err)
	}
	if len(busy) != 1 || busy[0].ID != "b@x.org" || busy[0].Worker != restart {
		t.Fatalf("busy after the death = %+v, want b@x.org held by %s", busy, restart)
	}
	// The dead worker's outcome, should it come, is not recorded over the new claim.
	if err := s.FinishDeliveries(ctx, rid, []dispatcher.Outcome{{ID: "a@x.org", Status: dispatcher.DeliveryFailed, ClaimedAt: first[0].ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, rid, "a@x.org"); d.Status != dispatcher.DeliverySending {
		t.Fatalf("the dead worker's outcome was recorded: %s", d.Status)
	}
}

// TestWorkerIsNeverDeadToItself: a worker whose own key has expired (Redis
// was away longer than its TTL) does not take its own deliveries over as a
// dead worker's.
func TestWorkerIsNeverDeadToItself(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rid := sendingRelease(t, s, "a@x.org")
	longAgo := time.Now().Add(-time.Hour)
	if c, _, err := s.FinishAndClaimBy(ctx, rid, "me:1:aa", nil, []string{"a@x.org"}, longAgo); err != nil || len(c) != 1 {
		t.Fatalf("claim = %v, %v", c, err)
	}
	c, busy, err := s.FinishAndClaimBy(ctx, rid, "me:1:aa", nil, []string{"a@x.org"}, longAgo)
	if err != nil || len(c) != 0 || len(busy) != 1 {
		t.Fatalf("second claim by the same worker = %v, %v, %v; want it busy", c, busy, err)
	}
}

// TestStalledFindsDeadWorkersDeliveries: the sweeper's query takes the
// deliveries of dead workers, with their channel, and leaves a live
// worker's alone.
func TestStalledFindsDeadWorkersDeliveries(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rid := sendingRelease(t, s, "a@x.org", "b@x.org", "c@x.org")
	longAgo := time.Now().Add(-time.Hour)
	s.FinishAndClaimBy(ctx, rid, "dead:1:aa", nil, []string{"a@x.org"}, longAgo)
	s.FinishAndClaimBy(ctx, rid, "live:1:bb", nil, []string{"b@x.org"}, longAgo)
	tests := []struct {
		name string
		rule dispatcher.StallRule
		want []dispatcher.Ref
	}{
		{"dead workers only", dispatcher.StallRule{DeadWorkers: []string{"dead:1:aa"}},
			[]dispatcher.Ref{{ID: "a@x.org", Channel: dispatcher.ChannelEmail}}},
		{"and queued", dispatcher.StallRule{DeadWorkers: []string{"dead:1:aa"}, Queued: true},
			[]dispatcher.Ref{{ID: "a@x.org", Channel: dispatcher.ChannelEmail}, {ID: "c@x.org", Channel: dispatcher.ChannelEmail}}},
		{"nothing dead, claims fresh", dispatcher.StallRule{ClaimedBefore: longAgo}, nil},
	}
	for _, tt := range tests {
		got, _, err := s.Stalled(ctx, rid, "", 100, tt.rule)
		if err != nil {
			t.Fatal(err)
		}
		if d := cmp.Diff(tt.want, got); d != "" {
			t.Errorf("%s: Stalled (-want +got):\n%s", tt.name, d)
		}
	}
}

// TestClaimSkipsAddressSuppressedMeanwhile: an address suppressed after
// the release was planned is not claimed: its delivery becomes suppressed,
// the counts move, and the release ends when nothing else is pending.
func TestClaimSkipsAddressSuppressedMeanwhile(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rid := sendingRelease(t, s, "a@x.org", "quit@x.org")
	if _, err := s.SnapshotDone(ctx, rid); err != nil {
		t.Fatal(err)
	}
	c, _, err := s.ClaimDeliveries(ctx, rid, []string{"a@x.org"}, time.Now().Add(-time.Minute))
	if err != nil || len(c) != 1 {
		t.Fatalf("claim = %v, %v", c, err)
	}
	if err := s.Suppress(ctx, "quit@x.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	c, busy, err := s.FinishAndClaim(ctx, rid, []dispatcher.Outcome{{ID: "a@x.org", Status: dispatcher.DeliverySent}}, []string{"quit@x.org"}, time.Now().Add(-time.Minute))
	if err != nil || len(c) != 0 || len(busy) != 0 {
		t.Fatalf("claim of a suppressed address = %v, %v, %v; want nothing", c, busy, err)
	}
	d, err := s.Delivery(ctx, rid, "quit@x.org")
	if err != nil || d.Status != dispatcher.DeliverySuppressed {
		t.Fatalf("delivery = %+v, %v; want suppressed", d, err)
	}
	rel, err := s.Release(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	want := map[dispatcher.DeliveryStatus]int64{dispatcher.DeliverySent: 1, dispatcher.DeliverySuppressed: 1}
	for _, st := range dispatcher.DeliveryStatuses {
		if rel.Counts.ByStatus[st] != want[st] {
			t.Errorf("count %s = %d, want %d", st, rel.Counts.ByStatus[st], want[st])
		}
	}
	if rel.Status != dispatcher.ReleaseSent || rel.Counts.Total != 2 {
		t.Errorf("release %s with total %d, want sent with 2", rel.Status, rel.Counts.Total)
	}
}

// TestOutcomeRecordedAfterALostRenewalReply: a renewal that Redis ran but
// whose reply was lost moved the claim time without the worker knowing; the
// worker's outcome, under its old claim time, is still recorded (it names
// the same worker), while another worker's is not.
func TestOutcomeRecordedAfterALostRenewalReply(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rid := sendingRelease(t, s, "a@x.org")
	c, _, err := s.FinishAndClaimBy(ctx, rid, "w1", nil, []string{"a@x.org"}, time.Now().Add(-time.Hour))
	if err != nil || len(c) != 1 {
		t.Fatalf("claim = %v, %v", c, err)
	}
	// The renewal the worker never heard of.
	if _, ok, err := s.RenewClaim(ctx, rid, "a@x.org", c[0].ClaimedAt.Add(0)); err != nil || !ok {
		t.Fatalf("renew = %v, %v", ok, err)
	}
	old := dispatcher.Outcome{ID: "a@x.org", Status: dispatcher.DeliverySent, MessageIDs: []string{"<m@x>"}, ClaimedAt: c[0].ClaimedAt.Add(-time.Millisecond)}
	if _, _, err := s.FinishAndClaimBy(ctx, rid, "w2", []dispatcher.Outcome{old}, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, rid, "a@x.org"); d.Status != dispatcher.DeliverySending {
		t.Fatalf("another worker's outcome under an old claim was recorded: %s", d.Status)
	}
	if _, _, err := s.FinishAndClaimBy(ctx, rid, "w1", []dispatcher.Outcome{old}, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, rid, "a@x.org"); d.Status != dispatcher.DeliverySent || len(d.MessageIDs) != 1 {
		t.Fatalf("the claiming worker's outcome was not recorded: %+v", d)
	}
}

// TestCancelledReleaseEndsADeadWorkersSend: in a cancelled release, a
// delivery that a worker, since dead, was sending is ended as uncertain by
// the next claim (nothing will send it, and it may have gone out), so that
// nothing stays pending.
func TestCancelledReleaseEndsADeadWorkersSend(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rid := sendingRelease(t, s, "a@x.org")
	if err := s.Heartbeat(ctx, "judge", time.Minute); err != nil {
		t.Fatal(err)
	}
	if err := s.Client().Set(ctx, "pregon:worker:judge", time.Now().Add(-time.Minute).UnixMilli(), time.Minute).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FinishAndClaimBy(ctx, rid, "gone", nil, []string{"a@x.org"}, time.Now().Add(-time.Hour)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetReleaseStatus(ctx, rid, dispatcher.ReleaseCancelled, dispatcher.ReleaseSending); err != nil {
		t.Fatal(err)
	}
	if err := s.Heartbeat(ctx, "gone", time.Minute); err != nil { // registered, then its key goes
		t.Fatal(err)
	}
	if err := s.Client().Del(ctx, "pregon:worker:gone").Err(); err != nil {
		t.Fatal(err)
	}
	c, busy, err := s.FinishAndClaimBy(ctx, rid, "judge", nil, []string{"a@x.org"}, time.Now().Add(-time.Hour))
	if err != nil || len(c) != 0 || len(busy) != 0 {
		t.Fatalf("claim in a cancelled release = %v, %v, %v; want nothing claimed or busy", c, busy, err)
	}
	d, err := s.Delivery(ctx, rid, "a@x.org")
	if err != nil || d.Status != dispatcher.DeliveryUncertain {
		t.Fatalf("delivery = %+v, %v; want uncertain", d, err)
	}
	rel, err := s.Release(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	if n := rel.Counts.ByStatus[dispatcher.DeliverySending]; n != 0 {
		t.Errorf("%d deliveries still counted sending", n)
	}
	if n := rel.Counts.ByStatus[dispatcher.DeliveryUncertain]; n != 1 {
		t.Errorf("%d uncertain, want 1", n)
	}
}
