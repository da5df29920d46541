package store_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

func newStore(t *testing.T) *store.Store {
	t.Helper()
	srv := redistest.Start(t)
	return store.New(srv.Client(t), nil)
}

func TestListsAndContacts(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	l := &dispatcher.List{Name: "Prensa MX", Kind: dispatcher.ListPress}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	got, err := s.List(ctx, l.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Name != "Prensa MX" || got.Kind != dispatcher.ListPress || got.CreatedAt.IsZero() {
		t.Fatalf("List = %+v", got)
	}
	if _, err := s.List(ctx, "lst_doesnotexist"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Fatalf("unknown list: err = %v, want ErrNotFound", err)
	}
	cs := []dispatcher.Contact{
		{Email: "ana@example.org", Name: "Ana Núñez", Language: "es", Tags: []string{"minería"}},
		{Email: "bob@example.org", Name: "Bob", Outlet: "The Wire", Language: "en"},
	}
	added, updated, err := s.UpsertContacts(ctx, l.ID, cs)
	if err != nil || added != 2 || updated != 0 {
		t.Fatalf("first upsert = %d, %d, %v; want 2, 0, nil", added, updated, err)
	}
	added, updated, err = s.UpsertContacts(ctx, l.ID, []dispatcher.Contact{{Email: "ana@example.org", Outlet: "La Jornada"}, {Email: "cy@example.org"}})
	if err != nil || added != 1 || updated != 1 {
		t.Fatalf("second upsert = %d, %d, %v; want 1, 1, nil", added, updated, err)
	}
	page1, next, err := s.Contacts(ctx, l.ID, "", 2)
	if err != nil {
		t.Fatal(err)
	}
	page2, next2, err := s.Contacts(ctx, l.ID, next, 2)
	if err != nil {
		t.Fatal(err)
	}
	want := []dispatcher.Contact{
		{Email: "ana@example.org", Name: "Ana Núñez", Outlet: "La Jornada", Language: "es", Tags: []string{"minería"}},
		{Email: "bob@example.org", Name: "Bob", Outlet: "The Wire", Language: "en"},
		{Email: "cy@example.org"},
	}
	if diff := cmp.Diff(want, append(page1, page2...)); diff != "" {
		t.Errorf("contacts (-want +got):\n%s", diff)
	}
	if next == "" || next2 != "" {
		t.Errorf("cursors = %q, %q; want non-empty then empty", next, next2)
	}
	if err := s.RemoveContact(ctx, l.ID, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := s.RemoveContact(ctx, l.ID, "bob@example.org"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Fatalf("second remove: err = %v, want ErrNotFound", err)
	}
	if got, _ := s.List(ctx, l.ID); got.Members != 2 {
		t.Errorf("members = %d, want 2", got.Members)
	}
}

func TestChannelUniqueChat(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	if err := s.CreateChannel(ctx, &dispatcher.TelegramChannel{ChatID: "@canal"}); err != nil {
		t.Fatal(err)
	}
	err := s.CreateChannel(ctx, &dispatcher.TelegramChannel{ChatID: "@canal"})
	if !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("second channel for the same chat: err = %v, want ErrConflict", err)
	}
	cs, _, err := s.Channels(ctx, "", 10)
	if err != nil || len(cs) != 1 || cs[0].Status != "active" {
		t.Fatalf("Channels = %+v, %v", cs, err)
	}
}

func TestReleasesPagingNewestFirst(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	var ids []string
	for i := range 5 {
		r := &dispatcher.Release{Title: fmt.Sprint("r", i), Body: "b", Language: "es"}
		if err := s.CreateRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
		time.Sleep(2 * time.Millisecond) // ids order by millisecond
	}
	if _, err := s.SetReleaseStatus(ctx, ids[1], dispatcher.ReleaseCancelled, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	var got []string
	cursor := ""
	for {
		page, next, err := s.Releases(ctx, "", cursor, 2, true, 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, r := range page {
			got = append(got, r.ID)
		}
		if next == "" {
			break
		}
		cursor = next
	}
	want := []string{ids[4], ids[3], ids[2], ids[1], ids[0]}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("release order (-want +got):\n%s", diff)
	}
	cancelled, _, err := s.Releases(ctx, dispatcher.ReleaseCancelled, "", 10, true, 0)
	if err != nil || len(cancelled) != 1 || cancelled[0].ID != ids[1] {
		t.Fatalf("cancelled releases = %v, %v", cancelled, err)
	}
}

// TestDeliveryLifecycle walks deliveries through the state machine and
// checks that counts and the release's final status follow.
func TestDeliveryLifecycle(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now(), time.Time{}, false, 0); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled); err != nil {
		t.Fatal(err)
	}
	mk := func(to string, st dispatcher.DeliveryStatus) *dispatcher.Delivery {
		return &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, to), Channel: dispatcher.ChannelEmail, Recipient: to, Language: "es", Status: st}
	}
	ds := []*dispatcher.Delivery{mk("a@x.org", dispatcher.DeliveryQueued), mk("b@x.org", dispatcher.DeliveryQueued), mk("c@x.org", dispatcher.DeliverySuppressed)}
	created, err := s.CreateDeliveries(ctx, r.ID, ds)
	if err != nil || len(created) != 2 {
		t.Fatalf("CreateDeliveries = %v, %v; want 2 queued ids", created, err)
	}
	// Planned again (a re-run, or the same address on a second list): nothing new.
	again, err := s.CreateDeliveries(ctx, r.ID, ds)
	if err != nil || len(again) != 0 {
		t.Fatalf("CreateDeliveries again = %v, %v; want none", again, err)
	}
	claimed, _, err := s.ClaimDeliveries(ctx, r.ID, created, time.Now().Add(-time.Minute))
	if err != nil || len(claimed) != 2 {
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	// A second claim (the task ran twice) takes nothing.
	if twice, busy, err := s.ClaimDeliveries(ctx, r.ID, created, time.Now().Add(-time.Minute)); err != nil || len(twice) != 0 || len(busy) != 2 {
		t.Fatalf("second claim = %v, %v, %v; want none claimed and both busy", twice, busy, err)
	}
	if claimed[0].Attempts != 1 || claimed[0].RoundAttempts != 1 {
		t.Errorf("attempts = %d/%d, want 1/1", claimed[0].Attempts, claimed[0].RoundAttempts)
	}
	err = s.FinishDeliveries(ctx, r.ID, []dispatcher.Outcome{
		{ID: claimed[0].ID, Status: dispatcher.DeliverySent, MessageIDs: []string{"<m1@x>"}},
		{ID: claimed[1].ID, Status: dispatcher.DeliveryFailed, Error: "550 no such user"},
	})
	if err != nil {
		t.Fatal(err)
	}
	got, _ := s.Release(ctx, r.ID)
	if got.Status != dispatcher.ReleaseSending {
		t.Errorf("status before snapshot done = %s, want sending", got.Status)
	}
	st, err := s.SnapshotDone(ctx, r.ID)
	if err != nil || st != dispatcher.ReleaseSentWithFailures {
		t.Fatalf("SnapshotDone = %s, %v; want sent_with_failures", st, err)
	}
	got, _ = s.Release(ctx, r.ID)
	wantCounts := map[dispatcher.DeliveryStatus]int64{dispatcher.DeliverySent: 1, dispatcher.DeliveryFailed: 1, dispatcher.DeliverySuppressed: 1}
	for _, s := range dispatcher.DeliveryStatuses {
		if got.Counts.ByStatus[s] != wantCounts[s] {
			t.Errorf("count %s = %d, want %d", s, got.Counts.ByStatus[s], wantCounts[s])
		}
	}
	if got.Counts.Total != 3 {
		t.Errorf("total = %d, want 3", got.Counts.Total)
	}
	failed, _, err := s.Deliveries(ctx, r.ID, dispatcher.DeliveryFilter{Status: dispatcher.DeliveryFailed}, "", 10)
	if err != nil || len(failed) != 1 || failed[0].LastError != "550 no such user" || failed[0].Recipient != "b@x.org" {
		t.Fatalf("failed deliveries = %+v, %v", failed, err)
	}
	// Retry: failed → queued; the release is sending again, then sent_with_failures no more.
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseSentWithFailures); err != nil {
		t.Fatal(err)
	}
	moved, err := s.Transition(ctx, r.ID, created, dispatcher.DeliveryQueued, dispatcher.DeliveryFailed)
	if err != nil || len(moved) != 1 {
		t.Fatalf("Transition = %v, %v", moved, err)
	}
	c2, _, err := s.ClaimDeliveries(ctx, r.ID, moved, time.Now().Add(-time.Minute))
	if err != nil || len(c2) != 1 || c2[0].Attempts != 2 || c2[0].RoundAttempts != 1 {
		t.Fatalf("claim after retry = %+v, %v", c2, err)
	}
	if err := s.FinishDeliveries(ctx, r.ID, []dispatcher.Outcome{{ID: c2[0].ID, Status: dispatcher.DeliverySent}}); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Release(ctx, r.ID)
	if got.Status != dispatcher.ReleaseSent || got.Counts.ByStatus[dispatcher.DeliverySent] != 2 || got.Counts.ByStatus[dispatcher.DeliveryFailed] != 0 {
		t.Fatalf("after retry: status %s counts %+v", got.Status, got.Counts.ByStatus)
	}
}

