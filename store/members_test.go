package store_test

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/store"
)

// TestDoubleOptIn follows members of a subscriber list through their
// statuses: a sign-up is pending and left out of Members (what releases
// read) and Contacts (what an export reads); a second sign-up of the same
// address changes nothing; confirming records the time; a suppressed
// address cannot sign up; a coordinator's import confirms a pending member;
// removing a member forgets its status.
func TestDoubleOptIn(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	s := store.New(redistest.Start(t).Client(t), clock.Now)
	l := &dispatcher.List{Name: "Boletín", Kind: dispatcher.ListSubscribers}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.UpsertContacts(ctx, l.ID, []dispatcher.Contact{{Email: "carla@example.org", Name: "Carla"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Suppress(ctx, "gone@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	subscribe := func(email, name string, want dispatcher.SubscribeOutcome) {
		t.Helper()
		got, err := s.Subscribe(ctx, l.ID, dispatcher.Contact{Email: email, Name: name, Language: "en"})
		if err != nil || got != want {
			t.Fatalf("Subscribe(%s) = %v, %v; want %v", email, got, err, want)
		}
	}
	subscribe("ana@example.org", "Ana", dispatcher.SubscribeAdded)
	subscribe("bob@example.org", "Bob", dispatcher.SubscribeAdded)
	subscribe("ana@example.org", "Someone Else", dispatcher.SubscribeStillPending)
	subscribe("carla@example.org", "Not Carla", dispatcher.SubscribeAlreadyConfirmed)
	subscribe("gone@example.org", "", dispatcher.SubscribeSuppressed)
	if _, err := s.Subscribe(ctx, "lst_00000000000000000000000000", dispatcher.Contact{Email: "ana@example.org"}); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("Subscribe to an unknown list: %v, want ErrNotFound", err)
	}

	emailsOf := func(ms []dispatcher.Member) []string {
		var out []string
		for _, m := range ms {
			out = append(out, m.Email)
		}
		return out
	}
	ms, _, err := s.Members(ctx, l.ID, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"carla@example.org"}, emailsOf(ms)); diff != "" {
		t.Errorf("Members with two pending (-want +got):\n%s", diff)
	}
	cs, _, err := s.Contacts(ctx, l.ID, "", 100)
	if err != nil || len(cs) != 1 || cs[0].Email != "carla@example.org" || cs[0].Name != "Carla" {
		t.Errorf("Contacts = %v, %v; want Carla alone, her name kept", cs, err)
	}

	clock.Add(time.Hour)
	if changed, err := s.ConfirmMember(ctx, l.ID, "ana@example.org"); err != nil || !changed {
		t.Fatalf("ConfirmMember = %v, %v", changed, err)
	}
	if changed, err := s.ConfirmMember(ctx, l.ID, "ana@example.org"); err != nil || changed {
		t.Errorf("second ConfirmMember = %v, %v; want false, nil", changed, err)
	}
	if _, err := s.ConfirmMember(ctx, l.ID, "nobody@example.org"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("ConfirmMember of a non-member: %v, want ErrNotFound", err)
	}
	ms, _, _ = s.Members(ctx, l.ID, "", 100)
	if diff := cmp.Diff([]string{"ana@example.org", "carla@example.org"}, emailsOf(ms)); diff != "" {
		t.Errorf("Members after Ana confirmed (-want +got):\n%s", diff)
	}
	if p, err := s.MemberPending(ctx, l.ID, "bob@example.org"); err != nil || !p {
		t.Errorf("MemberPending(bob) = %v, %v", p, err)
	}

	subscribed, confirmed := clock.Now().Add(-time.Hour), clock.Now()
	all, next, err := s.ListMembers(ctx, l.ID, "", "", 100)
	if err != nil || next != "" {
		t.Fatalf("ListMembers = %v, %q, %v", all, next, err)
	}
	want := []dispatcher.ListMember{
		{Contact: dispatcher.Contact{Email: "ana@example.org", Name: "Ana", Language: "en"}, Status: dispatcher.MemberConfirmed, ConfirmedAt: &confirmed},
		{Contact: dispatcher.Contact{Email: "bob@example.org", Name: "Bob", Language: "en"}, Status: dispatcher.MemberPending, SubscribedAt: &subscribed},
		{Contact: dispatcher.Contact{Email: "carla@example.org", Name: "Carla"}, Status: dispatcher.MemberConfirmed},
	}
	if diff := cmp.Diff(want, all); diff != "" {
		t.Errorf("ListMembers (-want +got):\n%s", diff)
	}
	if err := s.Suppress(ctx, "carla@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.ListMembers(ctx, l.ID, dispatcher.MemberUnsubscribed, "", 100); len(got) != 1 || got[0].Email != "carla@example.org" ||
		got[0].Suppressed == nil || got[0].Suppressed.Reason != "unsubscribed" {
		t.Errorf("unsubscribed members = %+v, want Carla, suppressed", got)
	} else if at := got[0].Suppressed.At; at == nil || !at.Equal(clock.Now()) {
		t.Errorf("Carla's suppression at %v, want %v (when it was recorded)", at, clock.Now())
	}

	// A coordinator's import vouches for Bob: he is confirmed.
	if _, _, err := s.UpsertContacts(ctx, l.ID, []dispatcher.Contact{{Email: "bob@example.org"}}); err != nil {
		t.Fatal(err)
	}
	if got, _, _ := s.ListMembers(ctx, l.ID, dispatcher.MemberPending, "", 100); len(got) != 0 {
		t.Errorf("pending after the import = %+v, want none", got)
	}
	// Removed and signed up again, Bob is pending again.
	if err := s.RemoveContact(ctx, l.ID, "bob@example.org"); err != nil {
		t.Fatal(err)
	}
	subscribe("bob@example.org", "Bob", dispatcher.SubscribeAdded)
}

// TestListMembersFilterPaging pages through a status filter that matches
// one member in three: every match comes once, in order, whatever the limit.
func TestListMembersFilterPaging(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	l := &dispatcher.List{Name: "Boletín", Kind: dispatcher.ListSubscribers}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	var cs []dispatcher.Contact
	var wantPending []string
	for i := range 30 {
		e := string(rune('a'+i%26)) + string(rune('a'+i/26)) + "@example.org"
		if i%3 == 0 {
			if _, err := s.Subscribe(ctx, l.ID, dispatcher.Contact{Email: e}); err != nil {
				t.Fatal(err)
			}
			wantPending = append(wantPending, e)
			continue
		}
		cs = append(cs, dispatcher.Contact{Email: e})
	}
	slices.Sort(wantPending)
	if _, _, err := s.UpsertContacts(ctx, l.ID, cs); err != nil {
		t.Fatal(err)
	}
	for _, limit := range []int{1, 2, 3, 7, 100} {
		var got []string
		cursor := ""
		for range 100 {
			ms, next, err := s.ListMembers(ctx, l.ID, dispatcher.MemberPending, cursor, limit)
			if err != nil {
				t.Fatal(err)
			}
			if len(ms) > limit {
				t.Fatalf("limit %d: a page of %d", limit, len(ms))
			}
			for _, m := range ms {
				got = append(got, m.Email)
			}
			if next == "" {
				break
			}
			cursor = next
		}
		if diff := cmp.Diff(wantPending, got); diff != "" {
			t.Errorf("limit %d: pending members (-want +got):\n%s", limit, diff)
		}
	}
}

// TestTakeConfirmationMail allows max emails to an address in a window,
// counts each address apart, and starts again once the window is over.
func TestTakeConfirmationMail(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	s := store.New(rdb, nil)
	for i := 1; i <= 5; i++ {
		ok, err := s.TakeConfirmationMail(ctx, "ana@example.org", 3, time.Hour)
		if err != nil || ok != (i <= 3) {
			t.Errorf("email %d: %v, %v; want %v", i, ok, err, i <= 3)
		}
	}
	if ok, err := s.TakeConfirmationMail(ctx, "bob@example.org", 3, time.Hour); err != nil || !ok {
		t.Errorf("another address: %v, %v", ok, err)
	}
	keys, err := rdb.Keys(ctx, "pregon:optin-mails:*").Result()
	if err != nil || len(keys) != 2 {
		t.Fatalf("keys %v, %v", keys, err)
	}
	for _, k := range keys {
		if ttl := rdb.PTTL(ctx, k).Val(); ttl <= 0 || ttl > time.Hour {
			t.Errorf("%s has TTL %v, want within the window", k, ttl)
		}
		if contains(k, "example.org") {
			t.Errorf("key %s holds the address", k)
		}
	}
	// The window is over (the key expired): emails are allowed again.
	rdb.Del(ctx, keys...)
	if ok, err := s.TakeConfirmationMail(ctx, "ana@example.org", 3, time.Hour); err != nil || !ok {
		t.Errorf("after the window: %v, %v", ok, err)
	}
}
