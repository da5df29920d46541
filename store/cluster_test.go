package store_test

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/webhooks"
)

// TestStoreOnRedisCluster runs the store's paths (a release's whole life:
// creation, scheduling, sending, claims, outcomes with a retry, a failure
// and a hard bounce, the coordinator's retry, a Telegram resume, renewal,
// cancelling, editing, correcting, archiving; and the global data: lists,
// contacts, suppressions, tokens, audit, leases, idempotency keys, test
// sends) on a real Redis Cluster of three masters, through a client on
// which a script touching a key it did not declare in KEYS fails
// (redistest.StrictClient), as a CROSSSLOT error does. Every call must
// succeed, and its result must be what it is on one Redis.
func TestStoreOnRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	ctx := context.Background()
	s := store.New(cl.StrictClient(t), nil)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
	}

	// Global data.
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	must("create list", s.CreateList(ctx, l))
	_, _, err := s.UpsertContacts(ctx, l.ID, []dispatcher.Contact{{Email: "a@x.org"}, {Email: "b@x.org"}, {Email: "gone@x.org"}})
	must("upsert contacts", err)
	must("suppress", s.Suppress(ctx, "later@x.org", "unsubscribed"))
	tok := &auth.Token{Name: "t", Role: auth.RoleAdmin}
	must("create token", s.CreateToken(ctx, "hash1", tok))
	_, err = s.Token(ctx, "hash1")
	must("token", err)

	// A release: sending, four email deliveries and one Telegram post.
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	must("create release", s.CreateRelease(ctx, r))
	rid := r.ID
	st, err := s.SetReleaseStatus(ctx, rid, dispatcher.ReleaseSending, dispatcher.ReleaseDraft)
	must("set status", err)
	if st != dispatcher.ReleaseSending {
		t.Fatalf("status = %s", st)
	}
	must("mark active", s.MarkActive(ctx, rid))
	var ds []*dispatcher.Delivery
	for _, a := range []string{"a@x.org", "b@x.org", "gone@x.org", "later@x.org"} {
		ds = append(ds, &dispatcher.Delivery{ID: "e-" + strings.Split(a, "@")[0], Channel: dispatcher.ChannelEmail, Recipient: a, Status: dispatcher.DeliveryQueued})
	}
	ds = append(ds, &dispatcher.Delivery{ID: "tg", Channel: dispatcher.ChannelTelegram, Recipient: "@canal", Status: dispatcher.DeliveryQueued})
	_, err = s.CreateDeliveries(ctx, rid, ds)
	must("create deliveries", err)
	_, err = s.SnapshotDone(ctx, rid)
	must("snapshot done", err)

	const worker = "host:1:abc"
	must("heartbeat", s.Heartbeat(ctx, worker, time.Minute))
	stale := time.Now().Add(-time.Hour)
	claimed, _, err := s.FinishAndClaimBy(ctx, rid, worker, nil, []string{"e-a", "e-b", "e-gone", "e-later", "tg"}, stale)
	must("claim", err)
	if len(claimed) != 4 {
		t.Fatalf("claimed %d, want 4: later@ is suppressed", len(claimed))
	}
	at := map[string]time.Time{}
	for _, c := range claimed {
		at[c.ID] = c.ClaimedAt
	}
	_, _, err = s.RenewClaim(ctx, rid, "e-a", at["e-a"])
	must("renew claim", err)
	outs := []dispatcher.Outcome{
		{ID: "e-a", Status: dispatcher.DeliverySent, MessageIDs: []string{"<1@x>"}},
		{ID: "e-b", Status: dispatcher.DeliveryRetrying, Error: "451 later", RetryAt: time.Now()},
		{ID: "e-gone", Status: dispatcher.DeliveryFailed, Error: "550 no such user",
			Bounce: &dispatcher.Bounce{Kind: dispatcher.BounceHard, Source: "rcpt"}},
		{ID: "tg", Status: dispatcher.DeliveryUncertain, Error: "timeout", Parts: 2, MessageIDs: []string{"5"}},
	}
	again, _, err := s.FinishAndClaimBy(ctx, rid, worker, outs, []string{"e-b"}, stale)
	must("finish and claim", err)
	if len(again) != 1 {
		t.Fatalf("claimed again %d, want e-b", len(again))
	}
	_, _, err = s.FinishAndClaimBy(ctx, rid, worker, []dispatcher.Outcome{{ID: "e-b", Status: dispatcher.DeliverySent, MessageIDs: []string{"<2@x>"}}}, nil, stale)
	must("finish", err)
	rel, err := s.Release(ctx, rid)
	must("release", err)
	if rel.Status != dispatcher.ReleaseSentWithFailures {
		t.Fatalf("release is %s, want sent_with_failures", rel.Status)
	}
	sup, err := s.Suppressed(ctx, []string{"gone@x.org"})
	must("suppressed", err)
	if !sup[0] {
		t.Errorf("the hard bounce did not suppress gone@x.org")
	}
	listed, _, err := s.Releases(ctx, dispatcher.ReleaseSentWithFailures, "", 10, false, 0)
	must("releases by status", err)
	if len(listed) != 1 || listed[0].ID != rid {
		t.Errorf("releases sent_with_failures = %v, want %s", listed, rid)
	}
	// The Telegram post resumes; the coordinator retries the failed email.
	must("resume", s.ResumeDelivery(ctx, rid, "tg"))
	_, err = s.RequeueFailed(ctx, rid, []string{"e-gone"})
	must("requeue failed", err)
	_, err = s.Transition(ctx, rid, []string{"e-b"}, dispatcher.DeliveryCancelled, dispatcher.DeliveryQueued) // sent: moves nothing
	must("transition", err)
	claimed, _, err = s.FinishAndClaimBy(ctx, rid, worker, nil, []string{"e-gone", "tg"}, stale)
	must("claim again", err)
	// gone@ is suppressed since its hard bounce: handed back as such.
	if len(claimed) != 1 || claimed[0].ID != "tg" {
		t.Fatalf("claimed %v after the retry and the resume, want tg alone", claimed)
	}
	_, _, err = s.FinishAndClaimBy(ctx, rid, worker, []dispatcher.Outcome{
		{ID: "tg", Status: dispatcher.DeliverySent, MessageIDs: []string{"5", "6"}, Parts: 2}}, nil, stale)
	must("finish again", err)
	rel, err = s.Release(ctx, rid)
	must("release", err)
	if rel.Status != dispatcher.ReleaseSent {
		t.Errorf("release is %s, want sent", rel.Status)
	}
	listed, _, err = s.Releases(ctx, dispatcher.ReleaseSent, "", 10, false, 0)
	must("releases by status", err)
	if len(listed) != 1 || listed[0].ID != rid {
		t.Errorf("releases sent = %v, want %s", listed, rid)
	}
	if listed, _, _ = s.Releases(ctx, dispatcher.ReleaseSentWithFailures, "", 10, false, 0); len(listed) != 0 {
		t.Errorf("releases sent_with_failures = %v, want none", listed)
	}
	_, err = s.Activity(ctx, rid)
	must("activity", err)
	dl, _, err := s.Deliveries(ctx, rid, dispatcher.DeliveryFilter{}, "", 10)
	must("deliveries", err)
	got := map[string]dispatcher.DeliveryStatus{}
	for _, d := range dl {
		got[d.ID] = d.Status
	}
	want := map[string]dispatcher.DeliveryStatus{"e-a": dispatcher.DeliverySent, "e-b": dispatcher.DeliverySent,
		"e-gone": dispatcher.DeliverySuppressed, "e-later": dispatcher.DeliverySuppressed, "tg": dispatcher.DeliverySent}
	for id, st := range want {
		if got[id] != st {
			t.Errorf("delivery %s is %s, want %s", id, got[id], st)
		}
	}
	_, err = s.ArchiveRelease(ctx, rid)
	must("archive", err)

	must("revoke token", s.RevokeToken(ctx, tok.ID))
}

