package dispatcher

import "time"

// Erasure is what erasing an address on request did (issue 14 item 5):
// the address is gone from every list, its contact record and its
// suppression, and only a keyed hash of it is kept, so that it is never
// mailed again.
type Erasure struct {
	// At is when the address was erased.
	At time.Time `json:"at"`
	// Lists counts the lists it was a member of (pending or confirmed).
	Lists int `json:"lists"`
	// Suppressed counts its deliveries that were queued or retrying, in
	// releases still sending: they became suppressed and are not sent.
	Suppressed int `json:"suppressed"`
	// Redacted counts the delivery records whose recipient is now the hash
	// (the suppressed ones and those of earlier releases, sent or not).
	Redacted int `json:"redacted"`
	// Sending counts its deliveries that a worker was sending at that
	// moment: they may still go out, and keep the address until a later
	// erasure of it.
	Sending int `json:"sending"`
}

// ErasedMessage is what an import says of a row whose address was erased
// on request: the row is refused, and nothing of it is stored.
const ErasedMessage = "erased on request"
