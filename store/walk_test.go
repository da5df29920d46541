package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
)

// walker runs the steps of one path of a delivery through the scripts: one
// release, one delivery, one clock.
type walker struct {
	ctx    context.Context
	s      *Store
	now    time.Time
	rid    string
	id     string
	ch     dispatcher.ChannelKind
	claims []time.Time // claim times, oldest first
}

// An op does one thing to the walker's delivery or release.
type op func(w *walker) error

func create(st dispatcher.DeliveryStatus) op {
	return func(w *walker) error {
		_, err := w.s.CreateDeliveries(w.ctx, w.rid, []*dispatcher.Delivery{{
			ID: w.id, Channel: w.ch, Recipient: w.id, Name: "N", Language: "es", Status: st,
		}})
		return err
	}
}

// claimBy claims the delivery for worker, taking over claims older than a minute.
func claimBy(worker string) op {
	return func(w *walker) error {
		c, _, err := w.s.FinishAndClaimBy(w.ctx, w.rid, worker, nil, []string{w.id}, w.now.Add(-time.Minute))
		if len(c) == 1 {
			w.claims = append(w.claims, c[0].ClaimedAt)
		}
		return err
	}
}

var claim = claimBy("w1")

// finishAs records an outcome for the claim-th claim (-1: the latest).
func finishAs(st dispatcher.DeliveryStatus, claim int) op {
	return func(w *walker) error {
		if claim < 0 {
			claim = len(w.claims) - 1
		}
		o := dispatcher.Outcome{ID: w.id, Status: st, Error: "e-" + string(st), MessageIDs: []string{"m1"}, ClaimedAt: w.claims[claim]}
		if st == dispatcher.DeliveryRetrying {
			o.RetryAt = w.now.Add(time.Minute)
		}
		return w.s.FinishDeliveries(w.ctx, w.rid, []dispatcher.Outcome{o})
	}
}

func finish(st dispatcher.DeliveryStatus) op { return finishAs(st, -1) }

func transition(to dispatcher.DeliveryStatus, from ...dispatcher.DeliveryStatus) op {
	return func(w *walker) error {
		_, err := w.s.Transition(w.ctx, w.rid, []string{w.id}, to, from...)
		return err
	}
}

func requeue(w *walker) error {
	_, err := w.s.RequeueFailed(w.ctx, w.rid, []string{w.id})
	return err
}

func cancelRelease(w *walker) error {
	_, err := w.s.SetReleaseStatus(w.ctx, w.rid, dispatcher.ReleaseCancelled, dispatcher.ReleaseSending)
	return err
}

func snapshotDone(w *walker) error {
	_, err := w.s.SnapshotDone(w.ctx, w.rid)
	return err
}

func suppressAddress(w *walker) error { return w.s.Suppress(w.ctx, w.id, "unsubscribed") }

// later moves the clock on by d.
func later(d time.Duration, then op) op {
	return func(w *walker) error {
		w.now = w.now.Add(d)
		return then(w)
	}
}

// A step is an op and what the delivery and the release look like after it.
type step struct {
	name string
	do   op
	// want is the delivery's status after the step ("": not created yet).
	want               dispatcher.DeliveryStatus
	attempts, rattempt int
	// release, when set, is the release's status after the step.
	release dispatcher.ReleaseStatus
}

