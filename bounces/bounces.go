// Package bounces reads the bounce and complaint reports that email
// providers post to Pregón's webhooks (POST /webhooks/{provider}): each
// Provider checks that a request is its provider's (a signature or a
// shared secret) and turns its body into dispatcher.BounceEvents.
//
// Mailgun signs with HMAC-SHA256 of timestamp and token under the webhook
// signing key; SendGrid's signed event webhook with ECDSA P-256 over the
// timestamp and the body; Postmark sends the basic-auth credentials put in
// the webhook's URL; Amazon SES notifications come through SNS, whose
// messages are signed with RSA and a certificate served by amazonaws.com.
package bounces

import (
	"errors"
	"net/http"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// Sentinel errors. Verify's errors wrap ErrUnauthorized; Parse's ErrBadPayload.
var (
	ErrUnauthorized = errors.New("not signed by the provider")
	ErrBadPayload   = errors.New("not a report this provider sends")
)

// MaxAge is how old (or how far in the future) a signed timestamp may be:
// an older request is taken for a replay.
const MaxAge = 15 * time.Minute

// Provider reads one provider's webhook requests.
type Provider interface {
	// Verify checks that r, whose body is body, comes from the provider;
	// an error wraps ErrUnauthorized.
	Verify(r *http.Request, body []byte) error
	// Parse returns the bounces and complaints in a verified body, leaving
	// out the events that are neither; an error wraps ErrBadPayload.
	Parse(body []byte) ([]dispatcher.BounceEvent, error)
}

// fresh reports whether a signed time is within MaxAge of now.
func fresh(t, now time.Time) bool {
	d := now.Sub(t)
	return d < MaxAge && d > -MaxAge
}

// clock returns now, or time.Now when nil.
func clock(now func() time.Time) func() time.Time {
	if now == nil {
		return time.Now
	}
	return now
}

// address returns email normalised, or "" when it is not one address.
func address(email string) string {
	e, err := dispatcher.NormalizeEmail(email)
	if err != nil {
		return ""
	}
	return e
}
