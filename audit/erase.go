package audit

// Erasure on request (issue 14 item 5): Detail holds email_hmac, never the
// address. ContactErase is a coordinator's erasure; SuppressionLift with
// reason "erased" is an admin's lifting of one.
const ContactErase Action = "contact.erase"