// TestEveryDeliveryStatusThroughTheScripts walks deliveries through every
// script that changes them (create, claim, finish with each outcome,
// transition, cancel, retry, suppression, takeover, finalize) and checks,
// after each step, the delivery's hash and the release's counts: the
// delivery is counted once, under its status, the pending count follows,
// no count is ever negative, and the counts sum to the total. Every
// delivery status is reached on the way.
func TestEveryDeliveryStatusThroughTheScripts(t *testing.T) {
	const (
		email    = dispatcher.ChannelEmail
		telegram = dispatcher.ChannelTelegram
		queued   = dispatcher.DeliveryQueued
		retrying = dispatcher.DeliveryRetrying
		sending  = dispatcher.DeliverySending
		sent     = dispatcher.DeliverySent
		failed   = dispatcher.DeliveryFailed
		supp     = dispatcher.DeliverySuppressed
		skipped  = dispatcher.DeliverySkipped
		unsure   = dispatcher.DeliveryUncertain
		canc     = dispatcher.DeliveryCancelled
	)
	tests := []struct {
		name  string
		ch    dispatcher.ChannelKind
		steps []step
	}{
		{"sent", email, []step{
			{"create", create(queued), queued, 0, 0, dispatcher.ReleaseSending},
			{"claim", claim, sending, 1, 1, ""},
			{"finish sent", finish(sent), sent, 1, 1, dispatcher.ReleaseSending},
			{"snapshot done", snapshotDone, sent, 1, 1, dispatcher.ReleaseSent},
		}},
		{"failed, then retried by hand", email, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"claim", claim, sending, 1, 1, ""},
			{"finish failed", finish(failed), failed, 1, 1, ""},
			{"failed to queued", transition(queued, failed), queued, 1, 0, ""},
			{"claim again", claim, sending, 2, 1, ""},
			{"finish sent", finish(sent), sent, 2, 1, ""},
		}},
		{"retrying, then uncertain", telegram, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"claim", claim, sending, 1, 1, ""},
			{"finish retrying", finish(retrying), retrying, 1, 1, ""},
			{"claim the retry", claim, sending, 2, 2, ""},
			{"finish uncertain", finish(unsure), unsure, 2, 2, ""},
			{"snapshot done", snapshotDone, unsure, 2, 2, dispatcher.ReleaseSentWithFailures},
		}},
		{"failed, requeued after the release ended", email, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"claim", claim, sending, 1, 1, ""},
			{"finish failed", finish(failed), failed, 1, 1, ""},
			{"snapshot done", snapshotDone, failed, 1, 1, dispatcher.ReleaseSentWithFailures},
			{"requeue", requeue, queued, 1, 0, dispatcher.ReleaseSending},
			{"claim again", claim, sending, 2, 1, dispatcher.ReleaseSending},
			{"finish sent", finish(sent), sent, 2, 1, dispatcher.ReleaseSent},
		}},
		{"cancel queued", email, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"cancel", transition(canc, queued, retrying), canc, 0, 0, ""},
			{"claim does nothing", claim, canc, 0, 0, ""},
		}},
		{"cancel retrying", telegram, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"claim", claim, sending, 1, 1, ""},
			{"finish retrying", finish(retrying), retrying, 1, 1, ""},
			{"cancel", transition(canc, queued, retrying), canc, 1, 1, ""},
		}},
		{"release cancelled before the claim", email, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"cancel the release", cancelRelease, queued, 0, 0, dispatcher.ReleaseCancelled},
			{"claim cancels", claim, canc, 0, 0, dispatcher.ReleaseCancelled},
		}},
		{"created in a cancelled release", email, []step{
			{"cancel the release", cancelRelease, "", 0, 0, dispatcher.ReleaseCancelled},
			{"create queued", create(queued), canc, 0, 0, dispatcher.ReleaseCancelled},
		}},
		{"address suppressed meanwhile", email, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"suppress", suppressAddress, queued, 0, 0, ""},
			{"claim suppresses", claim, supp, 0, 0, ""},
			{"snapshot done", snapshotDone, supp, 0, 0, dispatcher.ReleaseSent},
		}},
		{"stale claim taken over", email, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"claim", claim, sending, 1, 1, ""},
			{"taken over", later(3*time.Minute, claimBy("w2")), sending, 2, 2, ""},
			{"outcome of the old claim ignored", finishAs(sent, 0), sending, 2, 2, ""},
			{"finish sent", finish(sent), sent, 2, 2, ""},
		}},
		{"released back to the queue", telegram, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"claim", claim, sending, 1, 1, ""},
			// Handed back unsent (a claim taken ahead and let go): the
			// attempt the claim counted is undone.
			{"finish queued", finish(queued), queued, 0, 0, ""},
			{"claim again", claim, sending, 1, 1, ""},
			{"finish skipped", finish(skipped), skipped, 1, 1, ""},
		}},
		{"claimed ahead, handed back as the release is cancelled", email, []step{
			{"create", create(queued), queued, 0, 0, ""},
			{"claim", claim, sending, 1, 1, ""},
			{"cancel the release", cancelRelease, sending, 1, 1, dispatcher.ReleaseCancelled},
			{"finish cancelled", finish(canc), canc, 0, 0, dispatcher.ReleaseCancelled},
		}},
		{"created skipped", telegram, []step{
			{"create", create(skipped), skipped, 0, 0, ""},
			{"claim does nothing", claim, skipped, 0, 0, ""},
			{"snapshot done", snapshotDone, skipped, 0, 0, dispatcher.ReleaseSent},
		}},
		{"created suppressed", email, []step{
			{"create", create(supp), supp, 0, 0, ""},
			{"requeue does nothing", requeue, supp, 0, 0, ""},
		}},
	}
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	reached := map[dispatcher.DeliveryStatus]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			w := &walker{ctx: context.Background(), now: time.Date(2026, 12, 4, 12, 0, 0, 0, time.UTC), ch: tt.ch}
			w.s = New(rdb, func() time.Time { return w.now })
			r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
			if err := w.s.CreateRelease(w.ctx, r); err != nil {
				t.Fatal(err)
			}
			if _, err := w.s.SetReleaseStatus(w.ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
				t.Fatal(err)
			}
			w.rid, w.id = r.ID, strings.NewReplacer(" ", "-", ",", "").Replace(tt.name)+"@x.org"
			for _, st := range tt.steps {
				w.now = w.now.Add(time.Second)
				if err := st.do(w); err != nil {
					t.Fatalf("%s: %v", st.name, err)
				}
				checkStep(t, w, st)
				if st.want != "" {
					reached[st.want] = true
				}
			}
		})
	}
	for _, st := range dispatcher.DeliveryStatuses {
		if !reached[st] {
			t.Errorf("no step reached delivery status %s", st)
		}
	}
}

