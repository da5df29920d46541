package api

import (
	"context"
	"errors"
	"net/http"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// TokenCreator makes API tokens (POST /v1/tokens). *store.Store
// implements it.
type TokenCreator interface {
	// CreateToken stores t under hash, the hash of its secret, and sets
	// t.ID and t.CreatedAt.
	CreateToken(ctx context.Context, hash string, t *auth.Token) error
}

// ContactStore reads and edits one contact, whatever its lists
// (GET and PATCH /v1/contacts/{email}). *store.Store implements it.
type ContactStore interface {
	// Contact returns the contact with a normalised email, or
	// dispatcher.ErrNotFound.
	Contact(ctx context.Context, email string) (*dispatcher.Contact, error)
	// UpdateContact replaces the contact's fields with c's (empty ones are
	// cleared); dispatcher.ErrNotFound when there is no such contact.
	UpdateContact(ctx context.Context, c dispatcher.Contact) error
	// Suppression returns the suppression of an address, or
	// dispatcher.ErrNotFound when it is not suppressed.
	Suppression(ctx context.Context, email string) (*dispatcher.Suppression, error)
}

// tokenInput is the body of POST /v1/tokens.
type tokenInput struct {
	Name      string     `json:"name"`
	Role      auth.Role  `json:"role"`
	ExpiresAt *time.Time `json:"expires_at"`
}

// NewToken is the answer to POST /v1/tokens: the token, and its secret,
// which is shown this once and never again (the store keeps its hash).
type NewToken struct {
	auth.Token
	Secret string `json:"token"`
}

// createToken handles POST /v1/tokens (admin) {name, role, expires_at?} →
// 201 with the token and, in "token", its secret: the only time it is
// shown. A token that cannot be recorded in the audit log is revoked and
// never handed out.
func (s *Server) createToken(w http.ResponseWriter, r *http.Request) error {
	tc, ok := s.store.(TokenCreator)
	if !ok {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server cannot make tokens; use pregon token create."}
	}
	var in tokenInput
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	var fe fieldErrors
	in.Name = strings.TrimSpace(in.Name)
	switch {
	case in.Name == "":
		fe.add("name", "is required")
	case len([]rune(in.Name)) > maxTextLen:
		fe.add("name", "must be at most %d characters", maxTextLen)
	case strings.IndexFunc(in.Name, badLineRune) >= 0:
		fe.add("name", "must be a single line (no line breaks)")
	}
	if !in.Role.Valid() {
		fe.add("role", "must be %q, %q or %q", auth.RoleAdmin, auth.RoleCoordinator, auth.RoleViewer)
	}
	if in.ExpiresAt != nil && !in.ExpiresAt.After(s.now()) {
		fe.add("expires_at", "must be in the future")
	}
	if err := fe.err(); err != nil {
		return err
	}
	secret, err := auth.NewSecret()
	if err != nil {
		return err
	}
	t := &auth.Token{Name: in.Name, Role: in.Role}
	if in.ExpiresAt != nil {
		at := in.ExpiresAt.UTC().Truncate(time.Millisecond)
		t.ExpiresAt = &at
	}
	if err := tc.CreateToken(r.Context(), auth.Hash(secret), t); err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.TokenCreate, Target: t.ID,
		Detail: map[string]any{"name": t.Name, "role": string(t.Role)}}); err != nil {
		ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
		defer cancel()
		if rerr := s.store.RevokeToken(ctx, t.ID); rerr != nil {
			s.log.ErrorContext(r.Context(), "token made but neither recorded nor revoked", "token_id", t.ID, "error", rerr)
		}
		return err
	}
	w.Header().Set("Location", "/v1/tokens/"+t.ID)
	return writeJSON(w, http.StatusCreated, NewToken{Token: *t, Secret: secret})
}

// ContactView is the answer to GET /v1/contacts/{email}: the contact and
// its suppression (null when it is mailed).
type ContactView struct {
	dispatcher.Contact
	// Known is false for an address that is only suppressed: on no list,
	// it has no contact to edit.
	Known      bool                    `json:"known"`
	Suppressed *dispatcher.Suppression `json:"suppressed"`
}

