package dispatcher_test

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// TestDispatchPlansOneDeliveryPerAddress: an address on several of a
// release's lists gets one delivery, enqueued once, early lists first; a
// suppressed address gets a delivery recorded as suppressed and no task.
func TestDispatchPlansOneDeliveryPerAddress(t *testing.T) {
	const (
		queued     = dispatcher.DeliveryQueued
		suppressed = dispatcher.DeliverySuppressed
	)
	tests := []struct {
		name       string
		lists      map[string][]string // list id → member emails
		early      []string
		audience   []string
		suppressed []string
		want       map[string]dispatcher.DeliveryStatus // recipient → status
		// wantOrder is the order in which the queued recipients are enqueued.
		wantOrder []string
	}{
		{name: "same address on two lists",
			lists:     map[string][]string{"l1": {"a@example.org", "b@example.org"}, "l2": {"b@example.org", "c@example.org"}},
			audience:  []string{"l1", "l2"},
			want:      map[string]dispatcher.DeliveryStatus{"a@example.org": queued, "b@example.org": queued, "c@example.org": queued},
			wantOrder: []string{"a@example.org", "b@example.org", "c@example.org"}},
		{name: "early list and list: planned with the early list, first",
			lists:     map[string][]string{"early": {"z@example.org"}, "all": {"a@example.org", "z@example.org"}},
			early:     []string{"early"},
			audience:  []string{"all"},
			want:      map[string]dispatcher.DeliveryStatus{"a@example.org": queued, "z@example.org": queued},
			wantOrder: []string{"z@example.org", "a@example.org"}},
		{name: "the same list twice",
			lists:     map[string][]string{"l1": {"a@example.org"}},
			early:     []string{"l1"},
			audience:  []string{"l1", "l1"},
			want:      map[string]dispatcher.DeliveryStatus{"a@example.org": queued},
			wantOrder: []string{"a@example.org"}},
		// Contacts are keyed by the normalised address when they are
		// imported (see mock.MemStore.AddContacts); the planner relies on it.
		{name: "different case",
			lists:     map[string][]string{"l1": {"Ana@Example.ORG"}, "l2": {"ana@example.org"}},
			audience:  []string{"l1", "l2"},
			want:      map[string]dispatcher.DeliveryStatus{"ana@example.org": queued},
			wantOrder: []string{"ana@example.org"}},
		{name: "suppressed: recorded, not enqueued",
			lists:      map[string][]string{"l1": {"a@example.org", "gone@example.org"}},
			audience:   []string{"l1"},
			suppressed: []string{"gone@example.org"},
			want:       map[string]dispatcher.DeliveryStatus{"a@example.org": queued, "gone@example.org": suppressed},
			wantOrder:  []string{"a@example.org"}},
		{name: "suppressed on an early list and a list: one suppressed delivery",
			lists:      map[string][]string{"early": {"gone@example.org"}, "all": {"gone@example.org", "b@example.org"}},
			early:      []string{"early"},
			audience:   []string{"all"},
			suppressed: []string{"gone@example.org"},
			want:       map[string]dispatcher.DeliveryStatus{"b@example.org": queued, "gone@example.org": suppressed},
			wantOrder:  []string{"b@example.org"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			ctx := context.Background()
			for _, lid := range slices.Sorted(maps.Keys(tt.lists)) {
				for _, e := range tt.lists[lid] {
					if err := r.mem.AddContacts(lid, dispatcher.Member{Email: e}); err != nil {
						t.Fatal(err)
					}
				}
			}
			for _, e := range tt.suppressed {
				r.mem.Suppress(e, "unsubscribed")
			}
			rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseScheduled, Title: "Nota", Language: "es",
				Audiences: dispatcher.Audiences{EarlyLists: tt.early, Lists: tt.audience}})
			if err := r.service(t, dispatcher.Config{}).Dispatch(ctx, rid); err != nil {
				t.Fatal(err)
			}

			got := map[string]dispatcher.DeliveryStatus{}
			recipient := map[string]string{}
			for _, rec := range r.mem.Records(rid) {
				if _, dup := got[rec.Recipient]; dup {
					t.Errorf("%s has two deliveries", rec.Recipient)
				}
				got[rec.Recipient] = rec.Status
				recipient[rec.ID] = rec.Recipient
			}
			if !maps.Equal(got, tt.want) {
				t.Errorf("deliveries %v, want %v", got, tt.want)
			}
			var order []string
			for _, b := range r.queue.Batches() {
				for _, id := range b.IDs {
					order = append(order, recipient[id])
				}
			}
			if !slices.Equal(order, tt.wantOrder) {
				t.Errorf("enqueued %v, want %v", order, tt.wantOrder)
			}
			rel, err := r.mem.Release(ctx, rid)
			if err != nil {
				t.Fatal(err)
			}
			if n := rel.Counts.ByStatus[suppressed]; n != int64(len(tt.suppressed)) {
				t.Errorf("%d deliveries counted suppressed, want %d", n, len(tt.suppressed))
			}
		})
	}
}

