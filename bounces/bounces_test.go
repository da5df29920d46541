package bounces

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http/httptest"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/dispatcher"
)

var testNow = time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)

func fixedNow() time.Time { return testNow }

// MailgunBody returns a Mailgun webhook body for event, signed with key at ts.
func MailgunBody(key string, ts time.Time, event, severity, recipient, messageID string) string {
	stamp, token := strconv.FormatInt(ts.Unix(), 10), "a8ce0edb2dd8301dee6c2405235584e45aa91d1e9f979f3de0"
	mac := hmac.New(sha256.New, []byte(key))
	mac.Write([]byte(stamp + token))
	return fmt.Sprintf(`{"signature":{"timestamp":%q,"token":%q,"signature":%q},`+
		`"event-data":{"event":%q,"severity":%q,"recipient":%q,"timestamp":%d.5,"message":{"headers":{"message-id":%q}}}}`,
		stamp, token, hex.EncodeToString(mac.Sum(nil)), event, severity, recipient, ts.Unix(), messageID)
}

func TestMailgun(t *testing.T) {
	m := &Mailgun{SigningKey: "key-0123456789", Now: fixedNow}
	tests := []struct {
		name, body string
		wantErr    error
		want       []dispatcher.BounceEvent
	}{
		{"permanent failure", MailgunBody("key-0123456789", testNow, "failed", "permanent", "Ana@Example.org", "abc.rel_x@pregon.example"), nil,
			[]dispatcher.BounceEvent{{Kind: dispatcher.BounceHard, Email: "ana@example.org", MessageID: "abc.rel_x@pregon.example", At: testNow.Add(500 * time.Millisecond), Source: "mailgun"}}},
		{"temporary failure", MailgunBody("key-0123456789", testNow, "failed", "temporary", "ana@example.org", ""), nil,
			[]dispatcher.BounceEvent{{Kind: dispatcher.BounceSoft, Email: "ana@example.org", At: testNow.Add(500 * time.Millisecond), Source: "mailgun"}}},
		{"complaint", MailgunBody("key-0123456789", testNow, "complained", "", "ana@example.org", ""), nil,
			[]dispatcher.BounceEvent{{Kind: dispatcher.BounceComplaint, Email: "ana@example.org", At: testNow.Add(500 * time.Millisecond), Source: "mailgun"}}},
		{"delivered", MailgunBody("key-0123456789", testNow, "delivered", "", "ana@example.org", ""), nil, nil},
		{"other key", MailgunBody("key-other", testNow, "failed", "permanent", "ana@example.org", ""), ErrUnauthorized, nil},
		{"replayed", MailgunBody("key-0123456789", testNow.Add(-time.Hour), "failed", "permanent", "ana@example.org", ""), ErrUnauthorized, nil},
		{"unsigned", `{"event-data":{"event":"failed","severity":"permanent","recipient":"ana@example.org"}}`, ErrUnauthorized, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := m.Verify(httptest.NewRequest("POST", "/webhooks/mailgun", nil), []byte(tt.body))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Verify = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			got, err := m.Parse([]byte(tt.body))
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("Parse (-want +got):\n%s", diff)
			}
		})
	}
}