// TestStaleClaim checks that a delivery left "sending" by a dead worker is
// taken again once its claim is older than the claim timeout, and not before.
func TestStaleClaim(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	clock := func() time.Time { return now }
	srv := redistest.Start(t)
	s := store.New(srv.Client(t), clock)
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft)
	d := &dispatcher.Delivery{ID: "d1", Channel: dispatcher.ChannelEmail, Recipient: "a@x.org", Status: dispatcher.DeliveryQueued}
	if _, err := s.CreateDeliveries(ctx, r.ID, []*dispatcher.Delivery{d}); err != nil {
		t.Fatal(err)
	}
	if c, _, _ := s.ClaimDeliveries(ctx, r.ID, []string{"d1"}, now.Add(-time.Minute)); len(c) != 1 {
		t.Fatalf("first claim took %d", len(c))
	}
	if c, _, _ := s.ClaimDeliveries(ctx, r.ID, []string{"d1"}, now.Add(-time.Minute)); len(c) != 0 {
		t.Fatalf("fresh claim was taken again")
	}
	now = now.Add(2 * time.Minute)
	if c, _, _ := s.ClaimDeliveries(ctx, r.ID, []string{"d1"}, now.Add(-time.Minute)); len(c) != 1 || c[0].Attempts != 2 {
		t.Fatalf("stale claim: %+v", c)
	}
}

