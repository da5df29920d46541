package bounces

import (
	"cmp"
	"context"
	"crypto"
	"crypto/rsa"
	"crypto/sha1" //nolint:gosec // SNS SignatureVersion 1 is SHA1withRSA
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"encoding/pem"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// SES reads Amazon SES bounce and complaint notifications delivered by
// Amazon SNS. Every SNS message is signed (SignatureVersion 1: SHA1withRSA,
// 2: SHA256withRSA) with a certificate that SNS serves from
// SigningCertURL, which must be https on an amazonaws.com host; since every
// SNS topic's messages are signed the same way, only the topics in Topics
// are accepted. A signed SubscriptionConfirmation of one of those topics is
// confirmed by visiting its SubscribeURL.
type SES struct {
	// Topics are the ARNs of the SNS topics SES publishes to
	// (PREGON_SES_TOPIC_ARN, comma-separated). Required.
	Topics []string
	// Fetch gets a URL (a signing certificate, or the SubscribeURL that
	// confirms a subscription) and returns its body; nil means an HTTP GET
	// with a 10 s timeout. Tests replace it.
	Fetch func(ctx context.Context, url string) ([]byte, error)
	// Now is the clock for the message's age; nil means time.Now.
	Now func() time.Time

	mu    sync.Mutex
	certs map[string]*x509.Certificate // by URL
}

var _ Provider = (*SES)(nil)

// snsMessage is an SNS HTTP(S) delivery.
type snsMessage struct {
	Type             string
	MessageID        string `json:"MessageId"`
	Token            string
	TopicArn         string
	Subject          string
	Message          string
	SubscribeURL     string
	Timestamp        string
	SignatureVersion string
	Signature        string
	SigningCertURL   string
}

// stringToSign returns what SNS signs: named fields as "Name\nvalue\n", in
// the order SNS documents for the message's type.
func (m *snsMessage) stringToSign() string {
	var b strings.Builder
	add := func(k, v string) { b.WriteString(k + "\n" + v + "\n") }
	add("Message", m.Message)
	add("MessageId", m.MessageID)
	if m.Type == "Notification" {
		if m.Subject != "" {
			add("Subject", m.Subject)
		}
		add("Timestamp", m.Timestamp)
		add("TopicArn", m.TopicArn)
		add("Type", m.Type)
		return b.String()
	}
	add("SubscribeURL", m.SubscribeURL)
	add("Timestamp", m.Timestamp)
	add("Token", m.Token)
	add("TopicArn", m.TopicArn)
	add("Type", m.Type)
	return b.String()
}

// amazonURL reports whether raw is an https URL on an amazonaws.com host.
func amazonURL(raw string) bool {
	u, err := url.Parse(raw)
	if err != nil || u.Scheme != "https" || u.User != nil || u.Port() != "" {
		return false
	}
	h := strings.ToLower(u.Hostname())
	return strings.HasSuffix(h, ".amazonaws.com") || strings.HasSuffix(h, ".amazonaws.com.cn")
}

// Verify checks the SNS signature, the topic and the message's age, and
// confirms a signed SubscriptionConfirmation.
func (s *SES) Verify(r *http.Request, body []byte) error {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return fmt.Errorf("ses: %w", ErrUnauthorized)
	}
	if !slices.Contains(s.Topics, m.TopicArn) {
		return fmt.Errorf("ses: topic %q is not configured: %w", m.TopicArn, ErrUnauthorized)
	}
	if !amazonURL(m.SigningCertURL) {
		return fmt.Errorf("ses: signing certificate URL not https on amazonaws.com: %w", ErrUnauthorized)
	}
	var h crypto.Hash
	switch m.SignatureVersion {
	case "1":
		h = crypto.SHA1
	case "2":
		h = crypto.SHA256
	default:
		return fmt.Errorf("ses: signature version %q: %w", m.SignatureVersion, ErrUnauthorized)
	}
	sig, err := base64.StdEncoding.DecodeString(m.Signature)
	if err != nil {
		return fmt.Errorf("ses: %w", ErrUnauthorized)
	}
	cert, err := s.cert(r.Context(), m.SigningCertURL)
	if err != nil {
		return fmt.Errorf("ses: %w (%w)", ErrUnauthorized, err)
	}
	pub, ok := cert.PublicKey.(*rsa.PublicKey)
	if !ok {
		return fmt.Errorf("ses: signing certificate has no RSA key: %w", ErrUnauthorized)
	}
	var digest []byte
	if h == crypto.SHA1 {
		d := sha1.Sum([]byte(m.stringToSign())) //nolint:gosec // SignatureVersion 1
		digest = d[:]
	} else {
		d := sha256.Sum256([]byte(m.stringToSign()))
		digest = d[:]
	}
	if err := rsa.VerifyPKCS1v15(pub, h, digest, sig); err != nil {
		return fmt.Errorf("ses: bad signature: %w", ErrUnauthorized)
	}
	at, err := time.Parse(time.RFC3339Nano, m.Timestamp)
	if err != nil || clock(s.Now)().Sub(at) > time.Hour {
		// SNS retries for up to an hour by default.
		return fmt.Errorf("ses: stale or bad timestamp: %w", ErrUnauthorized)
	}
	if m.Type == "SubscriptionConfirmation" {
		if !amazonURL(m.SubscribeURL) {
			return fmt.Errorf("ses: subscribe URL not https on amazonaws.com: %w", ErrUnauthorized)
		}
		if _, err := s.fetch(r.Context(), m.SubscribeURL); err != nil {
			return fmt.Errorf("ses: confirm subscription to %s: %w", m.TopicArn, err)
		}
	}
	return nil
}

