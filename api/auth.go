package api

import (
	"errors"
	"net/http"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// authenticate returns the token the request presents as
// "Authorization: Bearer TOKEN", or a 401 problem (with a WWW-Authenticate
// challenge) when there is none or the store does not know it.
//
// The presented token is hashed and the hash looked up: tokens are never
// compared byte by byte, so how long a comparison takes says nothing about a
// stored token, and the store holds only hashes (see dispatcher.HashToken).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*dispatcher.Token, error) {
	scheme, presented, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	presented = strings.TrimSpace(presented)
	if !ok || !strings.EqualFold(scheme, "Bearer") || presented == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pregon"`)
		return nil, &Problem{Status: http.StatusUnauthorized,
			Detail: "Send an API token as \"Authorization: Bearer TOKEN\"."}
	}
	tok, err := s.store.Token(r.Context(), dispatcher.HashToken(presented))
	if errors.Is(err, dispatcher.ErrNotFound) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pregon", error="invalid_token"`)
		return nil, &Problem{Status: http.StatusUnauthorized, Detail: "The API token is not valid."}
	}
	if err != nil {
		return nil, err
	}
	return tok, nil
}