// TestDispatchChoosesEachRecipientsLanguage: each recipient gets the
// release in its language when the release has that translation, and in
// the release's own language otherwise; the message sent is rendered in
// that language.
func TestDispatchChoosesEachRecipientsLanguage(t *testing.T) {
	tests := []struct {
		contactLang string
		want        string
	}{
		{"en", "en"},
		{"EN", "en"},
		{"ca", "ca"},
		{"es", "es"},
		{"fr", "es"}, // no French version
		{"", "es"},
	}
	titles := map[string]string{"es": "Nota de prensa", "en": "Press release", "ca": "Nota de premsa"}
	r := newRig()
	ctx := context.Background()
	addr := func(i int) string { return fmt.Sprintf("contact%d@example.org", i) }
	for i, tt := range tests {
		if err := r.mem.AddContacts("l1", dispatcher.Member{Email: addr(i), Language: tt.contactLang}); err != nil {
			t.Fatal(err)
		}
	}
	r.mem.AddChannel(dispatcher.TelegramChannel{ID: "ch1", ChatID: "@canal", Language: "ca", Status: "active"})
	rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseScheduled, Title: titles["es"], Language: "es",
		Translations: []dispatcher.Translation{{Language: "en", Title: titles["en"]}, {Language: "ca", Title: titles["ca"]}},
		Audiences:    dispatcher.Audiences{Lists: []string{"l1"}, TelegramChannels: []string{"ch1"}}})
	svc := r.service(t, dispatcher.Config{})
	if err := svc.Dispatch(ctx, rid); err != nil {
		t.Fatal(err)
	}
	for _, b := range r.queue.Batches() {
		if err := svc.Deliver(ctx, b.Batch); err != nil {
			t.Fatal(err)
		}
	}

	subjects := map[string]string{}
	for _, m := range r.email.Messages() {
		subjects[m.To.Email] = m.Content.Subject
	}
	for i, tt := range tests {
		if rec := r.record(t, rid, dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, addr(i))); rec.Language != tt.want {
			t.Errorf("contact in %q: delivery in %q, want %q", tt.contactLang, rec.Language, tt.want)
		}
		if subjects[addr(i)] != titles[tt.want] {
			t.Errorf("contact in %q: mailed %q, want %q", tt.contactLang, subjects[addr(i)], titles[tt.want])
		}
	}
	if rec := r.record(t, rid, dispatcher.DeliveryID(rid, dispatcher.ChannelTelegram, "@canal")); rec.Language != "ca" {
		t.Errorf("channel in ca: delivery in %q, want ca", rec.Language)
	}
	if posts := r.tg.Posts(); len(posts) != 1 || !slices.Equal(posts[0].Parts, []string{titles["ca"]}) {
		t.Errorf("posted %v, want one post of %q", posts, titles["ca"])
	}
	if rel, err := r.mem.Release(ctx, rid); err != nil || rel.Status != dispatcher.ReleaseSent {
		t.Errorf("release = %v, %v; want sent", rel.Status, err)
	}
}

// TestEachEmailCarriesItsRecipientsUnsubscribeLink: with Links set, every
// email carries its own recipient's one-click unsubscribe link, in the
// footer and in the List-Unsubscribe headers.
func TestEachEmailCarriesItsRecipientsUnsubscribeLink(t *testing.T) {
	r := newRig()
	ctx := context.Background()
	rid, ids := r.sending(t, "ana@example.org", "bo@example.org")
	links := &mock.Links{UnsubscribeURLFn: func(email, releaseID string) string {
		return "https://pregon.example/u/" + releaseID + "/" + email
	}}
	svc := r.service(t, dispatcher.Config{Links: links})
	if err := svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}); err != nil {
		t.Fatal(err)
	}
	msgs := r.email.Messages()
	if len(msgs) != 2 {
		t.Fatalf("%d emails sent, want 2", len(msgs))
	}
	for _, m := range msgs {
		u := "https://pregon.example/u/" + rid + "/" + m.To.Email
		want := map[string]string{"List-Unsubscribe": "<" + u + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"}
		if m.UnsubscribeURL != u || !maps.Equal(m.Headers, want) {
			t.Errorf("email to %s: link %q, headers %v; want %q, %v", m.To.Email, m.UnsubscribeURL, m.Headers, u, want)
		}
	}
}
