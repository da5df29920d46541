package mock_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/mock"
	"github.com/pregon/pregon/store"
)

var t0 = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

// side is one store under the contract test, with what the test needs
// beyond dispatcher.Store.
type side struct {
	dispatcher.Store
	clock      *testkit.Clock
	newRelease func() string
	suppress   func(email string)
	kill       func(worker string) // its liveness key goes
	delivery   func(rid, id string) dispatcher.Delivery
}

// TestMemStoreFollowsTheStore runs one story of claims, outcomes, renewals,
// dead workers, stall rules, retries and the release's end against the
// Redis store and MemStore, and compares what each answers: MemStore's
// guesses at the store's rules are checked here.
func TestMemStoreFollowsTheStore(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	rc := testkit.NewClock(t0)
	rs := store.New(rdb, rc.Now)
	redisSide := side{Store: rs, clock: rc,
		newRelease: func() string {
			r := &dispatcher.Release{Title: "Nota", Language: "es"}
			if err := rs.CreateRelease(ctx, r); err != nil {
				t.Fatal(err)
			}
			return r.ID
		},
		suppress: func(email string) {
			if err := rs.Suppress(ctx, email, "unsubscribed"); err != nil {
				t.Fatal(err)
			}
		},
		kill: func(w string) {
			if err := rdb.Del(ctx, "pregon:worker:"+w).Err(); err != nil {
				t.Fatal(err)
			}
		},
		delivery: func(rid, id string) dispatcher.Delivery {
			d, err := rs.Delivery(ctx, rid, id)
			if err != nil {
				t.Fatal(err)
			}
			return *d
		},
	}
	mc := testkit.NewClock(t0)
	ms := mock.NewMemStore(mc.Now)
	memSide := side{Store: ms, clock: mc,
		newRelease: func() string { return ms.AddRelease(dispatcher.Release{Title: "Nota", Language: "es"}) },
		suppress:   func(email string) { ms.Suppress(email, "unsubscribed") },
		kill:       ms.Kill,
		delivery: func(rid, id string) dispatcher.Delivery {
			r, ok := ms.Record(rid, id)
			if !ok {
				t.Fatalf("no delivery %s", id)
			}
			return r.Delivery
		},
	}
	if diff := cmp.Diff(story(t, redisSide), story(t, memSide)); diff != "" {
		t.Errorf("MemStore answers otherwise than the store (-store +MemStore):\n%s", diff)
	}
	if diff := cmp.Diff(scheduleStory(t, redisSide), scheduleStory(t, memSide)); diff != "" {
		t.Errorf("MemStore schedules otherwise than the store (-store +MemStore):\n%s", diff)
	}
}

