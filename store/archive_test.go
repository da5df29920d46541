package store_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// finishedRelease makes a release of n email deliveries and a few odd ones
// (Telegram posts in parts, a bounce, errors with control bytes, an id that
// is not derived from its recipient) and sends them all, so that it ends
// sent_with_failures. It returns the release id.
func finishedRelease(t *testing.T, s *store.Store, n int) string {
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
	for i := range n {
		addr := fmt.Sprintf("periodista%05d@medio%d.example", i, i%7)
		ds = append(ds, &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, addr),
			Channel: dispatcher.ChannelEmail, Recipient: addr, Name: fmt.Sprintf("Núñez %d", i), Language: "es", Status: dispatcher.DeliveryQueued})
	}
	for _, chat := range []string{"-1001234", "@canal"} {
		ds = append(ds, &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelTelegram, chat),
			Channel: dispatcher.ChannelTelegram, Recipient: chat, Language: "en", Status: dispatcher.DeliveryQueued})
	}
	ds = append(ds, &dispatcher.Delivery{ID: "odd-id", Channel: dispatcher.ChannelEmail, Recipient: "odd@x.org", Status: dispatcher.DeliveryQueued})
	for c := range slices.Chunk(ds, 1000) {
		if _, err := s.CreateDeliveries(ctx, r.ID, c); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SnapshotDone(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	for c := range slices.Chunk(ds, 500) {
		ids := make([]string, len(c))
		for i, d := range c {
			ids[i] = d.ID
		}
		claimAll(t, s, r.ID, ids...)
		outs := make([]dispatcher.Outcome, len(c))
		for i, d := range c {
			o := dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliverySent, MessageIDs: []string{"<" + d.ID + "." + r.ID + "@pregon.example>"}}
			switch {
			case d.Channel == dispatcher.ChannelTelegram:
				o = dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliveryUncertain, Error: "no answer", MessageIDs: []string{"812", "813"}, Parts: 3}
			case d.ID == "odd-id":
				o = dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliveryFailed, Error: "550 \x01\x02\x03 odd-id " + r.ID}
			case strings.HasPrefix(d.Recipient, "periodista00007@"):
				o = dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliveryFailed, Error: "550 5.1.1 no such user",
					Bounce: &dispatcher.Bounce{Kind: dispatcher.BounceHard, Source: "rcpt"}}
			}
			outs[i] = o
		}
		if _, _, err := s.FinishAndClaim(ctx, r.ID, outs, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
	rel, err := s.Release(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Status != dispatcher.ReleaseSentWithFailures {
		t.Fatalf("release is %s, want sent_with_failures", rel.Status)
	}
	return r.ID
}

// everything reads a release's deliveries the ways the API does: all of
// them a page at a time, the failed ones, the Telegram ones, and each by id.
type readBack struct {
	All, Failed, Telegram []*dispatcher.Delivery
	IDs                   []string
	Release               *dispatcher.Release
}

func readAll(t *testing.T, s *store.Store, rid string) readBack {
	t.Helper()
	ctx := context.Background()
	pages := func(f dispatcher.DeliveryFilter, limit int) []*dispatcher.Delivery {
		var out []*dispatcher.Delivery
		cursor := ""
		for {
			ds, next, err := s.Deliveries(ctx, rid, f, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, ds...)
			if next == "" {
				return out
			}
			cursor = next
		}
	}
	var rb readBack
	rb.All = pages(dispatcher.DeliveryFilter{}, 700)
	rb.Failed = pages(dispatcher.DeliveryFilter{Status: dispatcher.DeliveryFailed}, 1)
	rb.Telegram = pages(dispatcher.DeliveryFilter{Channel: dispatcher.ChannelTelegram}, 1)
	cursor := ""
	for {
		ids, next, err := s.DeliveryIDs(ctx, rid, cursor, 1000)
		if err != nil {
			t.Fatal(err)
		}
		rb.IDs = append(rb.IDs, ids...)
		if next == "" {
			break
		}
		cursor = next
	}
	for _, d := range rb.All {
		one, err := s.Delivery(ctx, rid, d.ID)
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(d, one); diff != "" {
			t.Fatalf("Delivery(%s) differs from its page (-page +one):\n%s", d.ID, diff)
		}
	}
	rel, err := s.Release(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	rel.ArchivedAt = nil // compared apart
	rb.Release = rel
	return rb
}

// TestArchiveInterruptedAndResumed: an archive interrupted after a block,
// before its commit and in the middle of its drop (as a crash would) loses
// nothing, and a new Store on the same Redis (a restarted process) finishes
// it; every delivery then reads back from the archive as it read live, by
// page, filter, cursor and id, with the release's counts and failure log.
func TestArchiveInterruptedAndResumed(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	s := store.New(srv.Client(t), nil)
	rid := finishedRelease(t, s, 4500) // two blocks
	before := readAll(t, s, rid)
	if len(before.All) != 4503 || len(before.Failed) != 2 || len(before.Telegram) != 2 {
		t.Fatalf("read %d deliveries, %d failed, %d telegram; want 4503, 2, 2", len(before.All), len(before.Failed), len(before.Telegram))
	}
	failures, err := s.FailureLog(ctx, rid, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	crash := errors.New("crash")
	for _, at := range []string{"block", "commit", "drop"} {
		store.SetArchiveHook(s, func(step string) error {
			if step == at {
				return crash
			}
			return nil
		})
		if _, err := s.ArchiveRelease(ctx, rid); !errors.Is(err, crash) {
			t.Fatalf("archive stopped at %s: err = %v, want the crash", at, err)
		}
		rel, err := s.Release(ctx, rid)
		if err != nil {
			t.Fatal(err)
		}
		if (rel.ArchivedAt != nil) != (at == "drop") {
			t.Fatalf("stopped at %s: archived_at = %v", at, rel.ArchivedAt)
		}
		if diff := cmp.Diff(before, readAll(t, s, rid)); diff != "" {
			t.Fatalf("after a crash at %s the deliveries read otherwise (-before +after):\n%s", at, diff)
		}
	}
	if n, err := store.LiveDeliveries(ctx, s, rid); err != nil || n == 0 || n == 4503 {
		t.Fatalf("after a crash in the drop %d live deliveries are left, want some but not all", n)
	}

	restarted := store.New(srv.Client(t), nil)
	rel, err := restarted.ArchiveRelease(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	if rel.ArchivedAt == nil {
		t.Fatal("archived release has no archived_at")
	}
	keys, err := srv.Client(t).Keys(ctx, "pregon:{"+rid+"}:d*").Result()
	if err != nil {
		t.Fatal(err)
	}
	if len(keys) != 0 {
		t.Fatalf("%d live delivery keys left after the archive, e.g. %s", len(keys), keys[0])
	}
	if fields := srv.Client(t).HKeys(ctx, "pregon:{"+rid+"}:archive").Val(); len(fields) != 3 {
		t.Fatalf("archive fields = %v, want two blocks and the index (the interrupted builds' blocks dropped)", fields)
	}
	again := store.New(srv.Client(t), nil) // a process that never saw it live
	if diff := cmp.Diff(before, readAll(t, again, rid)); diff != "" {
		t.Fatalf("archived deliveries read otherwise (-live +archived):\n%s", diff)
	}
	after, err := again.FailureLog(ctx, rid, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(failures, after); diff != "" {
		t.Fatalf("failure log changed (-before +after):\n%s", diff)
	}
	size, n, err := again.ArchiveSize(ctx, rid)
	if err != nil || n != 4503 {
		t.Fatalf("ArchiveSize = %d bytes, %d deliveries, %v", size, n, err)
	}
	t.Logf("archive: %d bytes for %d deliveries, %.1f B/delivery", size, n, float64(size)/float64(n))
	if _, err := again.Delivery(ctx, rid, "no-such-id"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Fatalf("unknown delivery of an archived release: err = %v, want ErrNotFound", err)
	}
	if _, err := again.ArchiveRelease(ctx, rid); err != nil {
		t.Fatalf("archiving an archived release again: %v", err)
	}
}

// TestArchiveRefusesUnfinished: a release still sending (or a draft) is not
// archived; an unknown one is not found.
func TestArchiveRefusesUnfinished(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rid := sendingRelease(t, s, "a@x.org")
	if _, err := s.ArchiveRelease(ctx, rid); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("archive a sending release: err = %v, want ErrConflict", err)
	}
	if _, err := s.ArchiveRelease(ctx, "rel_00000000000000000000000000"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Fatalf("archive an unknown release: err = %v, want ErrNotFound", err)
	}
	ds, _, err := s.Deliveries(ctx, rid, dispatcher.DeliveryFilter{}, "", 10)
	if err != nil || len(ds) != 1 || ds[0].Status != dispatcher.DeliveryQueued {
		t.Fatalf("deliveries after a refused archive = %v, %v", ds, err)
	}
}

// TestArchiveDueAndLease: a final release is due for archiving once it has
// been final for the retention, and not after it was archived; one process
// holds the archiver's lease at a time.
func TestArchiveDueAndLease(t *testing.T) {
	ctx := context.Background()
	now := time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)
	srv := redistest.Start(t)
	s := store.New(srv.Client(t), func() time.Time { return now })
	rid := finishedRelease(t, s, 3)
	sendingRelease(t, s, "still@x.org") // never due
	// A correction of it, sent: in no status index, found through rid.
	rel, err := s.Release(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	corrected, child := correctionOf(rel, "Otro cuerpo.", "k1")
	cid, _, err := s.CorrectRelease(ctx, rid, rel.Version, corrected, child)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateCorrection(ctx, rid, cid); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetReleaseStatus(ctx, cid, dispatcher.ReleaseSent, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	due, err := s.ArchiveDue(ctx, now.Add(-time.Millisecond), 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("due before its time = %v, %v", due, err)
	}
	due, err = s.ArchiveDue(ctx, now, 10)
	if err != nil || !slices.Equal(due, []string{rid, cid}) {
		t.Fatalf("due = %v, %v; want [%s %s] (the release and its correction)", due, err, rid, cid)
	}
	for _, id := range due {
		if _, err := s.ArchiveRelease(ctx, id); err != nil {
			t.Fatal(err)
		}
	}
	due, err = s.ArchiveDue(ctx, now.Add(time.Hour), 10)
	if err != nil || len(due) != 0 {
		t.Fatalf("due after archiving = %v, %v", due, err)
	}

	for _, c := range []struct {
		owner string
		want  bool
	}{{"a", true}, {"b", false}, {"a", true}} {
		got, err := s.AcquireLease(ctx, "archiver", c.owner, time.Minute)
		if err != nil || got != c.want {
			t.Fatalf("AcquireLease(%s) = %v, %v; want %v", c.owner, got, err, c.want)
		}
	}
	if err := s.ReleaseLease(ctx, "archiver", "b"); err != nil {
		t.Fatal(err)
	}
	if got, _ := s.AcquireLease(ctx, "archiver", "b", time.Minute); got {
		t.Fatal("b took a lease that a still held (b's release must not free it)")
	}
	if err := s.ReleaseLease(ctx, "archiver", "a"); err != nil {
		t.Fatal(err)
	}
	if got, err := s.AcquireLease(ctx, "archiver", "b", time.Minute); err != nil || !got {
		t.Fatalf("AcquireLease(b) after a let go = %v, %v", got, err)
	}
}

// TestArchiveTwoAtOnce: two processes archiving the same release at once
// (the API and the periodic archiver) write apart; the one that commits
// second finds it archived and drops its own blocks, and nothing is lost.
func TestArchiveTwoAtOnce(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	first := store.New(srv.Client(t), nil)
	second := store.New(srv.Client(t), nil)
	rid := finishedRelease(t, first, 50)
	before := readAll(t, first, rid)
	store.SetArchiveHook(first, func(step string) error {
		if step == "commit" { // first has built its archive; second archives it all meanwhile
			if _, err := second.ArchiveRelease(ctx, rid); err != nil {
				t.Errorf("second archive: %v", err)
			}
		}
		return nil
	})
	if _, err := first.ArchiveRelease(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if fields := srv.Client(t).HKeys(ctx, "pregon:{"+rid+"}:archive").Val(); len(fields) != 2 {
		t.Fatalf("archive fields = %v, want one block and the index", fields)
	}
	if diff := cmp.Diff(before, readAll(t, store.New(srv.Client(t), nil), rid)); diff != "" {
		t.Fatalf("archived deliveries read otherwise (-live +archived):\n%s", diff)
	}
}
