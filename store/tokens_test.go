package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestTokensStoredHashed checks that a token is found by its hash only, and
// that nothing in Redis holds the token itself.
func TestTokensStoredHashed(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	s := store.New(rdb, nil)
	tok, err := dispatcher.NewToken()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, dispatcher.HashToken(tok), &dispatcher.Token{Name: "ana", Role: dispatcher.RoleCoordinator}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(ctx, dispatcher.HashToken(tok))
	if err != nil || got.Name != "ana" || got.Role != dispatcher.RoleCoordinator {
		t.Fatalf("Token(hash) = %+v, %v", got, err)
	}
	if _, err := s.Token(ctx, tok); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("Token(the token itself) = %v, want ErrNotFound", err)
	}
	keys, err := rdb.Keys(ctx, "*").Result()
	if err != nil {
		t.Fatal(err)
	}
	secret := strings.TrimPrefix(tok, "pgn_")
	for _, k := range keys {
		if strings.Contains(k, secret) {
			t.Errorf("key %q holds the token", k)
		}
		vals, err := rdb.HGetAll(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		for f, v := range vals {
			if strings.Contains(v, secret) {
				t.Errorf("%s %s holds the token", k, f)
			}
		}
	}
}
