// Package auth holds what Pregón's API knows about its callers: API tokens
// and the roles they carry. A token is shown once to its owner and stored
// only as its hash; it may expire, and it can be revoked.
package auth

import (
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"fmt"
	"time"
)

// Role is what an API token may do. Roles nest: an admin may do all a
// coordinator may, and a coordinator all a viewer may.
type Role string

// The roles, from most to least powerful.
const (
	RoleAdmin       Role = "admin"
	RoleCoordinator Role = "coordinator"
	RoleViewer      Role = "viewer"
)

func (r Role) rank() int {
	switch r {
	case RoleAdmin:
		return 3
	case RoleCoordinator:
		return 2
	case RoleViewer:
		return 1
	}
	return 0
}

// Valid reports whether r is a known role.
func (r Role) Valid() bool { return r.rank() > 0 }

// Allows reports whether a token with role r may do what needs role need.
func (r Role) Allows(need Role) bool { return r.Valid() && r.rank() >= need.rank() }

// Token is an API token as stored and listed: never the secret its owner
// holds, nor that secret's hash (under which the store finds it). ID names
// the token for listing and revoking.
type Token struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Role      Role      `json:"role"`
	CreatedAt time.Time `json:"created_at"`
	// ExpiresAt is when the token stops working; nil: never.
	ExpiresAt *time.Time `json:"expires_at"`
	// LastUsedAt is when the token last authenticated a request, to the
	// minute (see TouchEvery); nil: never.
	LastUsedAt *time.Time `json:"last_used_at"`
}

// Expired reports whether t no longer works at now.
func (t *Token) Expired(now time.Time) bool { return t.ExpiresAt != nil && !now.Before(*t.ExpiresAt) }

// TouchEvery is how stale a token's LastUsedAt may be before a request that
// uses it records the time again: often enough to tell, rarely enough that
// reading with a token costs no write per request.
const TouchEvery = time.Minute

// NeedsTouch reports whether a request at now should record that t was used.
func (t *Token) NeedsTouch(now time.Time) bool {
	return t.LastUsedAt == nil || now.Sub(*t.LastUsedAt) >= TouchEvery
}

// NewSecret returns a new random API token, to be shown once to its owner.
// It fails only when the system's random source does.
func NewSecret() (string, error) {
	b := make([]byte, 32)
	if _, err := rand.Read(b); err != nil {
		return "", fmt.Errorf("new token: %w", err)
	}
	return "pgn_" + base64.RawURLEncoding.EncodeToString(b), nil
}

// Hash returns the form a token is stored and looked up in: its SHA-256, in
// hex. Tokens are long and random, so a fast hash is enough.
func Hash(secret string) string {
	sum := sha256.Sum256([]byte(secret))
	return hex.EncodeToString(sum[:])
}