// TestStoreGlobalOnRedisCluster runs the store's paths on its global data
// (lists and members, sign-ups, suppressions, bounces, tokens, users and
// sessions, Telegram channels and followers, webhooks, idempotency keys,
// leases, the audit log, test sends, edits, approvals and corrections) on a
// real Redis Cluster through the strict client: no call may fail with
// CROSSSLOT or an undeclared key.
func TestStoreGlobalOnRedisCluster(t *testing.T) {
	cl := redistest.StartCluster(t)
	ctx := context.Background()
	s := store.New(cl.StrictClient(t), nil)
	must := func(what string, err error) {
		t.Helper()
		if err != nil {
			t.Errorf("%s: %v", what, err)
		}
	}
	l := &dispatcher.List{Name: "Suscriptores", Kind: dispatcher.ListSubscribers}
	must("create list", s.CreateList(ctx, l))
	_, _, _, err := s.ImportContacts(ctx, l.ID, []dispatcher.Contact{{Email: "a@x.org", Name: "A"}, {Email: "b@x.org"}})
	must("import contacts", err)
	_, err = s.Subscribe(ctx, l.ID, dispatcher.Contact{Email: "new@x.org", Name: "N", Language: "es"})
	must("subscribe", err)
	_, err = s.ConfirmMember(ctx, l.ID, "new@x.org")
	must("confirm member", err)
	_, err = s.TakeConfirmationMail(ctx, "new@x.org", 3, time.Hour)
	must("take confirmation mail", err)
	_, _, err = s.Members(ctx, l.ID, "", 10)
	must("members", err)
	_, _, err = s.ListMembers(ctx, l.ID, "", "", 10)
	must("list members", err)
	must("remove contact", s.RemoveContact(ctx, l.ID, "b@x.org"))
	_, _, err = s.Lists(ctx, "", 10)
	must("lists", err)

	must("add suppression", s.AddSuppression(ctx, dispatcher.Suppression{Email: "a@x.org", Reason: "complaint", Source: "ses"}, false))
	_, _, err = s.Suppressions(ctx, "", 10)
	must("suppressions", err)
	_, err = s.LiftSuppression(ctx, "a@x.org")
	must("lift suppression", err)

	tok := &auth.Token{Name: "t", Role: auth.RoleViewer}
	must("create token", s.CreateToken(ctx, "h", tok))
	must("touch token", s.TouchToken(ctx, "h", time.Now()))
	_, err = s.Tokens(ctx)
	must("tokens", err)
	must("revoke token", s.RevokeToken(ctx, tok.ID))

	u := &auth.User{Email: "ed@x.org", Name: "Ed", Role: auth.RoleAdmin, PasswordHash: "x"}
	must("create user", s.CreateUser(ctx, u))
	must("disable user", s.SetUserDisabled(ctx, u.Email, true))
	must("set password", s.SetUserPassword(ctx, u.Email, "y"))
	must("create session", s.CreateSession(ctx, "sh", &store.Session{Email: u.Email, CSRF: "c"}, time.Hour))
	must("delete session", s.DeleteSession(ctx, "sh"))

	ch := &dispatcher.TelegramChannel{ChatID: "@canal", Title: "Canal", Language: "es"}
	must("create channel", s.CreateChannel(ctx, ch))
	_, err = s.MarkChannelUnavailable(ctx, "@canal", "kicked", time.Now())
	must("mark unavailable", err)
	_, _, err = s.EnableChannel(ctx, ch.ID)
	must("enable channel", err)
	_, _, err = s.MigrateChat(ctx, "@canal", "-1001234")
	must("migrate chat", err)
	_, _, err = s.FoundChannel(ctx, "-100999", "otro", "Otro")
	must("found channel", err)
	_, err = s.AddFollower(ctx, "42", "es")
	must("add follower", err)
	must("set follower language", s.SetFollowerLanguage(ctx, "42", "en"))
	_, err = s.RemoveFollower(ctx, "42")
	must("remove follower", err)
	ok, err := s.AcquireUpdatesLease(ctx, "me", time.Minute)
	must("acquire updates lease", err)
	if ok {
		_, err = s.SetUpdatesOffset(ctx, "me", 7)
		must("set updates offset", err)
	}
	must("release updates lease", s.ReleaseUpdatesLease(ctx, "me"))

	w := &webhooks.Webhook{URL: "https://example.org/hook", Events: []string{"*"}}
	must("create webhook", s.CreateWebhook(ctx, w))
	_, err = s.RecordAttempt(ctx, w.ID, webhooks.Attempt{At: time.Now(), EventID: "e1", EventType: "release.sent", Try: 1, StatusCode: 500}, 10, time.Hour, "failing")
	must("record attempt", err)
	_, err = s.EnableWebhook(ctx, w.ID)
	must("enable webhook", err)
	must("delete webhook", s.DeleteWebhook(ctx, w.ID))

	key := strings.Repeat("ab", 32)
	_, _, _, err = s.ClaimIdempotencyKey(ctx, key, "fp", "me", time.Minute)
	must("claim idempotency key", err)
	must("finish idempotency key", s.FinishIdempotencyKey(ctx, key, "me", "rel_x", 201, time.Hour))
	_, err = s.AcquireLease(ctx, "archiver", "me", time.Minute)
	must("acquire lease", err)
	must("release lease", s.ReleaseLease(ctx, "archiver", "me"))
	_, _, err = s.SharedSecret(ctx)
	must("shared secret", err)

	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es", Author: "ana"}
	must("create release", s.CreateRelease(ctx, r))
	must("audit", s.AppendAudit(ctx, &audit.Entry{Actor: "ana", Action: "release.create", Target: r.ID, Client: "local"}))
	_, err = s.AuditEntries(ctx, audit.Query{Limit: 10})
	must("audit entries", err)
	ed := *r
	ed.Title = "t2"
	_, err = s.EditRelease(ctx, &dispatcher.Edit{Release: &ed, Base: 1})
	must("edit release", err)
	_, err = s.ApproveRelease(ctx, r.ID, 2, "bea")
	must("approve release", err)
	ts := &dispatcher.TestSend{ReleaseID: r.ID, Version: 2}
	must("create test send", s.CreateTest(ctx, ts, time.Hour))
	_, err = s.Test(ctx, ts.ID)
	must("test send", err)
	_, _, err = s.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, false, 0)
	must("schedule", err)
	_, err = s.SetSchedule(ctx, r.ID, time.Now().Add(2*time.Hour), false)
	must("set schedule", err)
	listed, _, err := s.Releases(ctx, dispatcher.ReleaseScheduled, "", 10, false, 0)
	must("releases", err)
	if len(listed) != 1 || listed[0].ID != r.ID {
		t.Errorf("scheduled releases = %v, want %s", listed, r.ID)
	}
	_, err = s.RecordBounce(ctx, dispatcher.BounceEvent{Kind: dispatcher.BounceHard, Email: "a@x.org", MessageID: "<d.rel_x@x>", At: time.Now(), Source: "ses"})
	must("record bounce", err)
}
