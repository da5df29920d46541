package api

import (
	"context"
	"errors"
	"net/http"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// ErasureStore erases addresses on request and says why an address is not
// mailed (store.Store implements it). Issue 14 item 5.
type ErasureStore interface {
	// Erase removes email from every list, its contact record and its
	// suppression, keeping only a keyed hash that suppresses it; it
	// returns what it did.
	Erase(ctx context.Context, email string) (*dispatcher.Erasure, error)
	// SuppressionOf returns why email is never mailed (its erasure
	// included), or dispatcher.ErrNotFound.
	SuppressionOf(ctx context.Context, email string) (*dispatcher.Suppression, error)
}

// errNoErasure answers the erasure endpoint of a server that cannot erase.
var errNoErasure = &Problem{Status: http.StatusNotImplemented, Detail: "This server erases no addresses (it has no erasure store or no secret)."}

// ErasureUnavailable reports whether an error of Erase means that the
// server cannot erase at all; store.ErrNoErasureKey is one (set by the
// wiring, so that this package needs no store import). Nil: none is.
type ErasureUnavailable func(error) bool

// erasureAnswer is POST /v1/contacts/{email}/erase's answer: what was done,
// and the keyed hash that the audit log names the address by. It does not
// repeat the address.
type erasureAnswer struct {
	*dispatcher.Erasure
	EmailHMAC string `json:"email_hmac,omitempty"`
}

// eraseContact handles POST /v1/contacts/{email}/erase (coordinator): the
// address is erased on request (see ErasureStore) → 200 with what was
// done. Erasing an address twice is allowed (it removes whatever named it
// since). The audit entry names the address only by email_hmac.
func (s *Server) eraseContact(w http.ResponseWriter, r *http.Request) error {
	if s.erasure == nil {
		return errNoErasure
	}
	email, err := dispatcher.NormalizeEmail(r.PathValue("email"))
	if err != nil {
		return invalid("The path does not name an email address.", FieldError{Field: "email", Message: "invalid email"})
	}
	er, err := s.erasure.Erase(r.Context(), email)
	if err != nil {
		if s.erasureUnavailable != nil && s.erasureUnavailable(err) {
			return errNoErasure
		}
		if er == nil {
			return err
		}
		// The hash is recorded (nobody mails the address), but not all
		// that named it was removed: the audit says so, and a second
		// erasure finishes the job.
		s.log.ErrorContext(r.Context(), "erasure incomplete", "error", err)
	}
	detail := s.emailDetail(email)
	detail["lists"], detail["suppressed"], detail["redacted"], detail["sending"] = er.Lists, er.Suppressed, er.Redacted, er.Sending
	if err != nil {
		detail["incomplete"] = true
	}
	if aerr := s.audit(r, audit.Entry{Action: audit.ContactErase, Detail: detail}); aerr != nil {
		return aerr
	}
	if err != nil {
		return err
	}
	ans := erasureAnswer{Erasure: er}
	if h, ok := detail["email_hmac"].(string); ok {
		ans.EmailHMAC = h
	}
	return writeJSON(w, http.StatusOK, ans)
}

// getSuppression handles GET /v1/suppressions/{email} (admin): whether the
// address is suppressed and why → 200 with the suppression (reason erased
// for an erased address, found from its hash), 404 when it is mailed.
func (s *Server) getSuppression(w http.ResponseWriter, r *http.Request) error {
	if s.erasure == nil {
		return errNoSuppressions
	}
	email, err := dispatcher.NormalizeEmail(r.PathValue("email"))
	if err != nil {
		return invalid("The path does not end in an email address.", FieldError{Field: "email", Message: "invalid email"})
	}
	sup, err := s.erasure.SuppressionOf(r.Context(), email)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return &Problem{Status: http.StatusNotFound, Detail: "This address is not suppressed: Pregón mails it."}
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, sup)
}

// isErased reports whether email was erased on request (false when the
// server keeps no erasures).
func (s *Server) isErased(ctx context.Context, email string) (bool, error) {
	if s.erasure == nil {
		return false, nil
	}
	sup, err := s.erasure.SuppressionOf(ctx, email)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	return sup.Reason == dispatcher.ReasonErased, nil
}
