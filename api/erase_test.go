package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// newErasureAPI is a redisAPI whose store erases (keyed with a secret),
// serving the suppression and erasure endpoints, with an admin token.
func newErasureAPI(t *testing.T, secret bool) *redisAPI {
	t.Helper()
	a := newRedisAPI(t, func(c *Config) {
		st := c.Store.(*store.Store)
		if secret {
			st.SetErasureSecret([]byte(linksSecret))
		}
		c.Suppressions, c.Erasure = st, st
		c.ErasureUnavailable = func(err error) bool { return errors.Is(err, store.ErrNoErasureKey) }
		c.EmailHasher = auditHasher(t)
	})
	if err := a.store.CreateToken(context.Background(), auth.Hash(adminToken), &auth.Token{Name: "root", Role: auth.RoleAdmin}); err != nil {
		t.Fatal(err)
	}
	return a
}

// TestEraseContactEndpoint: a coordinator erases an address (viewers and
// strangers may not); it leaves every list, an import refuses its row
// with "erased on request", the suppression list does not show it, an
// admin (only) sees why it is suppressed, and lifts the erasure; the audit
// entries name it only by its keyed hash.
func TestEraseContactEndpoint(t *testing.T) {
	a := newErasureAPI(t, true)
	ctx := context.Background()
	list := a.newList()
	a.must("POST", "/v1/lists/"+list+"/contacts", `[{"email":"Ana@Example.org","name":"Ana"},{"email":"bob@example.org"}]`, http.StatusOK, nil)

	for tok, want := range map[string]int{"": http.StatusUnauthorized, viewerToken: http.StatusForbidden} {
		if w := a.do("POST", "/v1/contacts/ana@example.org/erase", tok, ""); w.Code != want {
			t.Errorf("erase with token %q: %d, want %d", tok, w.Code, want)
		}
	}
	if w := a.do("POST", "/v1/contacts/not-an-address/erase", coordToken, ""); w.Code != http.StatusBadRequest {
		t.Errorf("erase of a non-address: %d, want 400", w.Code)
	}
	var er struct {
		dispatcher.Erasure
		EmailHMAC string `json:"email_hmac"`
	}
	a.must("POST", "/v1/contacts/ANA@example.org/erase", "", http.StatusOK, &er)
	hash := auditHasher(t).HashEmail("ana@example.org")
	if er.Lists != 1 || er.At.IsZero() || er.EmailHMAC != hash {
		t.Errorf("erase answer = %+v, want 1 list, a time, the audit hash", er)
	}
	var members Page[dispatcher.Contact]
	a.must("GET", "/v1/lists/"+list+"/contacts", "", http.StatusOK, &members)
	if len(members.Items) != 1 || members.Items[0].Email != "bob@example.org" {
		t.Errorf("members after the erasure = %+v, want bob alone", members.Items)
	}

	var res ImportResult
	a.must("POST", "/v1/lists/"+list+"/contacts", `[{"email":"carla@example.org"},{"email":"ana@example.org","name":"Ana"}]`, http.StatusOK, &res)
	if res.Added != 1 || res.Updated != 0 || len(res.Errors) != 1 || res.Errors[0].Row != 2 || res.Errors[0].Message != "erased on request" || len(res.Suppressed) != 0 {
		t.Errorf("import after the erasure = %+v, want carla added and row 2 refused as erased", res)
	}

	// The suppression list does not show erasures; the admin asks about
	// one address.
	w := a.do("GET", "/v1/suppressions", adminToken, "")
	if w.Code != http.StatusOK || strings.Contains(w.Body.String(), "erased") || strings.Contains(w.Body.String(), "ana@") {
		t.Errorf("GET /v1/suppressions = %d %s, want no erasure listed", w.Code, w.Body)
	}
	for _, tok := range []string{"", viewerToken, coordToken} {
		if w := a.do("GET", "/v1/suppressions/ana@example.org", tok, ""); w.Code != http.StatusUnauthorized && w.Code != http.StatusForbidden {
			t.Errorf("GET /v1/suppressions/{email} with token %q: %d, want 401 or 403", tok, w.Code)
		}
	}
	w = a.do("GET", "/v1/suppressions/Ana@Example.org", adminToken, "")
	var sup dispatcher.Suppression
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &sup) != nil || sup.Reason != dispatcher.ReasonErased || sup.At.IsZero() {
		t.Errorf("GET /v1/suppressions/ana = %d %s, want reason erased", w.Code, w.Body)
	}
	if w := a.do("GET", "/v1/suppressions/bob@example.org", adminToken, ""); w.Code != http.StatusNotFound {
		t.Errorf("GET /v1/suppressions/bob = %d, want 404", w.Code)
	}
	if err := a.store.Suppress(ctx, "bob@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	w = a.do("GET", "/v1/suppressions/bob@example.org", adminToken, "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"unsubscribed"`) {
		t.Errorf("GET /v1/suppressions/bob after unsubscribe = %d %s", w.Code, w.Body)
	}

	// Looked up as a contact (the web app's "why does someone not get
	// it?"), the address is known only as erased on request.
	var cv ContactView
	w = a.do("GET", "/v1/contacts/ana@example.org", viewerToken, "")
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &cv) != nil || cv.Known || cv.Suppressed == nil ||
		cv.Suppressed.Reason != dispatcher.ReasonErased || cv.Name != "" {
		t.Errorf("GET /v1/contacts/ana = %d %s, want unknown, suppressed as erased", w.Code, w.Body)
	}

	// The admin lifts the erasure: the address may be imported again.
	if w := a.do("DELETE", "/v1/suppressions/ana@example.org", coordToken, ""); w.Code != http.StatusForbidden {
		t.Errorf("a coordinator lifts an erasure: %d, want 403", w.Code)
	}
	w = a.do("DELETE", "/v1/suppressions/ana@example.org", adminToken, "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), `"erased"`) {
		t.Fatalf("lift: %d %s", w.Code, w.Body)
	}
	a.must("POST", "/v1/lists/"+list+"/contacts", `[{"email":"ana@example.org"}]`, http.StatusOK, &res)
	if res.Added != 1 || len(res.Errors) != 0 {
		t.Errorf("import after the lift = %+v", res)
	}

	log, err := a.store.AuditEntries(ctx, audit.Query{Limit: 100})
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, e := range log.Entries {
		b, _ := json.Marshal(e)
		if strings.Contains(strings.ToLower(string(b)), "ana@example.org") {
			t.Errorf("audit entry names the address: %s", b)
		}
		switch e.Action {
		case audit.ContactErase:
			if e.Actor != string(auth.RoleCoordinator) || e.Detail["email_hmac"] != hash || fmt.Sprint(e.Detail["lists"]) != "1" {
				t.Errorf("erase entry = %+v", e)
			}
			got = append(got, string(e.Action))
		case audit.SuppressionLift:
			if e.Actor != "root" || e.Detail["email_hmac"] != hash || e.Detail["reason"] != "erased" {
				t.Errorf("lift entry = %+v", e)
			}
			got = append(got, string(e.Action))
		}
	}
	if strings.Join(got, ",") != "suppression.lift,contact.erase" {
		t.Errorf("audit actions %v, want the lift and the erasure", got)
	}
}

// TestEraseWithoutSecret: a server whose store has no erasure key answers
// 501 and changes nothing.
func TestEraseWithoutSecret(t *testing.T) {
	a := newErasureAPI(t, false)
	list := a.newList()
	a.must("POST", "/v1/lists/"+list+"/contacts", `[{"email":"ana@example.org"}]`, http.StatusOK, nil)
	if w := a.do("POST", "/v1/contacts/ana@example.org/erase", coordToken, ""); w.Code != http.StatusNotImplemented {
		t.Errorf("erase without a secret: %d %s, want 501", w.Code, w.Body)
	}
	var members Page[dispatcher.Contact]
	a.must("GET", "/v1/lists/"+list+"/contacts", "", http.StatusOK, &members)
	if len(members.Items) != 1 {
		t.Errorf("members = %+v, want ana still there", members.Items)
	}
}

// TestSubscribeErasedSameAnswer: the public subscribe form, given an
// erased address, answers exactly as for a new one, sends no confirmation
// and stores nothing.
func TestSubscribeErasedSameAnswer(t *testing.T) {
	o := newOptinAPI(t)
	o.store.SetErasureSecret([]byte(linksSecret))
	list := o.list("subscribers")
	if _, err := o.store.Erase(context.Background(), "gone@example.org"); err != nil {
		t.Fatal(err)
	}
	fresh := o.subscribeForm(list, "new@example.org", "Ana", "en")
	erased := o.subscribeForm(list, "Gone@Example.org", "Ana", "en")
	if fresh.Code != http.StatusOK || erased.Code != fresh.Code || erased.Body.String() != fresh.Body.String() {
		t.Errorf("answers differ: %d\n%s\nand %d\n%s", fresh.Code, fresh.Body, erased.Code, erased.Body)
	}
	for _, c := range o.mails.sent {
		if c.Email == "gone@example.org" {
			t.Errorf("a confirmation was queued for the erased address: %+v", c)
		}
	}
	if st := o.members(list, ""); len(st) != 1 || st["new@example.org"] != "pending" {
		t.Errorf("members = %v, want new@ alone", st)
	}
}

// erasedOnly is an ErasureStore that knows one erased address.
type erasedOnly string

func (e erasedOnly) Erase(context.Context, string) (*dispatcher.Erasure, error) {
	return nil, errors.New("not here")
}

func (e erasedOnly) SuppressionOf(_ context.Context, email string) (*dispatcher.Suppression, error) {
	if email != string(e) {
		return nil, dispatcher.ErrNotFound
	}
	return &dispatcher.Suppression{Email: email, Reason: dispatcher.ReasonErased}, nil
}

// TestUnsubscribeErasedNotifiesNobody: the unsubscribe link of an older
// email, clicked after its address was erased, answers as usual but sends
// no webhook event (which would carry the address); another address's
// click still does.
func TestUnsubscribeErasedNotifiesNobody(t *testing.T) {
	n := &notified{}
	h := newHarness(t, func(c *Config) { c.Notifier, c.Erasure = n, erasedOnly("ana@example.org") })
	h.page("POST", h.unsubscribePath("ana@example.org"), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil, http.StatusOK)
	if len(n.events) != 0 {
		t.Errorf("events %+v, want none for an erased address", n.events)
	}
	h.page("POST", h.unsubscribePath("bob@example.org"), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil, http.StatusOK)
	if len(n.events) != 1 || n.events[0].Data["email"] != "bob@example.org" {
		t.Errorf("events %+v, want bob's", n.events)
	}
}

// TestEraseArchivedThroughAPI: a release sent to p000..p004 (p002 failed)
// is archived, then p002 is erased. The deliveries listing, the delivery
// by id and the CSV export of the archived release answer as before but
// for p002's record, which names only the keyed hash; its counts are the
// same.
func TestEraseArchivedThroughAPI(t *testing.T) {
	a := newErasureAPI(t, true)
	rid := sentRelease(t, a.store, 5)
	const erased = "p002@diario.example"
	a.must("POST", "/v1/releases/"+rid+"/archive", "", http.StatusOK, nil)
	var relBefore, relAfter map[string]any
	a.must("GET", "/v1/releases/"+rid, "", http.StatusOK, &relBefore)
	csv := func() []string {
		t.Helper()
		w := a.do("GET", "/v1/releases/"+rid+"/deliveries?format=csv", viewerToken, "")
		if w.Code != http.StatusOK {
			t.Fatalf("CSV: %d %s", w.Code, w.Body)
		}
		return strings.Split(strings.TrimSpace(w.Body.String()), "\n")
	}
	csvBefore := csv()
	if n := len(csvBefore); n != 7 || !strings.Contains(strings.Join(csvBefore, "\n"), erased) {
		t.Fatalf("CSV before the erasure: %d lines, want a header and 6 rows, one of them %s", n, erased)
	}

	var er dispatcher.Erasure
	a.must("POST", "/v1/contacts/"+erased+"/erase", "", http.StatusOK, &er)
	if er.Redacted != 1 {
		t.Errorf("erase answer = %+v, want 1 redacted (in the archive)", er)
	}

	a.must("GET", "/v1/releases/"+rid, "", http.StatusOK, &relAfter)
	if diff := cmp.Diff(relBefore, relAfter); diff != "" {
		t.Errorf("the release changed (-before +after):\n%s", diff)
	}
	var page Page[dispatcher.Delivery]
	a.must("GET", "/v1/releases/"+rid+"/deliveries?limit=100", "", http.StatusOK, &page)
	var hashed *dispatcher.Delivery
	for i, d := range page.Items {
		if strings.HasPrefix(d.Recipient, "hmac-sha256:") {
			hashed = &page.Items[i]
		}
	}
	if len(page.Items) != 6 || hashed == nil || hashed.ID != dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, erased) ||
		hashed.Status != dispatcher.DeliveryFailed || hashed.Name != "" || hashed.LastError != "550 5.1.1 no such user" {
		t.Fatalf("deliveries after the erasure = %+v; want 6, p002's failed, to the hash, no name", page.Items)
	}
	w := a.do("GET", "/v1/releases/"+rid+"/deliveries/"+hashed.ID, viewerToken, "")
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), hashed.Recipient) || strings.Contains(w.Body.String(), erased) {
		t.Errorf("the redacted delivery by id: %d %s", w.Code, w.Body)
	}
	csvAfter := csv()
	if len(csvAfter) != len(csvBefore) || strings.Contains(strings.Join(csvAfter, "\n"), erased) {
		t.Fatalf("CSV after the erasure:\n%s", strings.Join(csvAfter, "\n"))
	}
	changed := 0
	for i := range csvAfter {
		if csvAfter[i] != csvBefore[i] {
			changed++
			if !strings.Contains(csvAfter[i], hashed.Recipient) || !strings.Contains(csvAfter[i], "failed") {
				t.Errorf("CSV row %q, want p002's row to the hash, failed", csvAfter[i])
			}
		}
	}
	if changed != 1 {
		t.Errorf("%d CSV rows changed, want p002's alone", changed)
	}
}
