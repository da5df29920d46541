package store_test

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// claimAll claims every given delivery of a release and fails the test
// unless it got them all.
func claimAll(t *testing.T, s *store.Store, rid string, ids ...string) {
	t.Helper()
	c, _, err := s.ClaimDeliveries(context.Background(), rid, ids, time.Now().Add(-time.Hour))
	if err != nil || len(c) != len(ids) {
		t.Fatalf("claim %v = %d claimed, %v", ids, len(c), err)
	}
}

// TestFailureLog: the deliveries that end failed or uncertain are logged
// once each time they fail, in order, with the error and attempts of that
// moment; sent and retrying ones are not; Progress reads the status and
// counts.
func TestFailureLog(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rid := sendingRelease(t, s, "a@x.org", "b@x.org", "c@x.org", "d@x.org")
	claimAll(t, s, rid, "a@x.org", "b@x.org", "c@x.org", "d@x.org")
	outs := []dispatcher.Outcome{
		{ID: "a@x.org", Status: dispatcher.DeliveryFailed, Error: "550 5.1.1 no such user"},
		{ID: "b@x.org", Status: dispatcher.DeliverySent, MessageIDs: []string{"<m@x>"}},
		{ID: "c@x.org", Status: dispatcher.DeliveryRetrying, Error: "421 try later", RetryAt: time.Now()},
		{ID: "d@x.org", Status: dispatcher.DeliveryUncertain, Error: "connection dropped after DATA"},
	}
	if _, _, err := s.FinishAndClaim(ctx, rid, outs, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	claimAll(t, s, rid, "c@x.org")
	if _, _, err := s.FinishAndClaim(ctx, rid, []dispatcher.Outcome{{ID: "c@x.org", Status: dispatcher.DeliveryFailed, Error: "554 rejected"}}, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}

	log, err := s.FailureLog(ctx, rid, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	type entry struct {
		ID, Recipient, Error string
		Status               dispatcher.DeliveryStatus
		Attempts             int
	}
	var got []entry
	for _, f := range log {
		if f.More || f.Delivery == nil || f.Seq == "" {
			t.Fatalf("entry %+v: want a delivery and a seq", f)
		}
		d := f.Delivery
		if d.Channel != dispatcher.ChannelEmail || d.ReleaseID != rid || d.UpdatedAt.IsZero() {
			t.Errorf("entry %+v: want channel email, release %s, a time", d, rid)
		}
		got = append(got, entry{d.ID, d.Recipient, d.LastError, d.Status, d.Attempts})
	}
	want := []entry{
		{"a@x.org", "a@x.org", "550 5.1.1 no such user", dispatcher.DeliveryFailed, 1},
		{"d@x.org", "d@x.org", "connection dropped after DATA", dispatcher.DeliveryUncertain, 1},
		{"c@x.org", "c@x.org", "554 rejected", dispatcher.DeliveryFailed, 2},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("failure log (-want +got):\n%s", diff)
	}
	// Read on from an entry: only those after it.
	rest, err := s.FailureLog(ctx, rid, log[0].Seq, 100)
	if err != nil || len(rest) != 2 || rest[0].Seq != log[1].Seq {
		t.Errorf("log after the first entry = %+v, %v; want the last two", rest, err)
	}

	st, counts, err := s.Progress(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	if st != dispatcher.ReleaseSending || counts.ByStatus[dispatcher.DeliverySent] != 1 ||
		counts.ByStatus[dispatcher.DeliveryFailed] != 2 || counts.Total != 4 {
		t.Errorf("progress = %s, %+v; want sending (its snapshot is not done), 1 sent, 2 failed of 4", st, counts)
	}
	if _, _, err := s.Progress(ctx, "rel_00000000000000000000000000"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("progress of an unknown release: %v, want not found", err)
	}
}

// TestFailureLogIsBounded: a release whose every delivery fails logs the
// first dispatcher.FailureLogMax, then one entry that says more failed,
// then nothing more.
func TestFailureLogIsBounded(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	n := dispatcher.FailureLogMax + 5
	ids := make([]string, n)
	for i := range ids {
		ids[i] = fmt.Sprintf("r%04d@x.org", i)
	}
	rid := sendingRelease(t, s, ids...)
	var outs []dispatcher.Outcome
	for i := 0; i < n; i += 500 {
		chunk := ids[i:min(i+500, n)]
		claimAll(t, s, rid, chunk...)
		outs = outs[:0]
		for _, id := range chunk {
			outs = append(outs, dispatcher.Outcome{ID: id, Status: dispatcher.DeliveryFailed, Error: "550 no"})
		}
		if _, _, err := s.FinishAndClaim(ctx, rid, outs, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	var all []dispatcher.Failure
	after := ""
	for {
		page, err := s.FailureLog(ctx, rid, after, 300)
		if err != nil {
			t.Fatal(err)
		}
		if len(page) == 0 {
			break
		}
		all = append(all, page...)
		after = page[len(page)-1].Seq
	}
	if len(all) != dispatcher.FailureLogMax+1 {
		t.Fatalf("%d entries, want %d and the one that says more", len(all), dispatcher.FailureLogMax+1)
	}
	for i, f := range all[:dispatcher.FailureLogMax] {
		if f.More || f.Delivery == nil || f.Delivery.ID != ids[i] {
			t.Fatalf("entry %d = %+v, want the delivery %s", i, f, ids[i])
		}
	}
	if last := all[dispatcher.FailureLogMax]; !last.More || last.Delivery != nil {
		t.Errorf("last entry = %+v, want More alone", last)
	}
}