// contactEmail reads the {email} of the path.
func contactEmail(r *http.Request) (string, error) {
	email, err := dispatcher.NormalizeEmail(r.PathValue("email"))
	if err != nil {
		return "", invalid("The path does not end in an email address.", FieldError{Field: "email", Message: "invalid email"})
	}
	return email, nil
}

// getContact handles GET /v1/contacts/{email} (viewer): the contact, and
// why it is never mailed when it is suppressed (reason, when, where from).
// 404 when there is no contact with that address and it is not suppressed;
// a suppressed address that is on no list answers with the suppression.
func (s *Server) getContact(w http.ResponseWriter, r *http.Request) error {
	cs, ok := s.store.(ContactStore)
	if !ok {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server cannot show contacts one by one."}
	}
	email, err := contactEmail(r)
	if err != nil {
		return err
	}
	v := ContactView{Contact: dispatcher.Contact{Email: email}}
	c, cerr := cs.Contact(r.Context(), email)
	if cerr != nil && !errors.Is(cerr, dispatcher.ErrNotFound) {
		return cerr
	}
	if c != nil {
		v.Contact, v.Known = *c, true
	}
	suppression := cs.Suppression
	if s.erasure != nil { // an erased address is suppressed too, and says so
		suppression = s.erasure.SuppressionOf
	}
	sup, err := suppression(r.Context(), email)
	if err != nil && !errors.Is(err, dispatcher.ErrNotFound) {
		return err
	}
	v.Suppressed = sup
	if c == nil && sup == nil {
		return &Problem{Status: http.StatusNotFound, Detail: "There is no contact with that address, and it is not suppressed."}
	}
	return writeJSON(w, http.StatusOK, v)
}

// contactPatch is the body of PATCH /v1/contacts/{email}: the fields given
// are replaced ("" or [] clears one), the others kept.
type contactPatch struct {
	Name       *string            `json:"name"`
	Outlet     *string            `json:"outlet"`
	Language   *string            `json:"language"`
	Tags       *[]string          `json:"tags"`
	Attributes *map[string]string `json:"attributes"`
}

// editContact handles PATCH /v1/contacts/{email} (coordinator) {name?,
// outlet?, language?, tags?, attributes?} → 200 contact, on every list it
// is on. Each field is checked as an import checks a row; 404 for an
// address that is no contact (an edit never makes one). The audit entry
// names the address only by a keyed hash.
func (s *Server) editContact(w http.ResponseWriter, r *http.Request) error {
	cs, ok := s.store.(ContactStore)
	if !ok {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server cannot edit contacts."}
	}
	email, err := contactEmail(r)
	if err != nil {
		return err
	}
	var in contactPatch
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	cur, err := cs.Contact(r.Context(), email)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return (&Problem{Status: http.StatusNotFound, Detail: "There is no contact with that address; add it to a list first."}).coded("contact.not_found")
	}
	if err != nil {
		return err
	}
	next := *cur
	var changed []string
	set := func(name string, given bool, apply func()) {
		if given {
			apply()
			changed = append(changed, name)
		}
	}
	set("name", in.Name != nil, func() { next.Name = *in.Name })
	set("outlet", in.Outlet != nil, func() { next.Outlet = *in.Outlet })
	set("language", in.Language != nil, func() { next.Language = *in.Language })
	set("tags", in.Tags != nil, func() { next.Tags = *in.Tags })
	set("attributes", in.Attributes != nil, func() { next.Attributes = *in.Attributes })
	if len(changed) == 0 {
		return invalid("Give at least one of name, outlet, language, tags, attributes.")
	}
	c, why := contactOf(next)
	if msg := why.Message; msg != "" {
		field := "contact"
		for _, f := range []string{"name", "outlet", "language", "tags", "attributes"} {
			if strings.HasPrefix(msg, f) || strings.HasPrefix(msg, "invalid "+f) || (f == "tags" && strings.Contains(msg, "tag")) {
				field = f
				break
			}
		}
		return invalid(msg+".", FieldError{Field: field, Message: msg})
	}
	if err := cs.UpdateContact(r.Context(), c); err != nil {
		return err
	}
	slices.Sort(changed)
	d := map[string]any{"fields": strings.Join(changed, ",")}
	if s.emailHasher != nil {
		d["email_hmac"] = s.emailHasher.HashEmail(email)
	}
	if err := s.audit(r, audit.Entry{Action: audit.ContactUpdate, Detail: d}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}