// checkStep checks the delivery's record and the release's counts after st.
func checkStep(t *testing.T, w *walker, st step) {
	t.Helper()
	rdb := w.s.Client()
	h := map[string]string{}
	b, f := bucketOf(w.id)
	v, err := rdb.HGet(w.ctx, bucketPrefix(w.rid)+b, f).Result()
	switch {
	case err == nil:
		h = decodeRecord(v)
	case !isNil(err):
		t.Fatal(err)
	}
	total := int64(1)
	if st.want == "" {
		total = 0
		if len(h) != 0 {
			t.Errorf("%s: delivery hash %v, want none", st.name, h)
		}
	} else {
		got := fmt.Sprintf("%s %s/%s claim=%t worker=%t", h[dStatus], h[dAttempts], h[dRoundAttempts], h[dClaimedAt] != "", h[dWorker] != "")
		inFlight := st.want == dispatcher.DeliverySending
		want := fmt.Sprintf("%s %d/%d claim=%t worker=%t", st.want, st.attempts, st.rattempt, inFlight, inFlight)
		if got != want {
			t.Errorf("%s: delivery hash %q, want %q (%v)", st.name, got, want, h)
		}
		if h[dChannel] != string(w.ch) || h[dRecipient] != w.id || h[dCreatedAt] == "" || h[dUpdatedAt] == "" {
			t.Errorf("%s: delivery hash %v lost its channel, recipient or times", st.name, h)
		}
		d, err := w.s.Delivery(w.ctx, w.rid, w.id)
		if err != nil || d.Status != st.want || d.Attempts != st.attempts || d.Channel != w.ch {
			t.Errorf("%s: Delivery = %+v, %v; want %s after %d attempts", st.name, d, err, st.want, st.attempts)
		}
	}
	raw, err := rdb.HGetAll(w.ctx, countsKey(w.rid)).Result()
	if err != nil {
		t.Fatal(err)
	}
	var sum, pending int64
	for k, v := range raw {
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || n < 0 {
			t.Errorf("%s: count %s = %q, want a number ≥ 0", st.name, k, v)
		}
		if k == cPending {
			pending = n
			continue
		}
		sum += n
		if want := int64(0); k == countField(w.ch, st.want) {
			if n != 1 {
				t.Errorf("%s: count %s = %d, want 1", st.name, k, n)
			}
		} else if n != want {
			t.Errorf("%s: count %s = %d, want 0", st.name, k, n)
		}
	}
	if sum != total {
		t.Errorf("%s: counts %v sum to %d, want %d", st.name, raw, sum, total)
	}
	if wantPending := int64(0); st.want != "" && !st.want.Final() {
		if pending != 1 {
			t.Errorf("%s: pending = %d, want 1", st.name, pending)
		}
	} else if pending != wantPending {
		t.Errorf("%s: pending = %d, want 0", st.name, pending)
	}
	rel, err := w.s.Release(w.ctx, w.rid)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Counts.Total != total || total == 1 && rel.Counts.ByChannel[w.ch][st.want] != 1 {
		t.Errorf("%s: release counts %+v, want %s: 1 of %d", st.name, rel.Counts, st.want, total)
	}
	if st.release != "" && rel.Status != st.release {
		t.Errorf("%s: release %s, want %s", st.name, rel.Status, st.release)
	}
}