func TestCancelledReleaseCancelsPendingOnClaim(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	s.CreateRelease(ctx, r)
	s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft)
	d := &dispatcher.Delivery{ID: "d1", Channel: dispatcher.ChannelEmail, Recipient: "a@x.org", Status: dispatcher.DeliveryQueued}
	s.CreateDeliveries(ctx, r.ID, []*dispatcher.Delivery{d})
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseCancelled, dispatcher.ReleaseSending); err != nil {
		t.Fatal(err)
	}
	c, _, err := s.ClaimDeliveries(ctx, r.ID, []string{"d1"}, time.Now())
	if err != nil || len(c) != 0 {
		t.Fatalf("claim on cancelled release = %v, %v; want nothing", c, err)
	}
	got, _ := s.Delivery(ctx, r.ID, "d1")
	if got.Status != dispatcher.DeliveryCancelled {
		t.Fatalf("status = %s, want cancelled", got.Status)
	}
}

func TestTokens(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	tok, _ := auth.NewSecret()
	if err := s.CreateToken(ctx, auth.Hash(tok), &auth.Token{Name: "ci", Role: auth.RoleViewer}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(ctx, auth.Hash(tok))
	if err != nil || got.Role != auth.RoleViewer || got.Name != "ci" {
		t.Fatalf("Token = %+v, %v", got, err)
	}
	if _, err := s.Token(ctx, auth.Hash(tok+"x")); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Fatalf("wrong token: err = %v", err)
	}
	keys, _ := s.Client().Keys(ctx, "*").Result()
	for _, k := range keys {
		if v, _ := s.Client().Dump(ctx, k).Result(); len(v) > 0 && contains(v, tok) {
			t.Fatalf("the raw token is stored in %s", k)
		}
	}
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }

