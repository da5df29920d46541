package store_test

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

// releaseReads counts the commands that read a release's hash.
type releaseReads struct{ n atomic.Int64 }

func (c *releaseReads) count(cmd redis.Cmder) {
	args := cmd.Args()
	switch cmd.Name() {
	case "hget", "hmget", "hgetall":
		if len(args) > 1 && strings.HasSuffix(fmt.Sprint(args[1]), ":release") {
			c.n.Add(1)
		}
	}
}

func (c *releaseReads) DialHook(next redis.DialHook) redis.DialHook { return next }
func (c *releaseReads) ProcessHook(next redis.ProcessHook) redis.ProcessHook {
	return func(ctx context.Context, cmd redis.Cmder) error { c.count(cmd); return next(ctx, cmd) }
}
func (c *releaseReads) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		for _, cmd := range cmds {
			c.count(cmd)
		}
		return next(ctx, cmds)
	}
}

// desc returns ids in the order of a page: newest (lexically greatest) first.
func desc(ids ...string) []string {
	out := slices.Clone(ids)
	slices.Sort(out)
	slices.Reverse(out)
	return out
}

// newCountingStore returns a store whose client counts release reads.
func newCountingStore(tb testing.TB) (*store.Store, *releaseReads) {
	tb.Helper()
	c := redistest.Start(tb).Client(tb)
	reads := &releaseReads{}
	c.AddHook(reads)
	return store.New(c, nil), reads
}

// TestStatusFilterReadsOnlyWhatItReturns: GET /v1/releases?status=scheduled
// &limit=1 used to read every release (4.1 s for 3,000). A status filter now
// reads the status's index: one release hash for a page of one.
func TestStatusFilterReadsOnlyWhatItReturns(t *testing.T) {
	ctx := context.Background()
	s, reads := newCountingStore(t)
	var scheduled []string
	for i := range 150 {
		r := &dispatcher.Release{Title: fmt.Sprint("r", i), Body: "b", Language: "es"}
		if err := s.CreateRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
		if i%50 == 0 {
			if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, false, 0); err != nil {
				t.Fatal(err)
			}
			scheduled = append(scheduled, r.ID)
		}
	}
	if _, _, err := s.Releases(ctx, "", "", 1, false, 0); err != nil { // the one-time index check
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for {
		reads.n.Store(0)
		page, next, err := s.Releases(ctx, dispatcher.ReleaseScheduled, cursor, 1, false, 0)
		if err != nil {
			t.Fatal(err)
		}
		if n := reads.n.Load(); n != int64(len(page)) {
			t.Fatalf("a page of %d scheduled releases read %d release hashes", len(page), n)
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if diff := cmp.Diff(desc(scheduled...), got); diff != "" {
		t.Errorf("scheduled releases (-want +got):\n%s", diff)
	}
}

// TestStatusIndexFollowsEveryTransition walks a release through every
// status change the store makes (schedule, setStatus, finalize, retry) and checks
// that a status filter finds it in its status, and only there.
func TestStatusIndexFollowsEveryTransition(t *testing.T) {
	ctx := context.Background()
	s, _ := newCountingStore(t)
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	other := &dispatcher.Release{Title: "cancelled", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, other); err != nil {
		t.Fatal(err)
	}
	check := func(step string, want map[dispatcher.ReleaseStatus][]string) {
		t.Helper()
		for _, st := range []dispatcher.ReleaseStatus{dispatcher.ReleaseDraft, dispatcher.ReleaseScheduled, dispatcher.ReleaseSending,
			dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures, dispatcher.ReleaseCancelled} {
			page, _, err := s.Releases(ctx, st, "", 10, false, 0)
			if err != nil {
				t.Fatal(err)
			}
			var ids []string
			for _, p := range page {
				ids = append(ids, p.ID)
				if p.Status != st {
					t.Errorf("%s: status=%s lists %s, which is %s", step, st, p.ID, p.Status)
				}
			}
			if diff := cmp.Diff(want[st], ids); diff != "" {
				t.Errorf("%s: status=%s (-want +got):\n%s", step, st, diff)
			}
		}
	}
	check("created", map[dispatcher.ReleaseStatus][]string{dispatcher.ReleaseDraft: desc(other.ID, r.ID)})
	if _, err := s.SetReleaseStatus(ctx, other.ID, dispatcher.ReleaseCancelled, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now(), time.Time{}, false, 0); err != nil {
		t.Fatal(err)
	}
	check("scheduled", map[dispatcher.ReleaseStatus][]string{dispatcher.ReleaseScheduled: {r.ID}, dispatcher.ReleaseCancelled: {other.ID}})
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled); err != nil {
		t.Fatal(err)
	}
	check("sending", map[dispatcher.ReleaseStatus][]string{dispatcher.ReleaseSending: {r.ID}, dispatcher.ReleaseCancelled: {other.ID}})
	// Not moved (from does not match): the index stays.
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseCancelled, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	check("not moved", map[dispatcher.ReleaseStatus][]string{dispatcher.ReleaseSending: {r.ID}, dispatcher.ReleaseCancelled: {other.ID}})
	// One failed delivery and nothing pending: the snapshot ends it (finalize).
	failed := &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, "ana@example.org"),
		Channel: dispatcher.ChannelEmail, Recipient: "ana@example.org", Language: "es", Status: dispatcher.DeliveryFailed}
	if _, err := s.CreateDeliveries(ctx, r.ID, []*dispatcher.Delivery{failed}); err != nil {
		t.Fatal(err)
	}
	if st, err := s.SnapshotDone(ctx, r.ID); err != nil || st != dispatcher.ReleaseSentWithFailures {
		t.Fatalf("SnapshotDone = %s, %v; want sent_with_failures", st, err)
	}
	check("finalized", map[dispatcher.ReleaseStatus][]string{dispatcher.ReleaseSentWithFailures: {r.ID}, dispatcher.ReleaseCancelled: {other.ID}})
	// A retry sends it again (requeueFailed).
	if moved, err := s.RequeueFailed(ctx, r.ID, []string{failed.ID}); err != nil || len(moved) != 1 {
		t.Fatalf("RequeueFailed = %v, %v; want the failed delivery", moved, err)
	}
	check("retried", map[dispatcher.ReleaseStatus][]string{dispatcher.ReleaseSending: {r.ID}, dispatcher.ReleaseCancelled: {other.ID}})
}

