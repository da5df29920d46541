package bounces

import (
	"context"
	"crypto"
	"crypto/rand"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SNS SignatureVersion 1
	"crypto/sha256"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"math/big"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/dispatcher"
)

const (
	sesTopic   = "arn:aws:sns:eu-west-1:123456789012:ses-bounces"
	sesCertURL = "https://sns.eu-west-1.amazonaws.com/SimpleNotificationService-test.pem"
)

// snsSigner signs SNS messages as SNS would, with a certificate made here.
type snsSigner struct {
	key     *rsa.PrivateKey
	certPEM []byte
}

func newSNSSigner(t *testing.T) *snsSigner {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{SerialNumber: big.NewInt(1), Subject: pkix.Name{CommonName: "sns.amazonaws.com"},
		NotBefore: testNow.Add(-time.Hour), NotAfter: testNow.Add(time.Hour)}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &k.PublicKey, k)
	if err != nil {
		t.Fatal(err)
	}
	return &snsSigner{key: k, certPEM: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der})}
}

// sign fills m's signature fields for version "1" or "2" and returns it as JSON.
func (s *snsSigner) sign(t *testing.T, m snsMessage, version string) string {
	t.Helper()
	m.SignatureVersion, m.SigningCertURL = version, cmpOr(m.SigningCertURL, sesCertURL)
	var h crypto.Hash
	var digest []byte
	if version == "1" {
		d := sha1.Sum([]byte(m.stringToSign())) //nolint:gosec // SignatureVersion 1
		h, digest = crypto.SHA1, d[:]
	} else {
		d := sha256.Sum256([]byte(m.stringToSign()))
		h, digest = crypto.SHA256, d[:]
	}
	sig, err := rsa.SignPKCS1v15(rand.Reader, s.key, h, digest)
	if err != nil {
		t.Fatal(err)
	}
	m.Signature = base64.StdEncoding.EncodeToString(sig)
	b, err := json.Marshal(m)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

func TestSES(t *testing.T) {
	signer, other := newSNSSigner(t), newSNSSigner(t)
	var fetched, confirmed []string
	s := &SES{Topics: []string{sesTopic}, Now: fixedNow, Fetch: func(_ context.Context, u string) ([]byte, error) {
		switch u {
		case sesCertURL:
			fetched = append(fetched, u)
			return signer.certPEM, nil
		case "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok":
			confirmed = append(confirmed, u)
			return []byte("<ConfirmSubscriptionResponse/>"), nil
		}
		return nil, fmt.Errorf("unexpected fetch of %s", u)
	}}
	bounce := `{"notificationType":"Bounce","bounce":{"bounceType":"Permanent","bouncedRecipients":[{"emailAddress":"Gone@Example.org"}],` +
		`"timestamp":"2026-02-04T16:00:00Z"},"mail":{"commonHeaders":{"messageId":"<abc.rel_x@pregon.example>"}}}`
	note := snsMessage{Type: "Notification", MessageID: "m1", TopicArn: sesTopic, Message: bounce, Timestamp: "2026-02-04T16:00:01Z"}
	sub := snsMessage{Type: "SubscriptionConfirmation", MessageID: "m2", Token: "tok", TopicArn: sesTopic, Message: "You have chosen to subscribe",
		SubscribeURL: "https://sns.eu-west-1.amazonaws.com/?Action=ConfirmSubscription&Token=tok", Timestamp: "2026-02-04T16:00:01Z"}
	otherTopic := note
	otherTopic.TopicArn = "arn:aws:sns:eu-west-1:999999999999:someone-else"
	httpCert := note
	httpCert.SigningCertURL = "http://sns.eu-west-1.amazonaws.com/cert.pem"
	foreignCert := note
	foreignCert.SigningCertURL = "https://sns.eu-west-1.amazonaws.com.evil.example/cert.pem"
	stale := note
	stale.Timestamp = "2026-02-04T12:00:00Z"

	tampered := signer.sign(t, note, "2")
	var tm snsMessage
	if err := json.Unmarshal([]byte(tampered), &tm); err != nil {
		t.Fatal(err)
	}
	tm.Message = `{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"ana@example.org"}]}}`
	tamperedJSON, _ := json.Marshal(tm)

	tests := []struct {
		name    string
		body    string
		wantErr error
	}{
		{"version 2", signer.sign(t, note, "2"), nil},
		{"version 1", signer.sign(t, note, "1"), nil},
		{"other key", other.sign(t, note, "2"), ErrUnauthorized},
		{"tampered message", string(tamperedJSON), ErrUnauthorized},
		{"topic not configured", signer.sign(t, otherTopic, "2"), ErrUnauthorized},
		{"certificate over http", signer.sign(t, httpCert, "2"), ErrUnauthorized},
		{"certificate off amazonaws.com", signer.sign(t, foreignCert, "2"), ErrUnauthorized},
		{"stale", signer.sign(t, stale, "2"), ErrUnauthorized},
		{"unsigned subscription", func() string { b, _ := json.Marshal(sub); return string(b) }(), ErrUnauthorized},
		{"signed subscription", signer.sign(t, sub, "2"), nil},
	}
	for _, tt := range tests {
		err := s.Verify(httptest.NewRequest("POST", "/webhooks/ses", nil), []byte(tt.body))
		if !errors.Is(err, tt.wantErr) {
			t.Errorf("%s: Verify = %v, want %v", tt.name, err, tt.wantErr)
		}
	}
	if len(confirmed) != 1 {
		t.Errorf("subscription confirmed %d times, want once (only the signed one)", len(confirmed))
	}
	if len(fetched) != 1 {
		t.Errorf("certificate fetched %d times, want once (then cached)", len(fetched))
	}
	got, err := s.Parse([]byte(signer.sign(t, note, "2")))
	if err != nil {
		t.Fatal(err)
	}
	want := []dispatcher.BounceEvent{{Kind: dispatcher.BounceHard, Email: "gone@example.org", MessageID: "<abc.rel_x@pregon.example>", At: testNow, Source: "ses"}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("Parse (-want +got):\n%s", diff)
	}
	complaint := note
	complaint.Message = `{"notificationType":"Complaint","complaint":{"complainedRecipients":[{"emailAddress":"angry@example.org"}],"timestamp":"2026-02-04T16:00:00Z"},"mail":{}}`
	got, err = s.Parse([]byte(signer.sign(t, complaint, "2")))
	if err != nil || len(got) != 1 || got[0].Kind != dispatcher.BounceComplaint || got[0].Email != "angry@example.org" {
		t.Errorf("Parse of a complaint = %+v, %v", got, err)
	}
	if got, err := s.Parse([]byte(signer.sign(t, sub, "2"))); err != nil || len(got) != 0 {
		t.Errorf("Parse of a subscription = %+v, %v", got, err)
	}
}
