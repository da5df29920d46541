package bounces

import (
	"crypto/subtle"
	"encoding/json"
	"fmt"
	"net/http"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// Postmark reads Postmark's bounce and spam complaint webhooks. Postmark
// signs nothing: it sends the basic-auth credentials written in the
// webhook's URL (https://pregon:SECRET@host/webhooks/postmark), and the
// password must be Secret.
type Postmark struct {
	// Secret is the basic-auth password (PREGON_POSTMARK_WEBHOOK_SECRET).
	Secret string
}

var _ Provider = (*Postmark)(nil)

// Verify checks the basic-auth password, in constant time.
func (p *Postmark) Verify(r *http.Request, _ []byte) error {
	_, pass, ok := r.BasicAuth()
	if !ok || p.Secret == "" || subtle.ConstantTimeCompare([]byte(pass), []byte(p.Secret)) != 1 {
		return fmt.Errorf("postmark: %w", ErrUnauthorized)
	}
	return nil
}

// postmarkHard are the bounce types that mean the address does not take mail.
var postmarkHard = map[string]bool{"HardBounce": true, "BadEmailAddress": true, "ManuallyDeactivated": true}

// Parse returns the bounce (RecordType Bounce: HardBounce, BadEmailAddress
// and ManuallyDeactivated are hard, the other types soft) or the complaint
// (RecordType SpamComplaint). Postmark's MessageID is its own, so events
// match by address.
func (p *Postmark) Parse(body []byte) ([]dispatcher.BounceEvent, error) {
	var b struct {
		RecordType string `json:"RecordType"`
		Type       string `json:"Type"`
		Email      string `json:"Email"`
		BouncedAt  string `json:"BouncedAt"`
	}
	if err := json.Unmarshal(body, &b); err != nil {
		return nil, fmt.Errorf("postmark: %w: %v", ErrBadPayload, err)
	}
	var kind dispatcher.BounceKind
	switch {
	case b.RecordType == "SpamComplaint" || b.Type == "SpamComplaint":
		kind = dispatcher.BounceComplaint
	case b.RecordType == "Bounce" && postmarkHard[b.Type]:
		kind = dispatcher.BounceHard
	case b.RecordType == "Bounce":
		kind = dispatcher.BounceSoft
	default:
		return nil, nil
	}
	to := address(b.Email)
	if to == "" {
		return nil, fmt.Errorf("postmark: %w: no email", ErrBadPayload)
	}
	at, _ := time.Parse(time.RFC3339Nano, b.BouncedAt)
	return []dispatcher.BounceEvent{{Kind: kind, Email: to, At: at.UTC(), Source: "postmark"}}, nil
}