// story runs the same calls on s and returns what it answered, with
// deliveries named by recipient and times as offsets from t0.
func story(t *testing.T, s side) []string {
	ctx := context.Background()
	var out []string
	say := func(format string, args ...any) { out = append(out, fmt.Sprintf(format, args...)) }
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rid := s.newRelease()
	id := func(to string) string { return dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, to) }
	to := map[string]string{}
	for _, r := range []string{"a", "b", "c", "d", "e", "f", "g"} {
		to[id(r)] = r
	}
	names := func(ids []string) string {
		var ns []string
		for _, i := range ids {
			ns = append(ns, to[i])
		}
		slices.Sort(ns)
		return strings.Join(ns, ",")
	}
	rel := func(step string) {
		r, err := s.Release(ctx, rid)
		check(err)
		a, err := s.Activity(ctx, rid)
		check(err)
		say("%s: release %s %v; activity %s last=%s snap=%v pending=%d", step, r.Status, r.Counts.ByStatus,
			a.Status, a.Last.Sub(t0), a.Snapshot, a.Pending)
	}
	del := func(r string) {
		d := s.delivery(rid, id(r))
		say("%s: %s a=%d err=%q m=%s", r, d.Status, d.Attempts, d.LastError, strings.Join(d.MessageIDs, " "))
	}
	claim := func(worker string, outs []dispatcher.Outcome, rs ...string) []*dispatcher.Claimed {
		var ids []string
		for _, r := range rs {
			ids = append(ids, id(r))
		}
		cs, busy, err := s.FinishAndClaimBy(ctx, rid, worker, outs, ids, s.clock.Now().Add(-2*time.Minute))
		check(err)
		for _, c := range cs {
			say("%s claimed %s a=%d ra=%d k=%s m=%v", worker, to[c.ID], c.Attempts, c.RoundAttempts, c.ClaimedAt.Sub(t0), c.MessageIDs)
		}
		for _, b := range busy {
			say("%s finds %s busy, held by %q since %s", worker, to[b.ID], b.Worker, b.ClaimedAt.Sub(t0))
		}
		return cs
	}
	stalled := func(rule dispatcher.StallRule) {
		refs, _, err := s.Stalled(ctx, rid, "", 100, rule)
		check(err)
		var ids []string
		for _, r := range refs {
			ids = append(ids, r.ID)
		}
		say("stalled %+v: %s", rule, names(ids))
	}

	_, err := s.SetReleaseStatus(ctx, rid, dispatcher.ReleaseSending, dispatcher.ReleaseDraft)
	check(err)
	var ds []*dispatcher.Delivery
	for _, r := range []string{"a", "b", "c", "d", "e", "f", "a"} {
		st := dispatcher.DeliveryQueued
		if r == "f" {
			st = dispatcher.DeliverySuppressed
		}
		ds = append(ds, &dispatcher.Delivery{ID: id(r), Channel: dispatcher.ChannelEmail, Recipient: r + "@example.org", Language: "es", Status: st})
	}
	created, err := s.CreateDeliveries(ctx, rid, ds)
	check(err)
	say("created %s", names(created))
	st, err := s.SnapshotDone(ctx, rid)
	check(err)
	say("snapshot done: %s", st)
	rel("planned")
	for _, w := range []string{"w1", "w2", "w3"} {
		// A short TTL (on the test clock), so that by the time w2 dies w1 has
		// beaten for half of it and may judge; Redis keeps the keys for 8 s of
		// real time, far longer than the story takes.
		check(s.Heartbeat(ctx, w, 8*time.Second))
	}
	s.suppress("d@example.org")

	s.clock.Add(time.Second)
	a1 := claim("w1", nil, "a")[0]
	claim("w2", nil, "a", "b", "d")
	rel("claimed")

	s.clock.Add(time.Second)
	at, ok, err := s.RenewClaim(ctx, rid, id("a"), a1.ClaimedAt)
	check(err)
	say("renewed a: %v at %s", ok, at.Sub(t0))
	_, ok, err = s.RenewClaim(ctx, rid, id("a"), a1.ClaimedAt)
	check(err)
	say("renewed a from its old claim: %v", ok)
	s.clock.Add(time.Second)
	claim("w1", []dispatcher.Outcome{{ID: id("a"), Status: dispatcher.DeliverySent, MessageIDs: []string{"old"}, ClaimedAt: a1.ClaimedAt}})
	claim("w1", []dispatcher.Outcome{{ID: id("a"), Status: dispatcher.DeliverySent, MessageIDs: []string{"m1", "m2"}, ClaimedAt: at}})
	del("a")

	s.clock.Add(time.Second)
	s.kill("w2")
	dead, since, err := s.DeadWorkers(ctx, "w1")
	check(err)
	say("dead workers: %v; w1 beating since %s", dead, since.Sub(t0))
	stalled(dispatcher.StallRule{DeadWorkers: dead})
	b2 := claim("w1", nil, "b")[0]
	s.clock.Add(time.Second)
	claim("w1", []dispatcher.Outcome{{ID: id("b"), Status: dispatcher.DeliveryRetrying, Error: "451", RetryAt: s.clock.Now().Add(time.Minute), ClaimedAt: b2.ClaimedAt}}, "c")
	claim("w3", nil, "c", "a")
	check(s.ForgetWorkers(ctx, dead))
	dead, _, err = s.DeadWorkers(ctx, "w1")
	check(err)
	say("dead workers after forgetting: %v", dead)
	rel("b retrying, c sending")

	s.clock.Add(10 * time.Minute)
	now := s.clock.Now()
	stalled(dispatcher.StallRule{Queued: true, ClaimedBefore: now.Add(-2 * time.Minute), RetryDueBefore: now.Add(-2 * time.Minute), RetryChangedBefore: now.Add(-time.Hour)})
	stalled(dispatcher.StallRule{Queued: true, ClaimedBefore: now.Add(-time.Hour), RetryDueBefore: now.Add(-time.Hour)})
	cs := claim("w3", nil, "c", "b", "e")
	var outs []dispatcher.Outcome
	for _, c := range cs {
		o := dispatcher.Outcome{ID: c.ID, Status: dispatcher.DeliverySent, ClaimedAt: c.ClaimedAt}
		if to[c.ID] == "c" {
			o.Status, o.Error = dispatcher.DeliveryFailed, "550"
		}
		outs = append(outs, o)
	}
	s.clock.Add(time.Second)
	claim("w3", outs)
	rel("ended")
	for _, r := range []string{"a", "b", "c", "d", "e", "f"} {
		del(r)
	}

	s.clock.Add(time.Second)
	refs, err := s.RequeueFailed(ctx, rid, []string{id("a"), id("c")})
	check(err)
	say("requeued %d", len(refs))
	rel("retried")
	moved, err := s.Transition(ctx, rid, []string{id("c"), id("e")}, dispatcher.DeliveryCancelled, dispatcher.DeliveryQueued, dispatcher.DeliveryRetrying)
	check(err)
	say("cancelled %s", names(moved))
	active, err := s.ActiveReleases(ctx)
	check(err)
	say("active: %d", len(active))

	// Cancelled while still being planned: what is planned after is cancelled.
	st, err = s.SetReleaseStatus(ctx, rid, dispatcher.ReleaseCancelled, dispatcher.ReleaseSending)
	check(err)
	created, err = s.CreateDeliveries(ctx, rid, []*dispatcher.Delivery{{ID: id("g"), Channel: dispatcher.ChannelEmail,
		Recipient: "g@example.org", Status: dispatcher.DeliveryQueued}})
	check(err)
	say("%s; created %q", st, names(created))
	del("g")
	rel("cancelled")
	return out
}

