package api

import (
	"context"
	"net/http"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// SuppressionStore keeps the addresses that are never mailed again
// (store.Store implements it).
type SuppressionStore interface {
	// Suppressions returns a page of suppressions in email order, and the
	// cursor of the next page ("" on the last page).
	Suppressions(ctx context.Context, cursor string, limit int) ([]dispatcher.Suppression, string, error)
	// LiftSuppression removes the suppression of email and returns it as it
	// was; dispatcher.ErrNotFound when the address was not suppressed.
	LiftSuppression(ctx context.Context, email string) (*dispatcher.Suppression, error)
}

// errNoSuppressions answers the suppression endpoints of a server built
// without a SuppressionStore.
var errNoSuppressions = &Problem{Status: http.StatusNotImplemented, Detail: "This server keeps no suppression list."}

// getSuppressions handles GET /v1/suppressions?cursor=&limit= (admin): a
// page of the suppressed addresses, in email order, each with its reason
// (unsubscribed, hard_bounce, complaint, erased), when and where from.
func (s *Server) getSuppressions(w http.ResponseWriter, r *http.Request) error {
	if s.suppressions == nil {
		return errNoSuppressions
	}
	var fe fieldErrors
	cursor, limit := pageParams(r.URL.Query(), &fe)
	if err := fe.err(); err != nil {
		return err
	}
	sups, next, err := s.suppressions.Suppressions(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(sups, next))
}

// liftSuppression handles DELETE /v1/suppressions/{email} (admin): the
// address may be mailed again → 200 with the suppression as it was; 404
// when it was not suppressed. The lift is an audit entry that keeps the
// reason it had.
func (s *Server) liftSuppression(w http.ResponseWriter, r *http.Request) error {
	if s.suppressions == nil {
		return errNoSuppressions
	}
	email, err := dispatcher.NormalizeEmail(r.PathValue("email"))
	if err != nil {
		return invalid("The path does not end in an email address.", FieldError{Field: "email", Message: "invalid email"})
	}
	sup, err := s.suppressions.LiftSuppression(r.Context(), email)
	if err != nil {
		return err
	}
	// Like contact.remove, the entry names the address only by a keyed
	// hash: the log is never edited, so it must hold nothing an erasure
	// would have to remove.
	detail := map[string]any{"reason": string(sup.Reason), "source": sup.Source}
	if s.emailHasher != nil {
		detail["email_hmac"] = s.emailHasher.HashEmail(email)
	}
	if err := s.audit(r, audit.Entry{Action: audit.SuppressionLift, Detail: detail}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sup)
}
