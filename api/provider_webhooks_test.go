package api

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/bounces"
	"github.com/pregon/pregon/dispatcher"
)

const mailgunKey = "key-webhook-test"

// mailgunReport returns a Mailgun webhook body signed with key now.
func mailgunReport(key, event, severity, recipient, messageID string) string {
	stamp, token := strconv.FormatInt(time.Now().Unix(), 10), "0f1e2d3c4b5a69788796a5b4c3d2e1f0"
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(stamp + token))
	return fmt.Sprintf(`{"signature":{"timestamp":%q,"token":%q,"signature":%q},`+
		`"event-data":{"event":%q,"severity":%q,"recipient":%q,"timestamp":%s,"message":{"headers":{"message-id":%q}}}}`,
		stamp, token, hex.EncodeToString(mac.Sum(nil)), event, severity, recipient, stamp, messageID)
}

// TestProviderWebhooks: a signed Mailgun report of a hard bounce marks the
// delivery its Message-ID names and suppresses the address; a soft bounce
// suppresses nothing; a Postmark complaint (basic auth) suppresses; a
// report with a bad signature or password, or to a provider not
// configured, is refused and changes nothing.
func TestProviderWebhooks(t *testing.T) {
	a := newRedisAPI(t, func(c *Config) {
		c.Bounces = c.Store.(BounceRecorder)
		c.BounceProviders = map[string]bounces.Provider{
			"mailgun":  &bounces.Mailgun{SigningKey: mailgunKey},
			"postmark": &bounces.Postmark{Secret: "pm-secret"},
		}
	})
	ctx := context.Background()
	rel := &dispatcher.Release{Title: "Comunicado", Body: "Texto.", Language: "es"}
	if err := a.store.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	did := dispatcher.DeliveryID(rel.ID, dispatcher.ChannelEmail, "gone@example.org")
	if _, err := a.store.CreateDeliveries(ctx, rel.ID, []*dispatcher.Delivery{{ID: did, Channel: dispatcher.ChannelEmail,
		Recipient: "gone@example.org", Language: "es", Status: dispatcher.DeliveryQueued}}); err != nil {
		t.Fatal(err)
	}
	msgID := "<" + did + "." + rel.ID + "@pregon.example>"
	post := func(provider, body string, prepare func(*http.Request)) *httptest.ResponseRecorder {
		t.Helper()
		r := httptest.NewRequest("POST", "/webhooks/"+provider, strings.NewReader(body))
		r.Header.Set("Content-Type", "application/json")
		if prepare != nil {
			prepare(r)
		}
		w := httptest.NewRecorder()
		a.srv.ServeHTTP(w, r)
		return w
	}
	suppressed := func(email string) bool {
		t.Helper()
		ok, err := a.store.Suppressed(ctx, []string{email})
		if err != nil {
			t.Fatal(err)
		}
		return ok[0]
	}

	// Refused: nothing changes.
	if w := post("mailgun", mailgunReport("key-forged", "failed", "permanent", "gone@example.org", msgID), nil); w.Code != http.StatusUnauthorized {
		t.Errorf("forged mailgun report: %d, want 401", w.Code)
	}
	if w := post("postmark", `{"RecordType":"SpamComplaint","Email":"angry@example.org"}`, func(r *http.Request) { r.SetBasicAuth("pregon", "guess") }); w.Code != http.StatusUnauthorized {
		t.Errorf("postmark report with a wrong password: %d, want 401", w.Code)
	}
	if w := post("sendgrid", `[]`, nil); w.Code != http.StatusNotFound {
		t.Errorf("provider not configured: %d, want 404", w.Code)
	}
	if suppressed("gone@example.org") || suppressed("angry@example.org") {
		t.Fatalf("a refused report suppressed an address")
	}
	if d, _ := a.store.Delivery(ctx, rel.ID, did); d.Bounce != nil {
		t.Fatalf("a refused report marked the delivery: %+v", d.Bounce)
	}

	// A soft bounce is recorded on the delivery and suppresses nothing.
	if w := post("mailgun", mailgunReport(mailgunKey, "failed", "temporary", "gone@example.org", msgID), nil); w.Code != http.StatusOK {
		t.Fatalf("soft bounce: %d %s", w.Code, w.Body)
	}
	if d, _ := a.store.Delivery(ctx, rel.ID, did); d.Bounce == nil || d.Bounce.Kind != dispatcher.BounceSoft || suppressed("gone@example.org") {
		t.Fatalf("after a soft bounce: bounce %+v, suppressed %v", d.Bounce, suppressed("gone@example.org"))
	}
	// A hard bounce marks the delivery and suppresses the address.
	if w := post("mailgun", mailgunReport(mailgunKey, "failed", "permanent", "gone@example.org", msgID), nil); w.Code != http.StatusOK {
		t.Fatalf("hard bounce: %d %s", w.Code, w.Body)
	}
	d, err := a.store.Delivery(ctx, rel.ID, did)
	if err != nil || d.Bounce == nil || d.Bounce.Kind != dispatcher.BounceHard || d.Bounce.Source != "mailgun" {
		t.Fatalf("delivery after a hard bounce: %+v, %v", d, err)
	}
	sup, err := a.store.Suppression(ctx, "gone@example.org")
	if err != nil || sup.Reason != dispatcher.ReasonHardBounce || sup.Source != "mailgun" {
		t.Fatalf("suppression = %+v, %v", sup, err)
	}
	// A Postmark complaint about an address Pregón never mailed: suppressed,
	// and the answer is the same as for any other.
	w := post("postmark", `{"RecordType":"SpamComplaint","Type":"SpamComplaint","Email":"angry@example.org","BouncedAt":"2026-02-04T16:00:00Z"}`,
		func(r *http.Request) { r.SetBasicAuth("pregon", "pm-secret") })
	if w.Code != http.StatusOK || strings.TrimSpace(w.Body.String()) != `{"received":1}` {
		t.Fatalf("postmark complaint: %d %s", w.Code, w.Body)
	}
	if sup, err := a.store.Suppression(ctx, "angry@example.org"); err != nil || sup.Reason != dispatcher.ReasonComplaint || sup.Source != "postmark" {
		t.Fatalf("suppression = %+v, %v", sup, err)
	}
}