// scheduleStory schedules a release, marks its early tier out, plans it,
// moves its send time and ends it, and returns what s answered, with times
// as offsets from t0.
func scheduleStory(t *testing.T, s side) []string {
	ctx := context.Background()
	var out []string
	check := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	rid := s.newRelease()
	show := func(step string) {
		r, err := s.Release(ctx, rid)
		check(err)
		a, err := s.Activity(ctx, rid)
		check(err)
		at := "none"
		if r.ScheduledAt != nil {
			at = r.ScheduledAt.Sub(t0).String()
		}
		asked := "none"
		if !a.Asked.IsZero() {
			asked = a.Asked.Sub(t0).String()
		}
		out = append(out, fmt.Sprintf("%s: %s at %s; early=%v snap=%v asked=%s", step, r.Status, at, a.Early, a.Snapshot, asked))
	}
	st, err := s.SetSchedule(ctx, rid, t0.Add(time.Hour), true)
	check(err)
	out = append(out, "set schedule of a draft: "+string(st))
	show("draft")
	_, when, err := s.ScheduleSend(ctx, rid, t0.Add(time.Minute), t0.Add(time.Minute), false, 0)
	check(err)
	out = append(out, "scheduled for "+when.Sub(t0).String())
	show("scheduled")
	st, err = s.SetSchedule(ctx, rid, t0.Add(time.Hour), true)
	check(err)
	out = append(out, "early tier out: "+string(st))
	show("early out")
	check(s.EarlyPlanned(ctx, rid))
	show("early planned")
	_, err = s.SetSchedule(ctx, rid, t0.Add(2*time.Hour), false)
	check(err)
	show("lift moved")
	_, err = s.SetReleaseStatus(ctx, rid, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled)
	check(err)
	show("lifted")
	st, err = s.SetSchedule(ctx, rid, t0.Add(3*time.Hour), false)
	check(err)
	out = append(out, "set schedule of a sending release: "+string(st))
	show("sending")
	return out
}
