package bounces

import (
	"crypto/ecdsa"
	"crypto/sha256"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// SendGrid reads SendGrid's signed event webhook: a JSON array of events,
// signed with ECDSA (P-256, SHA-256) over the timestamp header followed by
// the body. bounce (type bounce) → hard, bounce of type blocked → soft,
// spamreport → complaint; other events are left out.
type SendGrid struct {
	key *ecdsa.PublicKey
	now func() time.Time
}

var _ Provider = (*SendGrid)(nil)

// Headers of SendGrid's signed event webhook.
const (
	SendGridSignatureHeader = "X-Twilio-Email-Event-Webhook-Signature"
	SendGridTimestampHeader = "X-Twilio-Email-Event-Webhook-Timestamp"
)

// NewSendGrid returns a SendGrid for the verification key SendGrid shows
// (base64 of a DER public key, PREGON_SENDGRID_WEBHOOK_KEY), with the clock
// now (nil: time.Now). It returns an error for a key that is not an ECDSA
// public key.
func NewSendGrid(publicKey string, now func() time.Time) (*SendGrid, error) {
	der, err := base64.StdEncoding.DecodeString(strings.TrimSpace(publicKey))
	if err != nil {
		return nil, fmt.Errorf("sendgrid verification key: not base64: %w", err)
	}
	k, err := x509.ParsePKIXPublicKey(der)
	if err != nil {
		return nil, fmt.Errorf("sendgrid verification key: %w", err)
	}
	ek, ok := k.(*ecdsa.PublicKey)
	if !ok {
		return nil, errors.New("sendgrid verification key: not an ECDSA key")
	}
	return &SendGrid{key: ek, now: clock(now)}, nil
}

// Verify checks the signature header over the timestamp header and body,
// and the timestamp's age.
func (s *SendGrid) Verify(r *http.Request, body []byte) error {
	sig, err := base64.StdEncoding.DecodeString(r.Header.Get(SendGridSignatureHeader))
	ts := r.Header.Get(SendGridTimestampHeader)
	if err != nil || len(sig) == 0 || ts == "" {
		return fmt.Errorf("sendgrid: no signature: %w", ErrUnauthorized)
	}
	h := sha256.New()
	h.Write([]byte(ts))
	h.Write(body)
	if !ecdsa.VerifyASN1(s.key, h.Sum(nil), sig) {
		return fmt.Errorf("sendgrid: bad signature: %w", ErrUnauthorized)
	}
	sec, err := strconv.ParseInt(ts, 10, 64)
	if err != nil || !fresh(time.Unix(sec, 0), s.now()) {
		return fmt.Errorf("sendgrid: stale or bad timestamp: %w", ErrUnauthorized)
	}
	return nil
}

// Parse returns the bounces and complaints among the events. The smtp-id
// of an event is the message's Message-ID.
func (s *SendGrid) Parse(body []byte) ([]dispatcher.BounceEvent, error) {
	var evs []struct {
		Email     string `json:"email"`
		Event     string `json:"event"`
		Type      string `json:"type"`
		Timestamp int64  `json:"timestamp"`
		SMTPID    string `json:"smtp-id"`
	}
	if err := json.Unmarshal(body, &evs); err != nil {
		return nil, fmt.Errorf("sendgrid: %w: %v", ErrBadPayload, err)
	}
	var out []dispatcher.BounceEvent
	for _, e := range evs {
		var kind dispatcher.BounceKind
		switch {
		case e.Event == "bounce" && e.Type == "blocked":
			kind = dispatcher.BounceSoft
		case e.Event == "bounce":
			kind = dispatcher.BounceHard
		case e.Event == "spamreport":
			kind = dispatcher.BounceComplaint
		default:
			continue
		}
		to := address(e.Email)
		if to == "" {
			continue
		}
		out = append(out, dispatcher.BounceEvent{Kind: kind, Email: to, MessageID: e.SMTPID,
			At: time.Unix(e.Timestamp, 0).UTC(), Source: "sendgrid"})
	}
	return out, nil
}
