package audit

// The actions of double opt-in (issue 10), made by people on the public
// subscribe form (Actor "public"): Target is the list's id; the address is
// in Detail only as a keyed hash, "email_hmac" (entries recorded before
// erasure existed hold "email" in the clear).
const (
	ContactSubscribe Action = "contact.subscribe" // a new pending member signed up
	ContactConfirm   Action = "contact.confirm"   // a pending member confirmed
)
