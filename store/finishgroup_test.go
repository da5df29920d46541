package store_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// TestFinishByConcurrentCalls: many FinishBy calls of one release and worker
// at once (a process's sends, which go together in fewer round trips, see
// finishgroup.go): each returns only once its own outcome is recorded, each
// outcome is recorded once with its own fields, the counts add up, and the
// last ends the release. Calls of another worker's claims are not mixed in:
// an outcome of a claim that is not the caller's is not recorded.
func TestFinishByConcurrentCalls(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	const n = 60
	var addrs []string
	for i := range n {
		addrs = append(addrs, fmt.Sprintf("p%02d@x.org", i))
	}
	rid := sendingRelease(t, s, addrs...)
	claimed, _, err := s.FinishAndClaimBy(ctx, rid, "w1", nil, addrs, time.Now().Add(-time.Minute))
	if err != nil || len(claimed) != n {
		t.Fatalf("claim = %d, %v", len(claimed), err)
	}
	if st, err := s.SnapshotDone(ctx, rid); err != nil || st != dispatcher.ReleaseSending {
		t.Fatalf("SnapshotDone = %s, %v", st, err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, n+1)
	for i, c := range claimed {
		wg.Go(func() {
			out := dispatcher.Outcome{ID: c.ID, Status: dispatcher.DeliverySent, MessageIDs: []string{fmt.Sprintf("<m%d@x>", i)}, ClaimedAt: c.ClaimedAt}
			if i%7 == 3 {
				out = dispatcher.Outcome{ID: c.ID, Status: dispatcher.DeliveryFailed, Error: fmt.Sprintf("550 no %d", i), ClaimedAt: c.ClaimedAt}
			}
			st, err := s.FinishBy(ctx, rid, "w1", []dispatcher.Outcome{out})
			if err != nil {
				errs <- err
				return
			}
			if st != dispatcher.ReleaseSending && st != dispatcher.ReleaseSentWithFailures {
				errs <- fmt.Errorf("%s: status %s", c.ID, st)
			}
			// Recorded by the time the call returns.
			d, err := s.Delivery(ctx, rid, c.ID)
			if err != nil {
				errs <- err
				return
			}
			if d.Status != out.Status || d.LastError != out.Error || strings.Join(d.MessageIDs, " ") != strings.Join(out.MessageIDs, " ") {
				errs <- fmt.Errorf("%s after FinishBy: %s %q %v, want %s %q %v", c.ID, d.Status, d.LastError, d.MessageIDs, out.Status, out.Error, out.MessageIDs)
			}
		})
	}
	// Another worker's outcome for one of w1's claims, meanwhile: not its claim.
	wg.Go(func() {
		if _, err := s.FinishBy(ctx, rid, "w2", []dispatcher.Outcome{{ID: claimed[0].ID, Status: dispatcher.DeliveryFailed, Error: "not mine", ClaimedAt: time.UnixMilli(1)}}); err != nil {
			errs <- err
		}
	})
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	r, err := s.Release(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	failed := int64(0)
	for i := range n {
		if i%7 == 3 {
			failed++
		}
	}
	if r.Status != dispatcher.ReleaseSentWithFailures || r.Counts.ByStatus[dispatcher.DeliverySent] != n-failed ||
		r.Counts.ByStatus[dispatcher.DeliveryFailed] != failed || r.Counts.ByStatus[dispatcher.DeliverySending] != 0 {
		t.Fatalf("release %s, counts %v; want sent_with_failures, %d sent, %d failed", r.Status, r.Counts.ByStatus, n-failed, failed)
	}
}