// cert returns the certificate at u, fetched once.
func (s *SES) cert(ctx context.Context, u string) (*x509.Certificate, error) {
	s.mu.Lock()
	c := s.certs[u]
	s.mu.Unlock()
	if c != nil {
		return c, nil
	}
	data, err := s.fetch(ctx, u)
	if err != nil {
		return nil, err
	}
	block, _ := pem.Decode(data)
	if block == nil {
		return nil, errors.New("signing certificate is not PEM")
	}
	c, err = x509.ParseCertificate(block.Bytes)
	if err != nil {
		return nil, fmt.Errorf("signing certificate: %w", err)
	}
	s.mu.Lock()
	if s.certs == nil {
		s.certs = map[string]*x509.Certificate{}
	}
	s.certs[u] = c
	s.mu.Unlock()
	return c, nil
}

func (s *SES) fetch(ctx context.Context, u string) ([]byte, error) {
	if s.Fetch != nil {
		return s.Fetch(ctx, u)
	}
	return httpGet(ctx, u)
}

// Parse returns the bounced or complaining recipients of an SES
// notification (a Notification whose Message is SES's JSON): a Permanent
// bounce is hard, the others soft. Other SNS messages give nothing.
func (s *SES) Parse(body []byte) ([]dispatcher.BounceEvent, error) {
	var m snsMessage
	if err := json.Unmarshal(body, &m); err != nil {
		return nil, fmt.Errorf("ses: %w: %v", ErrBadPayload, err)
	}
	if m.Type != "Notification" {
		return nil, nil
	}
	type recipients []struct {
		EmailAddress string `json:"emailAddress"`
	}
	var n struct {
		NotificationType string `json:"notificationType"`
		EventType        string `json:"eventType"`
		Bounce           struct {
			BounceType string     `json:"bounceType"`
			Recipients recipients `json:"bouncedRecipients"`
			Timestamp  time.Time  `json:"timestamp"`
		} `json:"bounce"`
		Complaint struct {
			Recipients recipients `json:"complainedRecipients"`
			Timestamp  time.Time  `json:"timestamp"`
		} `json:"complaint"`
		Mail struct {
			CommonHeaders struct {
				MessageID string `json:"messageId"`
			} `json:"commonHeaders"`
		} `json:"mail"`
	}
	if err := json.Unmarshal([]byte(m.Message), &n); err != nil {
		return nil, fmt.Errorf("ses: %w: %v", ErrBadPayload, err)
	}
	var kind dispatcher.BounceKind
	var rs recipients
	var at time.Time
	switch cmp.Or(n.NotificationType, n.EventType) {
	case "Bounce":
		kind, rs, at = dispatcher.BounceSoft, n.Bounce.Recipients, n.Bounce.Timestamp
		if n.Bounce.BounceType == "Permanent" {
			kind = dispatcher.BounceHard
		}
	case "Complaint":
		kind, rs, at = dispatcher.BounceComplaint, n.Complaint.Recipients, n.Complaint.Timestamp
	default:
		return nil, nil
	}
	var out []dispatcher.BounceEvent
	for _, r := range rs {
		if to := address(r.EmailAddress); to != "" {
			out = append(out, dispatcher.BounceEvent{Kind: kind, Email: to, MessageID: n.Mail.CommonHeaders.MessageID, At: at.UTC(), Source: "ses"})
		}
	}
	return out, nil
}

// httpGet returns the body of a GET of u (at most 64 KB), or an error for
// a failure or a status other than 200.
func httpGet(ctx context.Context, u string) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return nil, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return nil, fmt.Errorf("GET %s: %s", u, resp.Status)
	}
	return io.ReadAll(io.LimitReader(resp.Body, 64<<10))
}
