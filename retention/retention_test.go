package retention_test

import (
	"context"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/retention"
	"github.com/pregon/pregon/store"
)

// sent stores a release sent to three addresses and returns its id.
func sent(t *testing.T, s *store.Store) string {
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
	var outs []dispatcher.Outcome
	var ids []string
	for _, a := range []string{"a@x.org", "b@x.org", "c@x.org"} {
		id := dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, a)
		ds = append(ds, &dispatcher.Delivery{ID: id, Channel: dispatcher.ChannelEmail, Recipient: a, Status: dispatcher.DeliveryQueued})
		outs = append(outs, dispatcher.Outcome{ID: id, Status: dispatcher.DeliverySent, MessageIDs: []string{"<" + id + "@x>"}})
		ids = append(ids, id)
	}
	if _, err := s.CreateDeliveries(ctx, r.ID, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SnapshotDone(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ClaimDeliveries(ctx, r.ID, ids, time.Time{}); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.FinishAndClaim(ctx, r.ID, outs, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// TestArchiverArchivesAfterRetention: a release final for less than the
// retention stays live; once it has been final for the retention it is
// archived, by the process that holds the lease only.
func TestArchiverArchivesAfterRetention(t *testing.T) {
	ctx := context.Background()
	sentAt := time.Date(2026, 11, 1, 9, 0, 0, 0, time.UTC)
	now := sentAt
	clock := func() time.Time { return now }
	srv := redistest.Start(t)
	s := store.New(srv.Client(t), clock)
	rid := sent(t, s)
	if rel, err := s.Release(ctx, rid); err != nil || rel.Status != dispatcher.ReleaseSent {
		t.Fatalf("release = %+v, %v", rel, err)
	}
	a, err := retention.New(retention.Config{Store: s, Retention: 30 * 24 * time.Hour, Owner: "w1", Now: clock})
	if err != nil {
		t.Fatal(err)
	}
	archivedAt := func() *time.Time {
		rel, err := s.Release(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		return rel.ArchivedAt
	}

	now = sentAt.Add(30*24*time.Hour - time.Millisecond)
	if n, err := a.RunOnce(ctx); err != nil || n != 0 || archivedAt() != nil {
		t.Fatalf("before the retention: archived %d, %v, archived_at %v", n, err, archivedAt())
	}

	now = sentAt.Add(30 * 24 * time.Hour)
	if ok, err := s.AcquireLease(ctx, retention.LeaseName, "w2", time.Minute); err != nil || !ok {
		t.Fatalf("w2 lease: %v, %v", ok, err)
	}
	if n, err := a.RunOnce(ctx); err != nil || n != 0 || archivedAt() != nil {
		t.Fatalf("while w2 holds the lease: archived %d, %v, archived_at %v", n, err, archivedAt())
	}
	if err := s.ReleaseLease(ctx, retention.LeaseName, "w2"); err != nil {
		t.Fatal(err)
	}
	if n, err := a.RunOnce(ctx); err != nil || n != 1 {
		t.Fatalf("after the retention: archived %d, %v", n, err)
	}
	if at := archivedAt(); at == nil || !at.Equal(now) {
		t.Fatalf("archived_at = %v, want %v", at, now)
	}
	ds, _, err := s.Deliveries(ctx, rid, dispatcher.DeliveryFilter{Status: dispatcher.DeliverySent}, "", 10)
	if err != nil || len(ds) != 3 {
		t.Fatalf("archived deliveries = %d, %v", len(ds), err)
	}
	if n, err := a.RunOnce(ctx); err != nil || n != 0 {
		t.Fatalf("again: archived %d, %v", n, err)
	}
	if ok, _ := s.AcquireLease(ctx, retention.LeaseName, "w2", time.Minute); !ok {
		t.Fatal("the lease was not given up after the round")
	}
}

func TestParseRetention(t *testing.T) {
	for _, c := range []struct {
		in   string
		want time.Duration
		ok   bool
	}{
		{"30d", 30 * 24 * time.Hour, true}, {"0", 0, true}, {"720h", 720 * time.Hour, true}, {"90m", 90 * time.Minute, true},
		{"1d", 24 * time.Hour, true}, {"0d", 0, true},
		{"d", 0, false}, {"30 d", 0, false}, {"-1h", 0, false}, {"3x", 0, false}, {"1.5d", 0, false}, {"030d", 0, false},
	} {
		got, err := retention.ParseRetention(c.in)
		if (err == nil) != c.ok || (c.ok && got != c.want) {
			t.Errorf("ParseRetention(%q) = %v, %v; want %v, ok %v", c.in, got, err, c.want, c.ok)
		}
	}
}
