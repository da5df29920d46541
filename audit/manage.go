package audit

// Actions of managing contacts and people from the web app (issue 14).
const (
	// ContactUpdate: a contact's fields were edited; Target is empty and
	// Detail holds the fields changed and email_hmac (a keyed hash, never
	// the address, as for contact.remove).
	ContactUpdate Action = "contact.update"
	// UserRole: an admin changed a person's role; Target is their email,
	// Detail: role (the new one) and was.
	UserRole Action = "user.role"
)
