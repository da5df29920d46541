package api

import (
	"errors"
	"net/http"
	"strings"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// authenticate returns the token the request presents as
// "Authorization: Bearer TOKEN", or a 401 problem (with a WWW-Authenticate
// challenge) when there is none, the store does not know it (never made, or
// revoked), or it has expired. It records when a token was used, at most
// once per auth.TouchEvery.
//
// The presented token is hashed and the hash looked up: tokens are never
// compared byte by byte, so how long a comparison takes says nothing about a
// stored token, and the store holds only hashes (see auth.Hash).
func (s *Server) authenticate(w http.ResponseWriter, r *http.Request) (*auth.Token, error) {
	scheme, presented, ok := strings.Cut(r.Header.Get("Authorization"), " ")
	presented = strings.TrimSpace(presented)
	if !ok || !strings.EqualFold(scheme, "Bearer") || presented == "" {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pregon"`)
		return nil, &Problem{Status: http.StatusUnauthorized,
			Detail: "Send an API token as \"Authorization: Bearer TOKEN\"."}
	}
	ctx := r.Context()
	hash := auth.Hash(presented)
	tok, err := s.store.Token(ctx, hash)
	if errors.Is(err, dispatcher.ErrNotFound) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pregon", error="invalid_token"`)
		return nil, &Problem{Status: http.StatusUnauthorized, Detail: "The API token is not valid."}
	}
	if err != nil {
		return nil, err
	}
	now := s.now()
	if tok.Expired(now) {
		w.Header().Set("WWW-Authenticate", `Bearer realm="pregon", error="invalid_token", error_description="expired"`)
		return nil, &Problem{Status: http.StatusUnauthorized,
			Detail: "The API token expired at " + tok.ExpiresAt.UTC().Format(time.RFC3339) + "; ask an admin for a new one."}
	}
	if tok.NeedsTouch(now) {
		if err := s.store.TouchToken(ctx, hash, now); err != nil {
			s.log.WarnContext(ctx, "cannot record a token's use", "token_id", tok.ID, "error", err)
		}
	}
	return tok, nil
}
