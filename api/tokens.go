package api

import (
	"net/http"
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
	if err := s.store.RevokeToken(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
