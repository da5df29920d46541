package links

import "time"

// PurposeConfirm is the purpose of the link in a double opt-in
// confirmation email. Its claims name the list in ReleaseID.
const PurposeConfirm = "confirm"

// ConfirmTTL is how long a confirmation link stays valid.
const ConfirmTTL = 48 * time.Hour

// ConfirmURL returns the link that confirms email's subscription to list
// listID: PUBLIC_URL/confirm/TOKEN, valid for ConfirmTTL. The token is
// signed, not stored: nothing that could confirm a subscription is kept.
func (s *Signer) ConfirmURL(email, listID string) string {
	tok := s.Sign(Claims{Purpose: PurposeConfirm, Email: email, ReleaseID: listID, Expires: s.now().Add(ConfirmTTL)})
	return s.publicURL + "/confirm/" + tok
}

// SubscribeURL returns the address of the public subscribe form of list
// listID: PUBLIC_URL/subscribe/LIST_ID.
func (s *Signer) SubscribeURL(listID string) string {
	return s.publicURL + "/subscribe/" + listID
}
