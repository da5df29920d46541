package api

import (
	"net/http"

	"github.com/pregon/pregon/audit"
)

// getTokens handles GET /v1/tokens (admin): every API token, expired ones
// included, oldest first, as a page. A token is shown by its id, name, role
// and times; never its secret nor the secret's hash.
func (s *Server) getTokens(w http.ResponseWriter, r *http.Request) error {
	ts, err := s.store.Tokens(r.Context())
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(ts, ""))
}

// revokeToken handles DELETE /v1/tokens/{id} (admin): the token stops
// working at once → 204; 404 for an id that names no token.
func (s *Server) revokeToken(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	if err := s.store.RevokeToken(r.Context(), id); err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.TokenRevoke, Target: id}); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
