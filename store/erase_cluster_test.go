package store_test

import (
	"context"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

// TestEraseOnRedisCluster erases an address on a real Redis Cluster of
// three masters through the strict client (a script touching a key it did
// not declare fails): the address is on two lists, pending on one,
// suppressed, soft-bounced, the recipient of a failed delivery (in the
// failure log), of a failed one in a release archived since, and of a
// queued one in a release that is sending, and of one being sent that a
// worker then takes over. Afterwards no node holds
// it, the queued delivery is suppressed, the taken-over one is handed back
// suppressed and redacted, an import refuses the row, and a sign-up, a
// suppression and a soft bounce store nothing.
func TestEraseOnRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	ctx := context.Background()
	cc := cl.StrictClient(t)
	s := store.New(cc, nil)
	s.SetErasureSecret([]byte(eraseSecret))
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}
	const ana = "ana.erased@example.org"
	must("check key", s.CheckErasureKey(ctx))
	press := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	subs := &dispatcher.List{Name: "Boletín", Kind: dispatcher.ListSubscribers}
	must("create list", s.CreateList(ctx, press))
	must("create list", s.CreateList(ctx, subs))
	_, _, _, err := s.ImportContacts(ctx, press.ID, []dispatcher.Contact{{Email: ana, Name: "Ana", Outlet: "El Diario"}, {Email: "bob@example.org"}})
	must("import", err)
	out, err := s.Subscribe(ctx, subs.ID, dispatcher.Contact{Email: ana, Name: "Ana"})
	must("subscribe", err)
	if out != dispatcher.SubscribeAdded {
		t.Fatalf("Subscribe = %v", out)
	}
	_, err = s.TakeConfirmationMail(ctx, ana, 3, time.Hour)
	must("take confirmation mail", err)
	_, err = s.RecordBounce(ctx, dispatcher.BounceEvent{Kind: dispatcher.BounceSoft, Email: ana, Source: "ses"})
	must("soft bounce", err)

	// An archived release that delivered to ana and bob; ana's failed.
	arch := archivedTo(t, s, []string{ana, "bob@example.org"}, ana)

	// A failed delivery to ana, in its release's failure log.
	failed := sendingWith(t, s, dispatcher.DeliveryQueued, ana)
	fid := dispatcher.DeliveryID(failed, dispatcher.ChannelEmail, ana)
	cl1, _, err := s.ClaimDeliveries(ctx, failed, []string{fid}, time.Now().Add(-time.Minute))
	must("claim", err)
	if len(cl1) != 1 {
		t.Fatalf("claimed %d, want 1", len(cl1))
	}
	must("finish", s.FinishDeliveries(ctx, failed, []dispatcher.Outcome{{ID: fid, Status: dispatcher.DeliveryFailed, Error: "550 no mailbox " + ana}}))
	// One being sent, whose worker will be gone.
	sending := sendingWith(t, s, dispatcher.DeliveryQueued, ana)
	sid := dispatcher.DeliveryID(sending, dispatcher.ChannelEmail, ana)
	cl2, _, err := s.ClaimDeliveries(ctx, sending, []string{sid}, time.Now().Add(-time.Minute))
	must("claim", err)
	if len(cl2) != 1 {
		t.Fatalf("claimed %d, want 1", len(cl2))
	}
	must("suppress", s.Suppress(ctx, ana, "unsubscribed"))
	// One queued, beside bob's.
	queued := sendingWith(t, s, dispatcher.DeliveryQueued, ana, "bob@example.org")

	er, err := s.Erase(ctx, ana)
	must("erase", err)
	if er.Lists != 2 || er.Suppressed != 1 || er.Redacted != 3 || er.Sending != 1 {
		t.Errorf("Erase = %+v, want 2 lists, 1 suppressed, 3 redacted (one archived), 1 sending", er)
	}
	if d := deliveryTo(t, s, arch, ana); d.Status != dispatcher.DeliveryFailed || !strings.HasPrefix(d.Recipient, "hmac-sha256:") || d.Name != "" {
		t.Errorf("archived delivery = %+v, want failed, to the hash", d)
	}
	if d := deliveryTo(t, s, queued, ana); d.Status != dispatcher.DeliverySuppressed || !strings.HasPrefix(d.Recipient, "hmac-sha256:") {
		t.Errorf("queued delivery = %+v, want suppressed, to the hash", d)
	}
	if d := deliveryTo(t, s, failed, ana); d.Status != dispatcher.DeliveryFailed || (strings.Contains(d.LastError, ana) || !strings.Contains(d.LastError, "hmac-sha256:")) {
		t.Errorf("failed delivery = %+v, want failed, its error redacted", d)
	}
	// The worker died: another takes the delivery over, and the check
	// after the claim hands it back suppressed, which ends its release.
	_, err = s.SnapshotDone(ctx, sending)
	must("snapshot done", err)
	cl3, busy, err := s.ClaimDeliveries(ctx, sending, []string{sid}, time.Now().Add(time.Minute))
	must("takeover", err)
	if len(cl3) != 0 || len(busy) != 0 {
		t.Errorf("takeover = %+v, %+v; want nothing to send", cl3, busy)
	}
	if d := deliveryTo(t, s, sending, ana); d.Status != dispatcher.DeliverySuppressed || !strings.HasPrefix(d.Recipient, "hmac-sha256:") {
		t.Errorf("taken-over delivery = %+v, want suppressed and redacted", d)
	}
	rel, err := s.Release(ctx, sending)
	must("release", err)
	if rel.Status != dispatcher.ReleaseSent {
		t.Errorf("release of the taken-over delivery is %s, want sent (its only delivery is final)", rel.Status)
	}
	listed, _, err := s.Releases(ctx, dispatcher.ReleaseSent, "", 10, false, 0)
	must("releases sent", err)
	if len(listed) != 1 || listed[0].ID != sending {
		t.Errorf("releases sent = %v, want %s alone", listed, sending)
	}

	// Later writes about the address store nothing.
	_, _, sup, err := s.ImportContacts(ctx, press.ID, []dispatcher.Contact{{Email: ana}, {Email: "carla@example.org"}})
	must("import after erasure", err)
	if sup[ana] != string(dispatcher.ReasonErased) {
		t.Errorf("import after erasure: %v, want ana refused as erased", sup)
	}
	out, err = s.Subscribe(ctx, subs.ID, dispatcher.Contact{Email: ana})
	must("subscribe after erasure", err)
	if out != dispatcher.SubscribeSuppressed {
		t.Errorf("Subscribe after erasure = %v, want SubscribeSuppressed", out)
	}
	must("suppress after erasure", s.Suppress(ctx, ana, "unsubscribed"))
	_, err = s.RecordBounce(ctx, dispatcher.BounceEvent{Kind: dispatcher.BounceSoft, Email: ana, Source: "ses"})
	must("soft bounce after erasure", err)
	why, err := s.SuppressionOf(ctx, ana)
	must("suppression of", err)
	if why.Reason != dispatcher.ReasonErased {
		t.Errorf("SuppressionOf = %+v, want erased", why)
	}
	assertClusterForgotten(t, cc, ana)

	// Lifted by an admin: it may be imported again.
	_, err = s.LiftSuppression(ctx, ana)
	must("lift", err)
	_, _, sup, err = s.ImportContacts(ctx, press.ID, []dispatcher.Contact{{Email: ana}})
	must("import after the lift", err)
	if len(sup) != 0 {
		t.Errorf("import after the lift: %v, want it written", sup)
	}
}

// assertClusterForgotten fails when any master of the cluster holds email
// in any form.
func assertClusterForgotten(t *testing.T, cc *redis.ClusterClient, email string) {
	t.Helper()
	var mu sync.Mutex
	var nodes []*redis.Client
	err := cc.ForEachMaster(context.Background(), func(ctx context.Context, c *redis.Client) error {
		mu.Lock()
		defer mu.Unlock()
		nodes = append(nodes, c)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	var dump strings.Builder
	for _, c := range nodes {
		dump.WriteString(dumpRedis(t, c))
	}
	all := strings.ToLower(dump.String())
	for _, f := range forms(email) {
		if i := strings.Index(all, f); i >= 0 {
			t.Errorf("the cluster still holds %q: %s", f, all[max(0, i-80):min(len(all), i+80)])
		}
	}
}
