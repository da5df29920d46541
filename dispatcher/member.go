package dispatcher

import "time"

// MemberStatus is where a member of a list stands.
type MemberStatus string

// The statuses of a list member.
const (
	// MemberPending signed up through the public subscribe form and has not
	// confirmed yet: releases to the list skip it.
	MemberPending MemberStatus = "pending"
	// MemberConfirmed receives the list's releases: it confirmed its
	// subscription, or a coordinator added it (who vouches for consent).
	MemberConfirmed MemberStatus = "confirmed"
	// MemberUnsubscribed is a member whose address unsubscribed (it is
	// suppressed with the reason "unsubscribed"): nothing is mailed to it.
	MemberUnsubscribed MemberStatus = "unsubscribed"
)

// Valid reports whether s is a known member status.
func (s MemberStatus) Valid() bool {
	return s == MemberPending || s == MemberConfirmed || s == MemberUnsubscribed
}

// ListMember is a contact as listed under a list: the contact, where it
// stands on the list, and whether its address is suppressed.
type ListMember struct {
	Contact
	Status MemberStatus `json:"status"`
	// SubscribedAt is when it signed up through the subscribe form (nil for
	// a member a coordinator added).
	SubscribedAt *time.Time `json:"subscribed_at,omitempty"`
	// ConfirmedAt is when it confirmed its subscription (nil for a member
	// a coordinator added, or a pending one).
	ConfirmedAt *time.Time `json:"confirmed_at,omitempty"`
	// Suppressed says why and since when its address is never mailed; nil
	// when it is not suppressed.
	Suppressed *SuppressionMark `json:"suppressed"`
}

// SuppressionMark is why an address is suppressed, and since when (nil
// when the store does not know).
type SuppressionMark struct {
	Reason string     `json:"reason"`
	At     *time.Time `json:"at"`
}

// SubscribeOutcome is what a sign-up through the subscribe form found and
// did. The public answer is the same for all of them.
type SubscribeOutcome int

// The outcomes of a sign-up.
const (
	// SubscribeAdded: the address joined the list as a pending member.
	SubscribeAdded SubscribeOutcome = iota + 1
	// SubscribeStillPending: it was already a pending member.
	SubscribeStillPending
	// SubscribeAlreadyConfirmed: it was already a confirmed member; nothing changed.
	SubscribeAlreadyConfirmed
	// SubscribeSuppressed: the address is suppressed; nothing changed.
	SubscribeSuppressed
)

// NeedsConfirmation reports whether a confirmation email is due after a
// sign-up with this outcome: for a new or still pending member only.
func (o SubscribeOutcome) NeedsConfirmation() bool {
	return o == SubscribeAdded || o == SubscribeStillPending
}
