package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestUsersAndSessions creates, finds, lists and disables users, and keeps
// sessions under the hash of their id only, with a TTL.
func TestUsersAndSessions(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	s := store.New(rdb, nil)
	u := &auth.User{Email: " Ana@Example.org", Name: "Ana", Role: auth.RoleCoordinator, PasswordHash: "$argon2id$x"}
	if err := s.CreateUser(ctx, u); err != nil {
		t.Fatal(err)
	}
	if err := s.CreateUser(ctx, &auth.User{Email: "ana@example.org", Role: auth.RoleViewer}); !errors.Is(err, dispatcher.ErrConflict) {
		t.Errorf("second user with one email: %v, want ErrConflict", err)
	}
	got, err := s.User(ctx, "ANA@example.org")
	if err != nil || got.Email != "ana@example.org" || got.Role != auth.RoleCoordinator || got.PasswordHash != "$argon2id$x" || got.Disabled {
		t.Fatalf("User = %+v, %v", got, err)
	}
	if _, err := s.User(ctx, "nobody@example.org"); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("unknown user: %v", err)
	}
	if err := s.SetUserDisabled(ctx, "ana@example.org", true); err != nil {
		t.Fatal(err)
	}
	if err := s.SetUserDisabled(ctx, "nobody@example.org", true); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("disable unknown: %v", err)
	}
	if n, _ := rdb.Exists(ctx, "pregon:user:nobody@example.org").Result(); n != 0 {
		t.Errorf("disabling an unknown user made its key")
	}
	us, err := s.Users(ctx)
	if err != nil || len(us) != 1 || !us[0].Disabled {
		t.Fatalf("Users = %+v, %v", us, err)
	}

	id, _ := auth.NewSessionID()
	if err := s.CreateSession(ctx, auth.Hash(id), &store.Session{Email: "ana@example.org", CSRF: "c"}, time.Hour); err != nil {
		t.Fatal(err)
	}
	keys, _ := rdb.Keys(ctx, "pregon:session:*").Result()
	if len(keys) != 1 || strings.Contains(keys[0], id) || keys[0] != "pregon:session:"+auth.Hash(id) {
		t.Errorf("session keys %v", keys)
	}
	if ttl, _ := rdb.PTTL(ctx, keys[0]).Result(); ttl <= 0 {
		t.Errorf("session has no TTL (%v)", ttl)
	}
	sess, err := s.Session(ctx, auth.Hash(id))
	if err != nil || sess.Email != "ana@example.org" || sess.CSRF != "c" {
		t.Fatalf("Session = %+v, %v", sess, err)
	}
	if err := s.DeleteSession(ctx, auth.Hash(id)); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Session(ctx, auth.Hash(id)); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("deleted session: %v", err)
	}
}
