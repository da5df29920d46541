package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/auth"
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
	tok, err := auth.NewSecret()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.CreateToken(ctx, auth.Hash(tok), &auth.Token{Name: "ana", Role: auth.RoleCoordinator}); err != nil {
		t.Fatal(err)
	}
	got, err := s.Token(ctx, auth.Hash(tok))
	if err != nil || got.Name != "ana" || got.Role != auth.RoleCoordinator {
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
		var vals map[string]string
		switch typ := rdb.Type(ctx, k).Val(); typ {
		case "hash":
			vals, err = rdb.HGetAll(ctx, k).Result()
		case "string":
			var v string
			v, err = rdb.Get(ctx, k).Result()
			vals = map[string]string{"": v}
		case "zset":
			var ms []string
			ms, err = rdb.ZRange(ctx, k, 0, -1).Result()
			vals = map[string]string{"": strings.Join(ms, " ")}
		default:
			t.Fatalf("%s is a %s", k, typ)
		}
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

// TestTokenLifecycle creates tokens (one expiring), lists them, records a
// use, and revokes one: the revoked token is found no more, and its id is
// neither its secret nor its hash.
func TestTokenLifecycle(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	now := time.Date(2026, 12, 4, 10, 0, 0, 0, time.UTC)
	s := store.New(rdb, func() time.Time { return now })

	secrets := map[string]string{}
	expires := now.Add(720 * time.Hour)
	var made []*auth.Token
	for _, tc := range []struct {
		name string
		role auth.Role
		exp  *time.Time
	}{{"ana", auth.RoleAdmin, nil}, {"ci", auth.RoleViewer, &expires}} {
		sec, err := auth.NewSecret()
		if err != nil {
			t.Fatal(err)
		}
		tok := &auth.Token{Name: tc.name, Role: tc.role, ExpiresAt: tc.exp}
		if err := s.CreateToken(ctx, auth.Hash(sec), tok); err != nil {
			t.Fatal(err)
		}
		if tok.ID == "" || strings.Contains(sec, tok.ID) || strings.Contains(auth.Hash(sec), strings.TrimPrefix(tok.ID, "tok_")) {
			t.Fatalf("token id %q is empty or part of its secret or hash", tok.ID)
		}
		secrets[tok.ID] = sec
		made = append(made, tok)
		now = now.Add(time.Second)
	}

	used := now.Add(time.Minute)
	if err := s.TouchToken(ctx, auth.Hash(secrets[made[0].ID]), used); err != nil {
		t.Fatal(err)
	}
	got, err := s.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []*auth.Token{
		{ID: made[0].ID, Name: "ana", Role: auth.RoleAdmin, CreatedAt: made[0].CreatedAt, LastUsedAt: &used},
		{ID: made[1].ID, Name: "ci", Role: auth.RoleViewer, CreatedAt: made[1].CreatedAt, ExpiresAt: &expires},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Fatalf("Tokens (-want +got):\n%s", diff)
	}

	if err := s.RevokeToken(ctx, made[0].ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, auth.Hash(secrets[made[0].ID])); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("Token(revoked) = %v, want ErrNotFound", err)
	}
	if err := s.TouchToken(ctx, auth.Hash(secrets[made[0].ID]), used); err != nil {
		t.Fatal(err)
	}
	if n, _ := rdb.Exists(ctx, "pregon:token:"+auth.Hash(secrets[made[0].ID])).Result(); n != 0 {
		t.Error("touching a revoked token brought its record back")
	}
	for _, id := range []string{made[0].ID, "tok_nope", "../x"} {
		if err := s.RevokeToken(ctx, id); !errors.Is(err, dispatcher.ErrNotFound) {
			t.Errorf("RevokeToken(%q) = %v, want ErrNotFound", id, err)
		}
	}
	got, err = s.Tokens(ctx)
	if err != nil || len(got) != 1 || got[0].ID != made[1].ID {
		t.Fatalf("Tokens after revoking = %v, %v; want the ci token alone", got, err)
	}
	if tok, err := s.Token(ctx, auth.Hash(secrets[made[1].ID])); err != nil || !tok.ExpiresAt.Equal(expires) {
		t.Fatalf("Token(ci) = %+v, %v", tok, err)
	}
}

// TestTokenWithoutIDGetsOne checks that a token stored before tokens had ids
// gets one when it is used, and is then listed and revocable.
func TestTokenWithoutIDGetsOne(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	rdb := srv.Client(t)
	s := store.New(rdb, nil)
	hash := auth.Hash("pgn_old")
	if err := rdb.HSet(ctx, "pregon:token:"+hash, "name", "old", "role", "admin", "created_at", "1700000000000").Err(); err != nil {
		t.Fatal(err)
	}
	first, err := s.Token(ctx, hash)
	if err != nil || first.ID == "" {
		t.Fatalf("Token = %+v, %v; want one with an id", first, err)
	}
	again, err := s.Token(ctx, hash)
	if err != nil || again.ID != first.ID {
		t.Fatalf("Token again = %+v, %v; want id %s", again, err, first.ID)
	}
	list, err := s.Tokens(ctx)
	if err != nil || len(list) != 1 || list[0].ID != first.ID {
		t.Fatalf("Tokens = %v, %v", list, err)
	}
	if err := s.RevokeToken(ctx, first.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := s.Token(ctx, hash); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("Token(revoked) = %v, want ErrNotFound", err)
	}
}