func TestPostmark(t *testing.T) {
	p := &Postmark{Secret: "s3cret"}
	body := `{"RecordType":"Bounce","Type":"HardBounce","TypeCode":1,"MessageID":"883953f4-6105-42a2-a16a-77a8eac79483","Email":"gone@example.org","BouncedAt":"2026-02-04T16:00:00Z"}`
	for _, tt := range []struct {
		name, user, pass string
		auth             bool
		wantErr          error
	}{
		{"right password", "pregon", "s3cret", true, nil},
		{"wrong password", "pregon", "guess", true, ErrUnauthorized},
		{"no credentials", "", "", false, ErrUnauthorized},
	} {
		r := httptest.NewRequest("POST", "/webhooks/postmark", nil)
		if tt.auth {
			r.SetBasicAuth(tt.user, tt.pass)
		}
		if err := p.Verify(r, []byte(body)); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	for _, tt := range []struct {
		body string
		want []dispatcher.BounceEvent
	}{
		{body, []dispatcher.BounceEvent{{Kind: dispatcher.BounceHard, Email: "gone@example.org", At: testNow, Source: "postmark"}}},
		{`{"RecordType":"Bounce","Type":"SoftBounce","Email":"full@example.org","BouncedAt":"2026-02-04T16:00:00Z"}`,
			[]dispatcher.BounceEvent{{Kind: dispatcher.BounceSoft, Email: "full@example.org", At: testNow, Source: "postmark"}}},
		{`{"RecordType":"SpamComplaint","Type":"SpamComplaint","Email":"angry@example.org","BouncedAt":"2026-02-04T16:00:00Z"}`,
			[]dispatcher.BounceEvent{{Kind: dispatcher.BounceComplaint, Email: "angry@example.org", At: testNow, Source: "postmark"}}},
		{`{"RecordType":"Delivery","Recipient":"ana@example.org"}`, nil},
	} {
		got, err := p.Parse([]byte(tt.body))
		if err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(tt.want, got); diff != "" {
			t.Errorf("Parse(%s) (-want +got):\n%s", tt.body, diff)
		}
	}
}

// SendGridKey returns a new P-256 key and its public half as SendGrid shows it.
func SendGridKey(t testing.TB) (*ecdsa.PrivateKey, string) {
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKIXPublicKey(&k.PublicKey)
	if err != nil {
		t.Fatal(err)
	}
	return k, base64.StdEncoding.EncodeToString(der)
}

// SendGridSign returns the signature header of body at ts.
func SendGridSign(t testing.TB, k *ecdsa.PrivateKey, ts time.Time, body string) (sig, stamp string) {
	stamp = strconv.FormatInt(ts.Unix(), 10)
	h := sha256.Sum256([]byte(stamp + body))
	s, err := ecdsa.SignASN1(rand.Reader, k, h[:])
	if err != nil {
		t.Fatal(err)
	}
	return base64.StdEncoding.EncodeToString(s), stamp
}

func TestSendGrid(t *testing.T) {
	k, pub := SendGridKey(t)
	other, _ := SendGridKey(t)
	s, err := NewSendGrid(pub, fixedNow)
	if err != nil {
		t.Fatal(err)
	}
	body := fmt.Sprintf(`[{"email":"gone@example.org","timestamp":%d,"event":"bounce","type":"bounce","smtp-id":"<abc.rel_x@pregon.example>"},`+
		`{"email":"busy@example.org","timestamp":%d,"event":"bounce","type":"blocked"},`+
		`{"email":"angry@example.org","timestamp":%d,"event":"spamreport"},`+
		`{"email":"ana@example.org","timestamp":%d,"event":"delivered"}]`, testNow.Unix(), testNow.Unix(), testNow.Unix(), testNow.Unix())
	for _, tt := range []struct {
		name    string
		key     *ecdsa.PrivateKey
		at      time.Time
		body    string
		wantErr error
	}{
		{"signed", k, testNow, body, nil},
		{"other key", other, testNow, body, ErrUnauthorized},
		{"stale", k, testNow.Add(-time.Hour), body, ErrUnauthorized},
	} {
		sig, stamp := SendGridSign(t, tt.key, tt.at, tt.body)
		r := httptest.NewRequest("POST", "/webhooks/sendgrid", nil)
		r.Header.Set(SendGridSignatureHeader, sig)
		r.Header.Set(SendGridTimestampHeader, stamp)
		if err := s.Verify(r, []byte(tt.body)); !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.wantErr)
		}
		// The same signature over another body does not verify.
		if err := s.Verify(r, []byte(tt.body+" ")); !errors.Is(err, ErrUnauthorized) {
			t.Errorf("%s: Verify of a changed body = %v", tt.name, err)
		}
	}
	if err := s.Verify(httptest.NewRequest("POST", "/webhooks/sendgrid", nil), []byte(body)); !errors.Is(err, ErrUnauthorized) {
		t.Errorf("unsigned: Verify = %v", err)
	}
	got, err := s.Parse([]byte(body))
	if err != nil {
		t.Fatal(err)
	}
	want := []dispatcher.BounceEvent{
		{Kind: dispatcher.BounceHard, Email: "gone@example.org", MessageID: "<abc.rel_x@pregon.example>", At: testNow, Source: "sendgrid"},
		{Kind: dispatcher.BounceSoft, Email: "busy@example.org", At: testNow, Source: "sendgrid"},
		{Kind: dispatcher.BounceComplaint, Email: "angry@example.org", At: testNow, Source: "sendgrid"},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	if _, err := NewSendGrid("bm90IGEga2V5", nil); err == nil {
		t.Errorf("NewSendGrid accepted a key that is not one")
	}
}
