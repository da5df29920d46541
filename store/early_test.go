package store_test

import (
	"context"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestEarlyMarkInTheReleaseHash: once its early tier is out, a release's
// hash holds early = "1", the field that PATCH /v1/releases/{id} reads (in
// Lua, R.early) to refuse edits other than a new embargo; a draft, or a
// release already sending, is not marked, and its send time is left alone.
func TestEarlyMarkInTheReleaseHash(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	s := store.New(rdb, nil)
	r := &dispatcher.Release{Title: "T", Body: "B", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	key := "pregon:{" + r.ID + "}:release"
	early := func() string {
		v, _ := rdb.HGet(ctx, key, "early").Result()
		return v
	}
	lift := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	if st, err := s.SetSchedule(ctx, r.ID, lift, true); err != nil || st != dispatcher.ReleaseDraft || early() != "" {
		t.Fatalf("SetSchedule of a draft = %s, %v; early = %q; want draft, unmarked", st, err, early())
	}
	if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now(), time.Time{}, false, 0); err != nil {
		t.Fatal(err)
	}
	if st, err := s.SetSchedule(ctx, r.ID, lift, true); err != nil || st != dispatcher.ReleaseScheduled || early() != "1" {
		t.Fatalf("SetSchedule(early) of a scheduled release = %s, %v; early = %q; want scheduled, \"1\"", st, err, early())
	}
	got, err := s.Release(ctx, r.ID)
	if err != nil || got.ScheduledAt == nil || !got.ScheduledAt.Equal(lift) {
		t.Fatalf("scheduled_at %v, %v; want the lift %s", got.ScheduledAt, err, lift)
	}
	// A later move of the lift keeps the mark.
	if _, err := s.SetSchedule(ctx, r.ID, lift.Add(time.Hour), false); err != nil || early() != "1" {
		t.Fatalf("after moving the lift: %v, early = %q; want \"1\" still", err, early())
	}
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetSchedule(ctx, r.ID, lift.Add(5*time.Hour), false); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.Release(ctx, r.ID); !got.ScheduledAt.Equal(lift.Add(time.Hour)) {
		t.Errorf("SetSchedule moved a sending release's scheduled_at to %v", got.ScheduledAt)
	}
}