// TestStatusIndexBackfill: releases stored before the status indexes and
// summaries existed are indexed and summarised the first time releases are
// listed.
func TestStatusIndexBackfill(t *testing.T) {
	ctx := context.Background()
	c := redistest.Start(t).Client(t)
	s := store.New(c, nil)
	var ids []string
	for i := range 3 {
		r := &dispatcher.Release{Title: fmt.Sprint("r", i), Body: "cuerpo", Language: "es",
			Translations: []dispatcher.Translation{{Language: "en", Title: "t", Body: "body"}}}
		if err := s.CreateRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if _, _, err := s.ScheduleSend(ctx, ids[1], time.Now(), time.Time{}, false, 0); err != nil {
		t.Fatal(err)
	}
	// Make it look like an older version's data: no indexes, no summaries.
	keys, err := c.Keys(ctx, "pregon:releases*").Result()
	if err != nil {
		t.Fatal(err)
	}
	for _, k := range keys {
		if k != "pregon:releases" {
			c.Del(ctx, k)
		}
	}
	for _, id := range ids {
		c.HDel(ctx, "pregon:{"+id+"}:release", "sum")
	}

	s2 := store.New(c, nil) // a new process
	page, _, err := s2.Releases(ctx, dispatcher.ReleaseScheduled, "", 10, false, 0)
	if err != nil || len(page) != 1 || page[0].ID != ids[1] {
		t.Fatalf("scheduled after backfill = %v, %v; want %s", page, err, ids[1])
	}
	if page[0].Body != "" || page[0].Translations[0].Body != "" || page[0].Title != "r1" || page[0].Translations[0].Title != "t" {
		t.Errorf("summary = %+v", page[0])
	}
	drafts, _, err := s2.Releases(ctx, dispatcher.ReleaseDraft, "", 10, false, 0)
	if err != nil || len(drafts) != 2 {
		t.Fatalf("drafts after backfill = %v, %v", drafts, err)
	}
	if n, _ := c.HExists(ctx, "pregon:{"+ids[0]+"}:release", "sum").Result(); !n {
		t.Errorf("backfill did not store the summary")
	}
}

// BenchmarkStatusFilteredPage reads a page of 10 scheduled releases among
// 2,000: the release hashes it reads per page are reported.
func BenchmarkStatusFilteredPage(b *testing.B) {
	ctx := context.Background()
	s, reads := newCountingStore(b)
	for i := range 2000 {
		r := &dispatcher.Release{Title: fmt.Sprint("r", i), Body: strings.Repeat("x", 4000), Language: "es"}
		if err := s.CreateRelease(ctx, r); err != nil {
			b.Fatal(err)
		}
		if i%100 == 0 {
			if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now(), time.Time{}, false, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	if _, _, err := s.Releases(ctx, "", "", 1, false, 0); err != nil {
		b.Fatal(err)
	}
	reads.n.Store(0)
	b.ResetTimer()
	for b.Loop() {
		if _, _, err := s.Releases(ctx, dispatcher.ReleaseScheduled, "", 10, false, 0); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(reads.n.Load())/float64(b.N), "release-reads/op")
}
