package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/store"
)

// The audit log's keys, as store.go documents them: the tests tamper with
// them as someone with access to Redis would.
const (
	auditEntries = "pregon:{audit}:entries"
	auditHead    = "pregon:{audit}:head"
)

// checkAudit walks the whole log, oldest first, in pages of 3, and checks
// the chain.
func checkAudit(t *testing.T, s *store.Store) *audit.Report {
	t.Helper()
	rep, err := audit.Check(context.Background(), func(ctx context.Context, cursor string) ([]*audit.Entry, string, audit.Head, error) {
		q := audit.Query{Oldest: true, Limit: 3}
		if cursor != "" {
			q.Cursor, _ = strconv.ParseInt(cursor, 10, 64)
		}
		p, err := s.AuditEntries(ctx, q)
		if err != nil {
			return nil, "", audit.Head{}, err
		}
		next := ""
		if p.Next > 0 {
			next = strconv.FormatInt(p.Next, 10)
		}
		return p.Entries, next, p.Head, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return rep
}

func TestAuditConcurrentAppendsMakeOneChain(t *testing.T) {
	srv := redistest.Start(t)
	const writers, each, processes = 12, 15, 4
	// Three writers share each store, as the requests of one API process
	// do (they take turns: AppendAudit), and each store has its own
	// client, as separate API processes would (they race, and the head a
	// process remembers from its last append is often stale).
	stores := make([]*store.Store, writers)
	for i := range processes {
		stores[i] = store.New(srv.Client(t), nil)
	}
	for i := processes; i < writers; i++ {
		stores[i] = stores[i%processes]
	}
	ctx := context.Background()
	var wg sync.WaitGroup
	errs := make(chan error, writers*each)
	for w := range writers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range each {
				e := &audit.Entry{Actor: fmt.Sprintf("writer%d", w), Action: audit.ReleaseSend, Target: fmt.Sprintf("rel_%d", w%3),
					Version: 1, Client: "local", Detail: map[string]any{"i": i}}
				if err := stores[w].AppendAudit(ctx, e); err != nil {
					errs <- err
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Fatal(err)
	}
	rep := checkAudit(t, stores[0])
	if rep.Entries != writers*each || rep.Head.Seq != writers*each || len(rep.Breaks) != 0 {
		t.Fatalf("after %d appends: report %+v; want as many entries, the head at the last, no breaks", writers*each, rep)
	}
	// Every append is there once: no entry was lost to a lost race.
	p, err := stores[0].AuditEntries(ctx, audit.Query{Oldest: true, Limit: writers * each})
	if err != nil {
		t.Fatal(err)
	}
	seen := map[string]bool{}
	for _, e := range p.Entries {
		key := fmt.Sprintf("%s/%v", e.Actor, e.Detail["i"])
		if seen[key] {
			t.Errorf("%s appended twice", key)
		}
		seen[key] = true
	}
	if len(seen) != writers*each {
		t.Errorf("%d distinct entries, want %d", len(seen), writers*each)
	}
	// The release index holds each release's entries, and only those.
	rp, err := stores[0].AuditEntries(ctx, audit.Query{Release: "rel_1", Limit: 1000})
	if err != nil {
		t.Fatal(err)
	}
	if len(rp.Entries) != writers/3*each {
		t.Errorf("rel_1 has %d entries, want %d", len(rp.Entries), writers/3*each)
	}
	for _, e := range rp.Entries {
		if e.Target != "rel_1" {
			t.Errorf("entry %d of %s in rel_1's index", e.Seq, e.Target)
		}
	}
}

// newAuditLog returns a store on a fresh Redis whose log holds n entries, a
// minute apart from t0 on the store's clock; entries 3, 6, 9, ... are
// about rel_a, the others about lists.
func newAuditLog(t *testing.T, n int) (*store.Store, *redistest.Server) {
	t.Helper()
	srv := redistest.Start(t)
	clock := testkit.NewClock(time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC))
	s := store.New(srv.Client(t), clock.Now)
	for i := 1; i <= n; i++ {
		e := &audit.Entry{Actor: "ana", Action: audit.ListCreate, Target: fmt.Sprintf("lst_%d", i), Client: "203.0.113.7"}
		if i%3 == 0 {
			e.Action, e.Target, e.Version = audit.ReleaseSend, "rel_a", i/3
		}
		if err := s.AppendAudit(context.Background(), e); err != nil {
			t.Fatal(err)
		}
		if e.Seq != int64(i) {
			t.Fatalf("entry %d got seq %d", i, e.Seq)
		}
		clock.Add(time.Minute)
	}
	return s, srv
}

func TestAuditTamperingShows(t *testing.T) {
	ctx := context.Background()
	s, srv := newAuditLog(t, 8)
	if rep := checkAudit(t, s); rep.Entries != 8 || len(rep.Breaks) != 0 {
		t.Fatalf("untouched log: %+v", rep)
	}
	rdb := srv.Client(t)

	// An entry edited in place: its contents no longer match its hash.
	stored, err := rdb.HGet(ctx, auditEntries, "5").Result()
	if err != nil {
		t.Fatal(err)
	}
	edited := stringsReplace(t, stored, `"actor":"ana"`, `"actor":"luis"`)
	if err := rdb.HSet(ctx, auditEntries, "5", edited).Err(); err != nil {
		t.Fatal(err)
	}
	rep := checkAudit(t, s)
	if len(rep.Breaks) != 1 || rep.Breaks[0].Seq != 5 {
		t.Fatalf("entry 5 edited: breaks %v, want one at entry 5", rep.Breaks)
	}
	if err := rdb.HSet(ctx, auditEntries, "5", stored).Err(); err != nil {
		t.Fatal(err)
	}

	// An entry deleted: the numbers have a gap.
	if err := rdb.HDel(ctx, auditEntries, "3").Err(); err != nil {
		t.Fatal(err)
	}
	rep = checkAudit(t, s)
	if rep.Entries != 7 || len(rep.Breaks) != 1 || rep.Breaks[0].Seq != 3 {
		t.Fatalf("entry 3 deleted: %d entries, breaks %v; want 7, one at entry 3", rep.Entries, rep.Breaks)
	}

	// The last entry deleted: the head still says where the log ends.
	if err := rdb.HDel(ctx, auditEntries, "8").Err(); err != nil {
		t.Fatal(err)
	}
	rep = checkAudit(t, s)
	if len(rep.Breaks) != 2 || rep.Breaks[1].Seq != 8 {
		t.Fatalf("entries 3 and 8 deleted: breaks %v; want one at 3, one at 8", rep.Breaks)
	}

	// An entry that is not JSON any more is reported, not skipped.
	if err := rdb.HSet(ctx, auditEntries, "2", "garbage").Err(); err != nil {
		t.Fatal(err)
	}
	if rep = checkAudit(t, s); rep.Breaks[0].Seq != 2 {
		t.Fatalf("entry 2 garbled: breaks %v, want the first at entry 2", rep.Breaks)
	}
}

func TestAuditRefusesToOverwriteWhenTheHeadIsGone(t *testing.T) {
	ctx := context.Background()
	s, srv := newAuditLog(t, 3)
	if err := srv.Client(t).Del(ctx, auditHead).Err(); err != nil {
		t.Fatal(err)
	}
	err := s.AppendAudit(ctx, &audit.Entry{Actor: "ana", Action: audit.ListCreate, Target: "lst_x"})
	testkit.WantErr(t, err, "the head record was altered")
	// The entries are still listed, and the check says the head is wrong.
	rep := checkAudit(t, s)
	if rep.Entries != 3 || len(rep.Breaks) == 0 || rep.Breaks[0].Seq != 1 {
		t.Fatalf("head deleted: %+v; want 3 entries and a break", rep)
	}
}

func TestAuditPagesAndFilters(t *testing.T) {
	ctx := context.Background()
	s, _ := newAuditLog(t, 10)
	t0 := time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)
	seqs := func(q audit.Query) (pages [][]int64) {
		t.Helper()
		for {
			p, err := s.AuditEntries(ctx, q)
			if err != nil {
				t.Fatal(err)
			}
			if p.Head.Seq != 10 {
				t.Fatalf("head = %+v, want seq 10", p.Head)
			}
			var page []int64
			for _, e := range p.Entries {
				page = append(page, e.Seq)
			}
			pages = append(pages, page)
			if p.Next == 0 {
				return pages
			}
			q.Cursor = p.Next
		}
	}
	tests := []struct {
		name string
		q    audit.Query
		want [][]int64
	}{
		{"newest first", audit.Query{Limit: 4}, [][]int64{{10, 9, 8, 7}, {6, 5, 4, 3}, {2, 1}}},
		{"oldest first", audit.Query{Limit: 4, Oldest: true}, [][]int64{{1, 2, 3, 4}, {5, 6, 7, 8}, {9, 10}}},
		{"exact pages", audit.Query{Limit: 5}, [][]int64{{10, 9, 8, 7, 6}, {5, 4, 3, 2, 1}}},
		{"since", audit.Query{Limit: 4, Since: t0.Add(6*time.Minute + time.Second)}, [][]int64{{10, 9, 8}}},
		{"since, oldest first", audit.Query{Limit: 2, Oldest: true, Since: t0.Add(6 * time.Minute)}, [][]int64{{7, 8}, {9, 10}}},
		{"since the future", audit.Query{Limit: 4, Since: t0.Add(time.Hour)}, [][]int64{nil}},
		{"release", audit.Query{Limit: 2, Release: "rel_a"}, [][]int64{{9, 6}, {3}}},
		{"release, oldest first", audit.Query{Limit: 2, Release: "rel_a", Oldest: true}, [][]int64{{3, 6}, {9}}},
		{"release since", audit.Query{Limit: 5, Release: "rel_a", Since: t0.Add(4 * time.Minute)}, [][]int64{{9, 6}}},
		{"unknown release", audit.Query{Limit: 5, Release: "rel_none"}, [][]int64{nil}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, seqs(tt.q)); diff != "" {
				t.Errorf("pages (-want +got):\n%s", diff)
			}
		})
	}
	// Entries come back as they were recorded, and their times are the clock's.
	p, err := s.AuditEntries(ctx, audit.Query{Limit: 1, Release: "rel_a"})
	if err != nil {
		t.Fatal(err)
	}
	e := p.Entries[0]
	if e.Action != audit.ReleaseSend || e.Version != 3 || e.Actor != "ana" || e.Client != "203.0.113.7" || !e.At.Equal(t0.Add(8*time.Minute)) || len(e.Hash) != 64 {
		t.Errorf("newest rel_a entry = %+v", e)
	}
}

func stringsReplace(t *testing.T, s, old, new string) string {
	t.Helper()
	if !strings.Contains(s, old) {
		t.Fatalf("%q not in %s", old, s)
	}
	return strings.Replace(s, old, new, 1)
}
