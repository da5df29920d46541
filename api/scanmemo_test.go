package api

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// membersCounting is the Redis store, counting the pages of list members
// read.
type membersCounting struct {
	*store.Store
	pages atomic.Int64
}

func (m *membersCounting) Members(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Member, string, error) {
	m.pages.Add(1)
	return m.Store.Members(ctx, listID, cursor, limit)
}

// TestRecentScansKeptUntilTheListsChange: the warnings of a create and the
// compose form's counts read a list once while nothing changes; an import,
// a contact's edit or a suppression is seen at once; a kept scan is read
// again in the background past half scanMemoTTL, and waited for after it;
// the checklist always reads afresh.
func TestRecentScansKeptUntilTheListsChange(t *testing.T) {
	ctx := context.Background()
	var counting *membersCounting
	var mu sync.Mutex
	now := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	clock := func() time.Time { mu.Lock(); defer mu.Unlock(); return now }
	advance := func(d time.Duration) { mu.Lock(); defer mu.Unlock(); now = now.Add(d) }
	a := newRedisAPI(t, func(c *Config) {
		counting = &membersCounting{Store: c.Store.(*store.Store)}
		c.Store, c.Now = counting, clock
	})
	list := a.newList()
	if _, _, _, err := a.store.ImportContacts(ctx, list, []dispatcher.Contact{
		{Email: "ana@diario.example", Language: "es"}, {Email: "bea@radio.example", Language: "es"},
		{Email: "carl@news.example", Language: "de"},
	}); err != nil {
		t.Fatal(err)
	}
	rel := &dispatcher.Release{Language: "es", Audiences: dispatcher.Audiences{Lists: []string{list}}}
	recent := func() *audienceScan {
		t.Helper()
		sc, err := a.srv.scanAudiences(ctx, rel, scanRecent)
		if err != nil {
			t.Fatal(err)
		}
		return sc
	}
	// step reads a recent scan and checks its figures and whether it read
	// the list.
	step := func(what string, emails, suppressed, german int, read bool) {
		t.Helper()
		before := counting.pages.Load()
		sc := recent()
		if got := counting.pages.Load() > before; got != read {
			t.Errorf("%s: list read = %v, want %v", what, got, read)
		}
		if sc.emails != emails || sc.suppressed != suppressed || sc.languages["de"] != german {
			t.Errorf("%s: emails %d, suppressed %d, German readers %d; want %d, %d, %d",
				what, sc.emails, sc.suppressed, sc.languages["de"], emails, suppressed, german)
		}
	}
	step("first", 3, 0, 1, true)
	step("again", 3, 0, 1, false)

	// Many at once read it once.
	advance(scanMemoTTL)
	before := counting.pages.Load()
	var wg sync.WaitGroup
	for range 20 {
		wg.Go(func() {
			if sc, err := a.srv.scanAudiences(ctx, rel, scanRecent); err != nil || sc.emails != 3 {
				t.Errorf("concurrent scan: %v emails, %v", sc, err)
			}
		})
	}
	wg.Wait()
	if n := counting.pages.Load() - before; n != 1 {
		t.Errorf("20 scans at once read %d pages, want 1", n)
	}

	if _, _, _, err := a.store.ImportContacts(ctx, list, []dispatcher.Contact{{Email: "dora@tv.example", Language: "de"}}); err != nil {
		t.Fatal(err)
	}
	step("after an import", 4, 0, 2, true)
	if err := a.store.UpdateContact(ctx, dispatcher.Contact{Email: "ana@diario.example", Language: "de"}); err != nil {
		t.Fatal(err)
	}
	step("after an edit", 4, 0, 3, true)
	if err := a.store.Suppress(ctx, "bea@radio.example", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	step("after a suppression", 3, 1, 3, true)
	step("unchanged", 3, 1, 3, false)

	// What the stamp cannot see (one address suppressed and another
	// lifted: the same count) lasts at most scanMemoTTL; the checklist
	// sees it at once.
	if err := a.store.Suppress(ctx, "carl@news.example", "complaint"); err != nil {
		t.Fatal(err)
	}
	if _, err := a.store.LiftSuppression(ctx, "bea@radio.example"); err != nil {
		t.Fatal(err)
	}
	step("same counts", 3, 1, 3, false)
	all, err := a.srv.scanAudiences(ctx, rel, scanAll)
	if err != nil {
		t.Fatal(err)
	}
	if all.suppressed != 1 || all.languages["de"] != 2 {
		t.Errorf("checklist scan: suppressed %d, German readers %d; want 1, 2", all.suppressed, all.languages["de"])
	}
	// Past half its age, the kept scan is still the answer, and it is read
	// again in the background.
	advance(scanMemoTTL / 2)
	if sc := recent(); sc.languages["de"] != 3 {
		t.Errorf("at half its age: German readers %d, want the kept 3", sc.languages["de"])
	}
	deadline := time.Now().Add(10 * time.Second)
	for recent().languages["de"] != 2 {
		if time.Now().After(deadline) {
			t.Fatal("the scan was not read again in the background")
		}
		time.Sleep(10 * time.Millisecond)
	}
	step("read again", 3, 1, 2, false)
	advance(scanMemoTTL)
	step("after the TTL", 3, 1, 2, true)
}

// TestScanMemoBounded: at most scanMemoMax audiences are kept; the oldest
// goes first.
func TestScanMemoBounded(t *testing.T) {
	var m scanMemo
	at := time.Date(2026, 12, 6, 10, 0, 0, 0, time.UTC)
	for i := range scanMemoMax + 10 {
		m.put(string(rune('a'+i)), memoScan{stamp: "s", at: at.Add(time.Duration(i) * time.Millisecond), scan: &audienceScan{emails: i}})
	}
	if len(m.scans) != scanMemoMax {
		t.Fatalf("kept %d scans, want %d", len(m.scans), scanMemoMax)
	}
	now := at.Add(time.Second)
	if _, _, ok := m.get("a", "s", now); ok {
		t.Error("the oldest scan is still kept")
	}
	last := string(rune('a' + scanMemoMax + 9))
	if sc, aging, ok := m.get(last, "s", now); !ok || aging || sc.emails != scanMemoMax+9 {
		t.Errorf("the newest scan: %v, aging %v, %v", sc, aging, ok)
	}
	if _, aging, ok := m.get(last, "s", now.Add(scanMemoTTL/2)); !ok || !aging {
		t.Errorf("at half its age, a scan is kept %v and aging %v; want both", ok, aging)
	}
	if _, _, ok := m.get(last, "other stamp", now); ok {
		t.Error("a scan was returned under another stamp")
	}
}
