package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// newSuppressionAPI is a redisAPI that serves the suppression endpoints, with
// an admin token.
func newSuppressionAPI(t *testing.T) *redisAPI {
	t.Helper()
	a := newRedisAPI(t, func(c *Config) {
		c.Suppressions = c.Store.(SuppressionStore)
		c.EmailHasher = auditHasher(t)
	})
	if err := a.store.CreateToken(context.Background(), auth.Hash(adminToken), &auth.Token{Name: "root", Role: auth.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestSuppressionsListAndLift: the unsubscribe link's suppression and a hard
// bounce's are listed to an admin with their reason, time and source, a page
// at a time; no one else sees an address; an admin lifts one, which is an
// audit entry, and a second lift is a 404.
func TestSuppressionsListAndLift(t *testing.T) {
	a := newSuppressionAPI(t)
	ctx := context.Background()
	bounced := time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)
	if err := a.store.Suppress(ctx, "ana@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	if err := a.store.AddSuppression(ctx, dispatcher.Suppression{Email: "gone@example.org", Reason: dispatcher.ReasonHardBounce, At: bounced, Source: "rcpt"}, false); err != nil {
		t.Fatal(err)
	}

	for _, tok := range []string{"", coordToken, viewerToken} {
		w := a.do("GET", "/v1/suppressions", tok, "")
		if w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden {
			t.Errorf("GET /v1/suppressions with token %q: %d, want 401 or 403", tok, w.Code)
		}
		if strings.Contains(w.Body.String(), "@example.org") {
			t.Errorf("GET /v1/suppressions with token %q leaked an address: %s", tok, w.Body)
		}
		if w := a.do("DELETE", "/v1/suppressions/gone@example.org", tok, ""); w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden {
			t.Errorf("DELETE with token %q: %d, want 401 or 403", tok, w.Code)
		}
	}

	page := func(query string) Page[dispatcher.Suppression] {
		t.Helper()
		w := a.do("GET", "/v1/suppressions"+query, adminToken, "")
		if w.Code != http.StatusOK {
			t.Fatalf("GET /v1/suppressions%s: %d %s", query, w.Code, w.Body)
		}
		var p Page[dispatcher.Suppression]
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		return p
	}
	p1 := page("?limit=1")
	if len(p1.Items) != 1 || p1.Items[0].Email != "ana@example.org" || p1.Items[0].Reason != dispatcher.ReasonUnsubscribed ||
		p1.Items[0].Source != "unsubscribe" || p1.Items[0].At.IsZero() || p1.NextCursor == "" {
		t.Fatalf("first page = %+v", p1)
	}
	p2 := page("?limit=1&cursor=" + p1.NextCursor)
	want := dispatcher.Suppression{Email: "gone@example.org", Reason: dispatcher.ReasonHardBounce, At: bounced, Source: "rcpt"}
	if len(p2.Items) != 1 || p2.Items[0] != want || p2.NextCursor != "" {
		t.Fatalf("second page = %+v, want %+v and no more", p2, want)
	}

	w := a.do("DELETE", "/v1/suppressions/Gone@Example.org", adminToken, "")
	if w.Code != http.StatusOK {
		t.Fatalf("lift: %d %s", w.Code, w.Body)
	}
	if ok, _ := a.store.Suppressed(ctx, []string{"gone@example.org"}); ok[0] {
		t.Errorf("a lifted address is still suppressed")
	}
	if w := a.do("DELETE", "/v1/suppressions/gone@example.org", adminToken, ""); w.Code != http.StatusNotFound {
		t.Errorf("second lift: %d, want 404", w.Code)
	}
	if w := a.do("DELETE", "/v1/suppressions/not-an-address", adminToken, ""); w.Code != http.StatusBadRequest {
		t.Errorf("lift of a non-address: %d, want 400", w.Code)
	}
	if p := page(""); len(p.Items) != 1 || p.Items[0].Email != "ana@example.org" {
		t.Errorf("after the lift: %+v", p.Items)
	}
	log, err := a.store.AuditEntries(ctx, audit.Query{Limit: 10})
	if err != nil {
		t.Fatal(err)
	}
	var lifts []*audit.Entry
	for _, e := range log.Entries {
		if e.Action == audit.SuppressionLift {
			lifts = append(lifts, e)
		}
	}
	if len(lifts) != 1 || lifts[0].Actor != "root" || lifts[0].Detail["reason"] != "hard_bounce" ||
		lifts[0].Detail["email_hmac"] != auditHasher(t).HashEmail("gone@example.org") {
		t.Fatalf("audit entries of lifts = %+v", lifts)
	}
	if b, _ := json.Marshal(lifts[0]); strings.Contains(string(b), "gone@example.org") {
		t.Errorf("the lift's audit entry names the address: %s", b)
	}
}

// TestSuppressionsListsOlderRecords: suppressions recorded before their
// time and source were kept (a bare reason) are listed too, without them.
func TestSuppressionsListsOlderRecords(t *testing.T) {
	a := newSuppressionAPI(t)
	if err := a.store.Client().HSet(context.Background(), "pregon:suppressed", "old@example.org", "complaint").Err(); err != nil {
		t.Fatal(err)
	}
	w := a.do("GET", "/v1/suppressions", adminToken, "")
	var p Page[dispatcher.Suppression]
	if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	if len(p.Items) != 1 || p.Items[0] != (dispatcher.Suppression{Email: "old@example.org", Reason: dispatcher.ReasonComplaint}) {
		t.Errorf("items = %+v", p.Items)
	}
}
