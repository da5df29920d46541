package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestTestSends checks that a test send is stored with an expiry, read back,
// rewritten without losing that expiry, and not made again once expired.
func TestTestSends(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	s := store.New(rdb, nil)
	ts := &dispatcher.TestSend{ReleaseID: "rel_x", Version: 2, Language: "es", Status: dispatcher.TestPending,
		Results: []dispatcher.TestResult{{Channel: dispatcher.ChannelEmail, Recipient: "ana@example.org", Status: dispatcher.TestPending, MessageIDs: []string{}}}}
	if err := s.CreateTest(ctx, ts, time.Hour); err != nil {
		t.Fatal(err)
	}
	if ts.ID == "" || ts.CreatedAt.IsZero() {
		t.Fatalf("CreateTest left ID %q, CreatedAt %v", ts.ID, ts.CreatedAt)
	}
	got, err := s.Test(ctx, ts.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(ts, got); diff != "" {
		t.Errorf("read back (-stored +read):\n%s", diff)
	}

	got.Results[0].Status, got.Results[0].MessageIDs = dispatcher.TestSent, []string{"<m@x>"}
	if err := s.SaveTest(ctx, got); err != nil {
		t.Fatal(err)
	}
	again, err := s.Test(ctx, ts.ID)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(got, again); diff != "" {
		t.Errorf("after SaveTest (-saved +read):\n%s", diff)
	}
	if ttl := rdb.TTL(ctx, "pregon:test:"+ts.ID).Val(); ttl <= 0 {
		t.Errorf("TTL after SaveTest = %v, want the expiry kept", ttl)
	}

	// Expired: SaveTest does not make the key again (it would never expire).
	rdb.Del(ctx, "pregon:test:"+ts.ID)
	if err := s.SaveTest(ctx, got); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("SaveTest of an expired test = %v, want ErrNotFound", err)
	}
	if n := rdb.Exists(ctx, "pregon:test:"+ts.ID).Val(); n != 0 {
		t.Errorf("SaveTest made an expired test's key again")
	}
	for _, id := range []string{ts.ID, "tst_nope", "../rel"} {
		if _, err := s.Test(ctx, id); !errors.Is(err, dispatcher.ErrNotFound) {
			t.Errorf("Test(%q) = %v, want ErrNotFound", id, err)
		}
	}
}
