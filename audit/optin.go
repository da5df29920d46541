package audit

// The actions of double opt-in (issue 10), made by people on the public
// subscribe form (Actor "public"): Target is the list's id, the email is in
// Detail.
const (
	ContactSubscribe Action = "contact.subscribe" // a new pending member signed up
	ContactConfirm   Action = "contact.confirm"   // a pending member confirmed
)
