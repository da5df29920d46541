package store

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
)

// CreateToken stores a token under its hash (see dispatcher.HashToken).
func (s *Store) CreateToken(ctx context.Context, hash string, t *dispatcher.Token) error {
	t.CreatedAt = s.now().UTC().Truncate(1e6)
	err := s.rdb.HSet(ctx, tokenKey(hash), "name", t.Name, "role", string(t.Role), "created_at", fmtTime(t.CreatedAt)).Err()
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return nil
}

// Token returns the token stored under hash, or dispatcher.ErrNotFound.
func (s *Store) Token(ctx context.Context, hash string) (*dispatcher.Token, error) {
	h, err := s.rdb.HGetAll(ctx, tokenKey(hash)).Result()
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if h["role"] == "" {
		return nil, fmt.Errorf("token: %w", dispatcher.ErrNotFound)
	}
	return &dispatcher.Token{Name: h["name"], Role: dispatcher.Role(h["role"]), CreatedAt: parseTime(h["created_at"])}, nil
}