// TestFinishAndClaimAfterScriptFlush is a regression test: when Redis has
// lost one script (a restart) but not another, the pipeline's calls that
// did run must not run twice, or a delivery claimed once looks held by
// another worker.
func TestFinishAndClaimAfterScriptFlush(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	s.CreateRelease(ctx, r)
	s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft)
	var ds []*dispatcher.Delivery
	for _, id := range []string{"d1", "d2"} {
		ds = append(ds, &dispatcher.Delivery{ID: id, Channel: dispatcher.ChannelEmail, Recipient: id + "@x.org", Status: dispatcher.DeliveryQueued})
	}
	if _, err := s.CreateDeliveries(ctx, r.ID, ds); err != nil {
		t.Fatal(err)
	}
	if err := s.Client().ScriptFlush(ctx).Err(); err != nil {
		t.Fatal(err)
	}
	c, _, err := s.ClaimDeliveries(ctx, r.ID, []string{"d1"}, time.Now().Add(-time.Minute)) // loads only the claim script
	if err != nil || len(c) != 1 {
		t.Fatalf("claim d1 = %v, %v", c, err)
	}
	c, busy, err := s.FinishAndClaim(ctx, r.ID, []dispatcher.Outcome{{ID: "d1", Status: dispatcher.DeliverySent}}, []string{"d2"}, time.Now().Add(-time.Minute))
	if err != nil || len(c) != 1 || len(busy) != 0 {
		t.Fatalf("finish d1 and claim d2 = %v, busy %v, %v; want d2 claimed, none busy", c, busy, err)
	}
	if d, _ := s.Delivery(ctx, r.ID, "d1"); d.Status != dispatcher.DeliverySent {
		t.Errorf("d1 is %s, want sent", d.Status)
	}
}

// TestOutcomeOfAnOldClaimIsNotRecorded: when a delivery was claimed again
// (its first worker was taken for dead), the first worker's outcome must
// not be recorded over the second claim.
func TestOutcomeOfAnOldClaimIsNotRecorded(t *testing.T) {
	ctx := context.Background()
	now := time.Now()
	srv := redistest.Start(t)
	s := store.New(srv.Client(t), func() time.Time { return now })
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	s.CreateRelease(ctx, r)
	s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft)
	s.CreateDeliveries(ctx, r.ID, []*dispatcher.Delivery{{ID: "d1", Channel: dispatcher.ChannelEmail, Recipient: "a@x.org", Status: dispatcher.DeliveryQueued}})
	first, _, _ := s.ClaimDeliveries(ctx, r.ID, []string{"d1"}, now.Add(-time.Minute))
	now = now.Add(5 * time.Minute)
	second, _, _ := s.ClaimDeliveries(ctx, r.ID, []string{"d1"}, now.Add(-time.Minute))
	if len(first) != 1 || len(second) != 1 {
		t.Fatalf("claims = %d, %d; want 1, 1", len(first), len(second))
	}
	old := dispatcher.Outcome{ID: "d1", Status: dispatcher.DeliveryFailed, Error: "old", ClaimedAt: first[0].ClaimedAt}
	if err := s.FinishDeliveries(ctx, r.ID, []dispatcher.Outcome{old}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, r.ID, "d1"); d.Status != dispatcher.DeliverySending {
		t.Fatalf("after the old claim's outcome: %s, want still sending", d.Status)
	}
	cur := dispatcher.Outcome{ID: "d1", Status: dispatcher.DeliverySent, ClaimedAt: second[0].ClaimedAt}
	if err := s.FinishDeliveries(ctx, r.ID, []dispatcher.Outcome{cur}); err != nil {
		t.Fatal(err)
	}
	if d, _ := s.Delivery(ctx, r.ID, "d1"); d.Status != dispatcher.DeliverySent {
		t.Fatalf("after the current claim's outcome: %s, want sent", d.Status)
	}
}
