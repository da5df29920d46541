package store_test

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

const eraseSecret = "erasure-test-secret-0123456789"

// newErasingStore returns a store with an erasure key, and its client.
func newErasingStore(t *testing.T) (*store.Store, *redis.Client) {
	t.Helper()
	c := redistest.Start(t).Client(t)
	s := store.New(c, nil)
	s.SetErasureSecret([]byte(eraseSecret))
	return s, c
}

// dumpRedis returns every key of the database with its whole content, one
// line per key, whatever its type.
func dumpRedis(t *testing.T, c *redis.Client) string {
	t.Helper()
	ctx := context.Background()
	var b strings.Builder
	iter := c.Scan(ctx, 0, "*", 1000).Iterator()
	for iter.Next(ctx) {
		k := iter.Val()
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var v any
		switch typ {
		case "string":
			v, err = c.Get(ctx, k).Result()
		case "hash":
			v, err = c.HGetAll(ctx, k).Result()
		case "zset":
			v, err = c.ZRangeWithScores(ctx, k, 0, -1).Result()
		case "set":
			v, err = c.SMembers(ctx, k).Result()
		case "list":
			v, err = c.LRange(ctx, k, 0, -1).Result()
		case "stream":
			v, err = c.XRange(ctx, k, "-", "+").Result()
		default:
			t.Fatalf("key %s of type %s", k, typ)
		}
		if err != nil {
			t.Fatal(err)
		}
		fmt.Fprintf(&b, "%s %s %v\n", k, typ, v)
		if typ == "hash" && strings.HasSuffix(k, "}:archive") {
			// Archive blocks are compressed: what they hold is dumped
			// decoded too, every block, whether the index names it or not.
			rid := k[strings.IndexByte(k, '{')+1 : strings.IndexByte(k, '}')]
			for f, blob := range v.(map[string]string) {
				if f == "ix" {
					continue
				}
				recs, err := store.DecodeArchiveBlock(rid, []byte(blob))
				if err != nil {
					t.Fatalf("archive %s, block %s: %v", k, f, err)
				}
				fmt.Fprintf(&b, "%s block %s decoded %v\n", k, f, recs)
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	return b.String()
}

// forms are the ways an address could be kept: as written, upper-cased
// (a lower-cased dump catches both), and its plain SHA-256 (which anyone
// can compute from a guessed address).
func forms(email string) []string {
	sum := sha256.Sum256([]byte(email))
	return []string{strings.ToLower(email), hex.EncodeToString(sum[:])}
}

// assertForgotten fails when the database holds email in any form.
func assertForgotten(t *testing.T, c *redis.Client, email string) {
	t.Helper()
	dump := strings.ToLower(dumpRedis(t, c))
	for _, f := range forms(email) {
		if i := strings.Index(dump, f); i >= 0 {
			line := dump[strings.LastIndexByte(dump[:i], '\n')+1:]
			if j := strings.IndexByte(line, '\n'); j >= 0 {
				line = line[:j]
			}
			t.Errorf("the database still holds %q: %s", f, line)
		}
	}
}

// sendingRelease creates a release that is sending, with one email
// delivery in status st per address, and returns its id.
func sendingWith(t *testing.T, s *store.Store, st dispatcher.DeliveryStatus, to ...string) string {
	t.Helper()
	ctx := context.Background()
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
	var ds []*dispatcher.Delivery
	for _, e := range to {
		ds = append(ds, &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, e), Channel: dispatcher.ChannelEmail,
			Recipient: e, Name: "Name of " + e, Language: "es", Status: st})
	}
	if _, err := s.CreateDeliveries(ctx, r.ID, ds); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

func deliveryTo(t *testing.T, s *store.Store, rid, email string) *dispatcher.Delivery {
	t.Helper()
	ds, _, err := s.Deliveries(context.Background(), rid, dispatcher.DeliveryFilter{}, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	id := dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, email)
	for _, d := range ds {
		if d.ID == id {
			return d
		}
	}
	t.Fatalf("release %s has no delivery %s", rid, id)
	return nil
}

// archivedTo makes a release as sentTo does, archives it, and returns its
// id.
func archivedTo(t *testing.T, s *store.Store, to []string, failing ...string) string {
	t.Helper()
	rid := sentTo(t, s, to, failing...)
	rel, err := s.ArchiveRelease(context.Background(), rid)
	if err != nil || rel.ArchivedAt == nil {
		t.Fatalf("ArchiveRelease = %+v, %v", rel, err)
	}
	return rid
}

// sentTo makes a release that went out to each address (those in failing
// failed, with an SMTP reply naming them in capitals, and so are in its
// failure log), and returns its id.
func sentTo(t *testing.T, s *store.Store, to []string, failing ...string) string {
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
	var ids []string
	var outs []dispatcher.Outcome
	for _, e := range to {
		id := dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, e)
		ds = append(ds, &dispatcher.Delivery{ID: id, Channel: dispatcher.ChannelEmail, Recipient: e, Name: "Name of " + e,
			Language: "es", Status: dispatcher.DeliveryQueued})
		ids = append(ids, id)
		o := dispatcher.Outcome{ID: id, Status: dispatcher.DeliverySent, MessageIDs: []string{"<" + id + "." + r.ID + "@pregon.example>"}}
		if slices.Contains(failing, e) {
			o = dispatcher.Outcome{ID: id, Status: dispatcher.DeliveryFailed, Error: "550 5.1.1 <" + strings.ToUpper(e) + ">: no such user"}
		}
		outs = append(outs, o)
	}
	if _, err := s.CreateDeliveries(ctx, r.ID, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SnapshotDone(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	claimAll(t, s, r.ID, ids...)
	if _, _, err := s.FinishAndClaim(ctx, r.ID, outs, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// archiveDump returns what the archives hold, decoded (lower-cased).
func archiveDump(t *testing.T, c *redis.Client) string {
	t.Helper()
	var b strings.Builder
	for line := range strings.Lines(strings.ToLower(dumpRedis(t, c))) {
		if strings.Contains(line, "}:archive block ") {
			b.WriteString(line)
		}
	}
	return b.String()
}

// TestEraseLeavesOnlyAHash puts an address everywhere an address goes (two
// lists, a pending sign-up, a confirmation counter, a suppression, soft
// bounces, a sent and failed delivery with its failure log entry, a queued
// one), erases it, and scans the whole database for it.
func TestEraseLeavesOnlyAHash(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	const ana = "ana.erased@example.org"
	press := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	subs := &dispatcher.List{Name: "Boletín", Kind: dispatcher.ListSubscribers}
	for _, l := range []*dispatcher.List{press, subs} {
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
	}
	if _, _, err := s.UpsertContacts(ctx, press.ID, []dispatcher.Contact{
		{Email: ana, Name: "Ana Borrada", Outlet: "El Diario", Language: "es", Tags: []string{"x"}, Attributes: map[string]string{"tel": "1"}},
		{Email: "bob@example.org", Name: "Bob"},
	}); err != nil {
		t.Fatal(err)
	}
	// A release that went out to ana, bob and carl long ago, and was
	// archived: ana's delivery failed (the reply names her address), and
	// carl's; both are in its failure log.
	arch := archivedTo(t, s, []string{ana, "bob@example.org", "carl@example.org"}, ana, "carl@example.org")
	if !strings.Contains(archiveDump(t, c), ana) {
		t.Fatal("the archive does not hold the address before the erasure")
	}
	archRel, err := s.Release(ctx, arch)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := s.Subscribe(ctx, subs.ID, dispatcher.Contact{Email: ana, Name: "Ana"}); err != nil || out != dispatcher.SubscribeAdded {
		t.Fatalf("Subscribe = %v, %v", out, err)
	}
	if _, err := s.TakeConfirmationMail(ctx, ana, 3, time.Hour); err != nil {
		t.Fatal(err)
	}
	if _, err := s.RecordBounce(ctx, dispatcher.BounceEvent{Kind: dispatcher.BounceSoft, Email: ana, Source: "ses"}); err != nil {
		t.Fatal(err)
	}
	if err := s.Suppress(ctx, ana, "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	// A release that went out: one sent delivery, and a failed one (in
	// the failure log) to the address.
	sent := sendingWith(t, s, dispatcher.DeliveryQueued, ana, "bob@example.org")
	ids := []string{dispatcher.DeliveryID(sent, dispatcher.ChannelEmail, ana), dispatcher.DeliveryID(sent, dispatcher.ChannelEmail, "bob@example.org")}
	claimed, _, err := s.ClaimDeliveries(ctx, sent, ids, time.Now().Add(-time.Minute))
	if err != nil || len(claimed) != 1 { // ana is suppressed already (unsubscribed): only bob is claimed
		t.Fatalf("claim = %v, %v", claimed, err)
	}
	if err := s.FinishDeliveries(ctx, sent, []dispatcher.Outcome{{ID: claimed[0].ID, Status: dispatcher.DeliverySent}}); err != nil {
		t.Fatal(err)
	}
	failed := sendingWith(t, s, dispatcher.DeliveryQueued, ana)
	fid := dispatcher.DeliveryID(failed, dispatcher.ChannelEmail, ana)
	if _, err := s.LiftSuppression(ctx, ana); err != nil {
		t.Fatal(err)
	}
	cl, _, err := s.ClaimDeliveries(ctx, failed, []string{fid}, time.Now().Add(-time.Minute))
	if err != nil || len(cl) != 1 {
		t.Fatalf("claim = %v, %v", cl, err)
	}
	if err := s.FinishDeliveries(ctx, failed, []dispatcher.Outcome{{ID: fid, Status: dispatcher.DeliveryFailed, Error: "550 mailbox of " + ana + " full"}}); err != nil {
		t.Fatal(err)
	}
	if err := s.Suppress(ctx, ana, "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	// A release still sending, with a delivery to ana queued.
	queued := sendingWith(t, s, dispatcher.DeliveryQueued, ana, "bob@example.org")
	if !strings.Contains(strings.ToLower(dumpRedis(t, c)), ana) {
		t.Fatal("the set-up put the address nowhere")
	}

	er, err := s.Erase(ctx, ana)
	if err != nil {
		t.Fatal(err)
	}
	if er.Lists != 2 || er.Suppressed != 1 || er.Redacted != 4 || er.Sending != 0 {
		t.Errorf("Erase = %+v, want 2 lists, 1 suppressed, 4 redacted (one archived)", er)
	}
	assertForgotten(t, c, ana)

	// The archived release answers as before, ana's delivery redacted
	// like a live one, its counts the same; its failure log keeps carl's.
	if d := deliveryTo(t, s, arch, ana); d.Status != dispatcher.DeliveryFailed || d.Recipient != deliveryTo(t, s, queued, ana).Recipient ||
		d.Name != "" || !strings.Contains(d.LastError, d.Recipient) || len(d.MessageIDs) != 0 {
		t.Errorf("the archived delivery = %+v; want failed, to the hash, no name, the hash in its error", d)
	}
	if d := deliveryTo(t, s, arch, "bob@example.org"); d.Recipient != "bob@example.org" || d.Name != "Name of bob@example.org" || d.Status != dispatcher.DeliverySent {
		t.Errorf("bob's archived delivery = %+v; want it untouched", d)
	}
	if rel, err := s.Release(ctx, arch); err != nil || !maps.Equal(rel.Counts.ByStatus, archRel.Counts.ByStatus) || rel.Counts.Total != 3 || rel.ArchivedAt == nil {
		t.Errorf("archived release = %+v, %v; want it archived, counts %v", rel, err, archRel.Counts.ByStatus)
	}
	if ds, _, err := s.Deliveries(ctx, arch, dispatcher.DeliveryFilter{}, "", 100); err != nil || len(ds) != 3 {
		t.Errorf("archived deliveries = %d, %v; want 3", len(ds), err)
	}
	if log, err := s.FailureLog(ctx, arch, "", 100); err != nil || len(log) != 1 || log[0].Delivery.Recipient != "carl@example.org" {
		t.Errorf("failure log of the archived release = %+v, %v; want carl's alone", log, err)
	}

	// Only the keyed hash remains, and it suppresses the address.
	if n, err := c.HLen(ctx, "pregon:erased").Result(); err != nil || n != 1 {
		t.Errorf("pregon:erased holds %d, %v; want 1", n, err)
	}
	sup, err := s.Suppressed(ctx, []string{ana, "bob@example.org"})
	if err != nil || !sup[0] || sup[1] {
		t.Errorf("Suppressed = %v, %v; want [true false]", sup, err)
	}
	why, err := s.SuppressionOf(ctx, ana)
	if err != nil || why.Reason != dispatcher.ReasonErased || why.At.IsZero() {
		t.Errorf("SuppressionOf = %+v, %v; want erased, with a time", why, err)
	}
	page, _, err := s.Suppressions(ctx, "", 100)
	if err != nil || len(page) != 0 {
		t.Errorf("Suppressions = %+v, %v; want none listed", page, err)
	}
	d := deliveryTo(t, s, queued, ana)
	if d.Status != dispatcher.DeliverySuppressed || !strings.HasPrefix(d.Recipient, "hmac-sha256:") || d.Name != "" {
		t.Errorf("the queued delivery = %+v; want suppressed, to the hash, no name", d)
	}
	rel, err := s.Release(ctx, queued)
	if err != nil || rel.Counts.ByStatus[dispatcher.DeliverySuppressed] != 1 || rel.Counts.ByStatus[dispatcher.DeliveryQueued] != 1 {
		t.Errorf("counts of the sending release = %+v, %v; want 1 suppressed, bob's still queued", rel.Counts.ByStatus, err)
	}
	if d := deliveryTo(t, s, failed, ana); d.Status != dispatcher.DeliveryFailed || d.Recipient != deliveryTo(t, s, queued, ana).Recipient {
		t.Errorf("the failed delivery = %+v; want failed, to the same hash", d)
	}
	// A retry of the failed release does not mail it: the claim suppresses
	// a recipient redacted to its hash.
	if _, err := s.SetReleaseStatus(ctx, failed, dispatcher.ReleaseSending, dispatcher.ReleaseSentWithFailures); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Transition(ctx, failed, []string{fid}, dispatcher.DeliveryQueued, dispatcher.DeliveryFailed); err != nil {
		t.Fatal(err)
	}
	if cl, _, err := s.ClaimDeliveries(ctx, failed, []string{fid}, time.Now().Add(-time.Minute)); err != nil || len(cl) != 0 {
		t.Errorf("claim of the retried delivery = %+v, %v; want none", cl, err)
	}
	if d := deliveryTo(t, s, failed, ana); d.Status != dispatcher.DeliverySuppressed {
		t.Errorf("retried delivery = %s, want suppressed", d.Status)
	}

	// What comes back later about the address stores nothing: a late
	// unsubscribe, a bounce, a sign-up.
	if err := s.Suppress(ctx, ana, "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	for _, k := range []dispatcher.BounceKind{dispatcher.BounceSoft, dispatcher.BounceHard} {
		if _, err := s.RecordBounce(ctx, dispatcher.BounceEvent{Kind: k, Email: ana, Source: "ses"}); err != nil {
			t.Fatal(err)
		}
	}
	if out, err := s.Subscribe(ctx, subs.ID, dispatcher.Contact{Email: ana, Name: "Ana"}); err != nil || out != dispatcher.SubscribeSuppressed {
		t.Errorf("Subscribe after erasure = %v, %v; want SubscribeSuppressed", out, err)
	}
	assertForgotten(t, c, ana)
}

// TestImportRefusesErased: an import names an erased address; its row is
// not written, and the report gives reason erased.
func TestImportRefusesErased(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	const ana = "ana@example.org"
	if _, err := s.Erase(ctx, ana); err != nil {
		t.Fatal(err)
	}
	added, updated, sup, err := s.ImportContacts(ctx, l.ID, []dispatcher.Contact{{Email: ana, Name: "Ana"}, {Email: "bob@example.org"}})
	if err != nil || added != 1 || updated != 0 || sup[ana] != string(dispatcher.ReasonErased) || len(sup) != 1 {
		t.Fatalf("ImportContacts = %d, %d, %v, %v; want 1 added, ana refused as erased", added, updated, sup, err)
	}
	assertForgotten(t, c, ana)

	// Lifted by an admin: the address may be imported again.
	was, err := s.LiftSuppression(ctx, ana)
	if err != nil || was.Reason != dispatcher.ReasonErased {
		t.Fatalf("LiftSuppression = %+v, %v; want the erasure", was, err)
	}
	if _, err := s.LiftSuppression(ctx, ana); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("second lift: %v, want ErrNotFound", err)
	}
	added, _, sup, err = s.ImportContacts(ctx, l.ID, []dispatcher.Contact{{Email: ana}})
	if err != nil || added != 1 || len(sup) != 0 {
		t.Fatalf("import after the lift = %d, %v, %v; want it added", added, sup, err)
	}
}

// TestEraseRacesImport erases an address while imports that name it run
// without pause: once both are done, the address is nowhere.
func TestEraseRacesImport(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	const ana = "ana@example.org"
	var lists []string
	for i := range 3 {
		l := &dispatcher.List{Name: fmt.Sprint("l", i), Kind: dispatcher.ListPress}
		if err := s.CreateList(ctx, l); err != nil {
			t.Fatal(err)
		}
		lists = append(lists, l.ID)
	}
	rows := []dispatcher.Contact{{Email: ana, Name: "Ana", Outlet: "X"}}
	for i := range 300 {
		rows = append(rows, dispatcher.Contact{Email: fmt.Sprintf("p%03d@example.org", i)})
	}
	for round := range 5 {
		if _, err := s.LiftSuppression(ctx, ana); err != nil && !errors.Is(err, dispatcher.ErrNotFound) {
			t.Fatal(err)
		}
		stop := make(chan struct{})
		started := make(chan struct{}, len(lists))
		var wg sync.WaitGroup
		errs := make(chan error, len(lists))
		for _, id := range lists {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for n := 0; ; n++ {
					if _, _, _, err := s.ImportContacts(ctx, id, rows); err != nil {
						errs <- err
						return
					}
					if n == 0 {
						started <- struct{}{}
					}
					select {
					case <-stop:
						return
					default:
					}
				}
			}()
		}
		for range lists {
			<-started // every list holds ana before the erasure
		}
		if _, err := s.Erase(ctx, ana); err != nil {
			t.Fatal(err)
		}
		// Imports go on after the erasure, and must refuse the row.
		for _, id := range lists {
			_, _, sup, err := s.ImportContacts(ctx, id, rows[:2])
			if err != nil || sup[ana] != string(dispatcher.ReasonErased) {
				t.Fatalf("round %d: import after erasure = %v, %v", round, sup, err)
			}
		}
		close(stop)
		wg.Wait()
		close(errs)
		for err := range errs {
			t.Fatal(err)
		}
		assertForgotten(t, c, ana)
	}
}

// TestClaimSuppressesErased: a delivery to an address erased after its
// release was planned (the plan read the lists before the erasure) is not
// claimed but recorded suppressed, and its record keeps only the hash.
func TestClaimSuppressesErased(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	const ana = "ana@example.org"
	if _, err := s.Erase(ctx, ana); err != nil {
		t.Fatal(err)
	}
	rid := sendingWith(t, s, dispatcher.DeliveryQueued, ana, "bob@example.org")
	ids := []string{dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, ana), dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, "bob@example.org")}
	claimed, busy, err := s.ClaimDeliveries(ctx, rid, ids, time.Now().Add(-time.Minute))
	if err != nil || len(busy) != 0 || len(claimed) != 1 || claimed[0].Recipient != "bob@example.org" {
		t.Fatalf("claim = %+v, %v, %v; want bob's alone", claimed, busy, err)
	}
	d := deliveryTo(t, s, rid, ana)
	if d.Status != dispatcher.DeliverySuppressed || !strings.HasPrefix(d.Recipient, "hmac-sha256:") {
		t.Errorf("ana's delivery = %+v; want suppressed, to the hash", d)
	}
	rel, err := s.Release(ctx, rid)
	if err != nil || rel.Counts.ByStatus[dispatcher.DeliverySuppressed] != 1 || rel.Counts.ByStatus[dispatcher.DeliverySending] != 1 {
		t.Errorf("counts = %+v, %v; want 1 suppressed, 1 sending", rel.Counts.ByStatus, err)
	}
	assertForgotten(t, c, ana)
}

// TestErasureKeyChanged: a store keyed with another secret finds that the
// erased hashes were not made with its key.
func TestErasureKeyChanged(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	if err := s.CheckErasureKey(ctx); err != nil {
		t.Fatalf("first check: %v", err)
	}
	if _, err := s.Erase(ctx, "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	same := store.New(c, nil)
	same.SetErasureSecret([]byte(eraseSecret))
	if err := same.CheckErasureKey(ctx); err != nil {
		t.Errorf("same secret: %v", err)
	}
	other := store.New(c, nil)
	other.SetErasureSecret([]byte("another-secret-0123456789"))
	if err := other.CheckErasureKey(ctx); !errors.Is(err, store.ErrErasureKeyChanged) {
		t.Errorf("other secret: %v, want ErrErasureKeyChanged", err)
	}
	if sup, err := other.Suppressed(ctx, []string{"ana@example.org"}); err != nil || sup[0] {
		t.Errorf("other secret: Suppressed = %v, %v (the hashes cannot match)", sup, err)
	}
	if _, err := store.New(c, nil).Erase(ctx, "bob@example.org"); !errors.Is(err, store.ErrNoErasureKey) {
		t.Errorf("no key: Erase = %v, want ErrNoErasureKey", err)
	}
}

// TestEraseWhileSending: a delivery a worker is sending when its address is
// erased is left alone (counted as sending); when its worker is gone and
// another takes it over, the claim finds the address erased and records it
// suppressed rather than sending it again.
func TestEraseWhileSending(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	const ana = "ana@example.org"
	rid := sendingWith(t, s, dispatcher.DeliveryQueued, ana)
	id := dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, ana)
	if cl, _, err := s.ClaimDeliveries(ctx, rid, []string{id}, time.Now().Add(-time.Minute)); err != nil || len(cl) != 1 {
		t.Fatalf("claim = %v, %v", cl, err)
	}
	er, err := s.Erase(ctx, ana)
	if err != nil || er.Sending != 1 || er.Redacted != 0 {
		t.Fatalf("Erase = %+v, %v; want 1 sending", er, err)
	}
	// The worker died: its claim is stale, and another worker takes it.
	cl, busy, err := s.ClaimDeliveries(ctx, rid, []string{id}, time.Now().Add(time.Minute))
	if err != nil || len(cl) != 0 || len(busy) != 0 {
		t.Fatalf("takeover = %+v, %+v, %v; want nothing to send", cl, busy, err)
	}
	if d := deliveryTo(t, s, rid, ana); d.Status != dispatcher.DeliverySuppressed || !strings.HasPrefix(d.Recipient, "hmac-sha256:") {
		t.Errorf("delivery = %+v, want suppressed and redacted", d)
	}
	assertForgotten(t, c, ana)
}
