package bounces

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// Mailgun reads Mailgun's webhooks (JSON, with a "signature" object and an
// "event-data" object): failed permanent → hard bounce, failed temporary →
// soft, complained → complaint.
type Mailgun struct {
	// SigningKey is the HTTP webhook signing key (PREGON_MAILGUN_SIGNING_KEY).
	SigningKey string
	// Now is the clock for the timestamp's age; nil means time.Now.
	Now func() time.Time
}

var _ Provider = (*Mailgun)(nil)

type mailgunBody struct {
	Signature struct {
		Timestamp string `json:"timestamp"`
		Token     string `json:"token"`
		Signature string `json:"signature"`
	} `json:"signature"`
	Event struct {
		Event     string  `json:"event"`
		Severity  string  `json:"severity"`
		Recipient string  `json:"recipient"`
		Timestamp float64 `json:"timestamp"`
		Message   struct {
			Headers struct {
				MessageID string `json:"message-id"`
			} `json:"headers"`
		} `json:"message"`
	} `json:"event-data"`
}

// Verify checks the signature: hex HMAC-SHA256 of timestamp then token under
// the signing key, with a timestamp within MaxAge.
func (m *Mailgun) Verify(_ *http.Request, body []byte) error {
	var b mailgunBody
	if err := json.Unmarshal(body, &b); err != nil || m.SigningKey == "" {
		return fmt.Errorf("mailgun: %w", ErrUnauthorized)
	}
	sig, err := hex.DecodeString(b.Signature.Signature)
	if err != nil {
		return fmt.Errorf("mailgun: %w", ErrUnauthorized)
	}
	mac := hmac.New(sha256.New, []byte(m.SigningKey))
	mac.Write([]byte(b.Signature.Timestamp + b.Signature.Token))
	if !hmac.Equal(mac.Sum(nil), sig) {
		return fmt.Errorf("mailgun: bad signature: %w", ErrUnauthorized)
	}
	ts, err := strconv.ParseInt(b.Signature.Timestamp, 10, 64)
	if err != nil || !fresh(time.Unix(ts, 0), clock(m.Now)()) {
		return fmt.Errorf("mailgun: stale or bad timestamp: %w", ErrUnauthorized)
	}
	return nil
}

// Parse returns the event, if it is a bounce or a complaint.
func (m *Mailgun) Parse(body []byte) ([]dispatcher.BounceEvent, error) {
	var b mailgunBody
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("mailgun: %w: %v", ErrBadPayload, err)
	}
	e := b.Event
	var kind dispatcher.BounceKind
	switch {
	case e.Event == "failed" && e.Severity == "permanent":
		kind = dispatcher.BounceHard
	case e.Event == "failed":
		kind = dispatcher.BounceSoft
	case e.Event == "complained":
		kind = dispatcher.BounceComplaint
	default:
		return nil, nil
	}
	to := address(e.Recipient)
	if to == "" {
		return nil, fmt.Errorf("mailgun: %w: no recipient", ErrBadPayload)
	}
	sec, frac := math.Modf(e.Timestamp)
	return []dispatcher.BounceEvent{{Kind: kind, Email: to, MessageID: e.Message.Headers.MessageID,
		At: time.Unix(int64(sec), int64(frac*1e9)).UTC(), Source: "mailgun"}}, nil
}
