package dispatcher

import (
	"errors"
	"strings"
	"time"
)

// BounceKind says what came back from a delivery.
type BounceKind string

// Bounce kinds. A hard bounce (the address does not exist) and a complaint
// (the recipient marked the message as spam) suppress the address; a soft
// bounce (a full mailbox, a server that refused for now) is only recorded.
const (
	BounceHard      BounceKind = "hard"
	BounceSoft      BounceKind = "soft"
	BounceComplaint BounceKind = "complaint"
)

// Bounce sources: where a bounce was learned. Provider webhooks name their
// provider ("ses", "postmark", "mailgun", "sendgrid").
const (
	// SourceRcpt is the SMTP server's refusal of the recipient (RCPT TO).
	SourceRcpt = "rcpt"
)

// Bounce is what came back from a delivery after it was sent or refused.
type Bounce struct {
	Kind   BounceKind `json:"kind"`
	At     time.Time  `json:"at"`
	Source string     `json:"source"`
}

// SuppressionReason says why an address is suppressed.
type SuppressionReason string

// Suppression reasons.
const (
	ReasonUnsubscribed SuppressionReason = "unsubscribed"
	ReasonHardBounce   SuppressionReason = "hard_bounce"
	ReasonComplaint    SuppressionReason = "complaint"
	ReasonErased       SuppressionReason = "erased"
)

// Suppression is an address that is never mailed again, and why. At is
// zero and Source empty for suppressions recorded before they were kept.
type Suppression struct {
	Email  string            `json:"email"`
	Reason SuppressionReason `json:"reason"`
	At     time.Time         `json:"at"`
	Source string            `json:"source"`
}

// SuppressionFor returns the suppression reason a bounce of kind k makes,
// and false for a kind that suppresses nothing (a soft bounce).
func SuppressionFor(k BounceKind) (SuppressionReason, bool) {
	switch k {
	case BounceHard:
		return ReasonHardBounce, true
	case BounceComplaint:
		return ReasonComplaint, true
	}
	return "", false
}

// BounceError is a send error that is also a bounce: the provider said the
// address does not exist (or, for a soft bounce, cannot take mail now).
// Find it with errors.As, or BounceOf.
type BounceError struct {
	Kind   BounceKind
	Source string
	Err    error
}

func (e *BounceError) Error() string { return e.Err.Error() }
func (e *BounceError) Unwrap() error { return e.Err }

// HardBounce wraps err as a permanent error that is a hard bounce learned
// from source: the delivery fails and the address is suppressed.
func HardBounce(err error, source string) error {
	return Permanent(&BounceError{Kind: BounceHard, Source: source, Err: err})
}

// BounceOf returns the bounce err carries, if any.
func BounceOf(err error) (*BounceError, bool) {
	var be *BounceError
	if errors.As(err, &be) {
		return be, true
	}
	return nil, false
}

// BounceEvent is a bounce or complaint reported after the fact (by a
// provider's webhook): for the address Email, about the message whose
// Message-ID is MessageID when the report names it ("" otherwise).
type BounceEvent struct {
	Kind      BounceKind
	Email     string
	MessageID string
	At        time.Time
	Source    string
}

// ParseMessageID returns the release and delivery ids of one of Pregón's
// Message-IDs, <delivery id>.<release id>@domain (emailMessage), with or
// without angle brackets; ok is false for any other Message-ID.
func ParseMessageID(id string) (releaseID, deliveryID string, ok bool) {
	id = strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(id), "<"), ">")
	local, _, ok := strings.Cut(id, "@")
	if !ok {
		return "", "", false
	}
	deliveryID, releaseID, ok = strings.Cut(local, ".")
	if !ok || len(deliveryID) != 24 || strings.Trim(deliveryID, "0123456789abcdef") != "" || !strings.HasPrefix(releaseID, "rel_") {
		return "", "", false
	}
	return releaseID, deliveryID, true
}
