package store

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// People of the web app (issue 14; see the layout in store.go): users are
// found by their lower-cased email; a session by the SHA-256 of its id
// (auth.Hash), so that the store never holds a working cookie.
const (
	usersKey         = prefix + "users"    // ZSET emails (score 0, lexical order)
	userKeyPrefix    = prefix + "user:"    // + email: HASH email, name, role, password, disabled, created_at
	sessionKeyPrefix = prefix + "session:" // + sha256 of the id: HASH email, csrf, created_at (TTL)
)

// CreateUser stores a new user and sets u.CreatedAt; dispatcher.ErrConflict
// when a user with that email exists.
func (s *Store) CreateUser(ctx context.Context, u *auth.User) error {
	u.Email = strings.ToLower(strings.TrimSpace(u.Email))
	u.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	ok, err := s.rdb.HSetNX(ctx, userKeyPrefix+u.Email, "email", u.Email).Result()
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Email, err)
	}
	if !ok {
		return fmt.Errorf("create user %s: %w", u.Email, dispatcher.ErrConflict)
	}
	_, err = s.tx(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, userKeyPrefix+u.Email, "name", u.Name, "role", string(u.Role), "password", u.PasswordHash,
			"disabled", boolField(u.Disabled), "created_at", fmtTime(u.CreatedAt))
		p.ZAdd(ctx, usersKey, redis.Z{Member: u.Email})
		return nil
	})
	if err != nil {
		return fmt.Errorf("create user %s: %w", u.Email, err)
	}
	return nil
}

func boolField(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// User returns the user with email (any case), or dispatcher.ErrNotFound.
func (s *Store) User(ctx context.Context, email string) (*auth.User, error) {
	email = strings.ToLower(strings.TrimSpace(email))
	h, err := s.rdb.HGetAll(ctx, userKeyPrefix+email).Result()
	if err != nil {
		return nil, fmt.Errorf("user: %w", err)
	}
	if h["role"] == "" {
		return nil, fmt.Errorf("user %s: %w", email, dispatcher.ErrNotFound)
	}
	return &auth.User{Email: h["email"], Name: h["name"], Role: auth.Role(h["role"]), PasswordHash: h["password"],
		Disabled: h["disabled"] == "1", CreatedAt: parseTime(h["created_at"])}, nil
}

// Users returns every user, ordered by email.
func (s *Store) Users(ctx context.Context) ([]*auth.User, error) {
	emails, err := s.rdb.ZRange(ctx, usersKey, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("users: %w", err)
	}
	us := make([]*auth.User, 0, len(emails))
	for _, e := range emails {
		u, err := s.User(ctx, e)
		if errors.Is(err, dispatcher.ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, err
		}
		us = append(us, u)
	}
	return us, nil
}

// SetUserDisabled disables a user (who can no longer sign in, and whose
// sessions stop working at their next request) or enables one again;
// dispatcher.ErrNotFound if there is no such user.
func (s *Store) SetUserDisabled(ctx context.Context, email string, disabled bool) error {
	email = strings.ToLower(strings.TrimSpace(email))
	n, err := setIfExistsScript.Run(ctx, s.rdb, []string{userKeyPrefix + email}, "disabled", boolField(disabled)).Int()
	if err != nil {
		return fmt.Errorf("user %s: %w", email, err)
	}
	if n == 0 {
		return fmt.Errorf("user %s: %w", email, dispatcher.ErrNotFound)
	}
	return nil
}

// SetUserPassword replaces a user's password hash; dispatcher.ErrNotFound if
// there is no such user.
func (s *Store) SetUserPassword(ctx context.Context, email, hash string) error {
	email = strings.ToLower(strings.TrimSpace(email))
	n, err := setIfExistsScript.Run(ctx, s.rdb, []string{userKeyPrefix + email}, "password", hash).Int()
	if err != nil {
		return fmt.Errorf("user %s: %w", email, err)
	}
	if n == 0 {
		return fmt.Errorf("user %s: %w", email, dispatcher.ErrNotFound)
	}
	return nil
}

// setIfExistsScript sets one field of a hash that exists.
//
//	KEYS[1] -> the hash
//	ARGV[1] -> the field
//	ARGV[2] -> its value
//	Output: 1 when set, 0 when the hash does not exist
var setIfExistsScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
return 1
`)

// Session is a signed-in person's session, as stored under the hash of its
// id: whose it is and the CSRF token its forms carry.
type Session struct {
	Email     string
	CSRF      string
	CreatedAt time.Time
}

// CreateSession stores a session under hash (auth.Hash of its id) for ttl.
func (s *Store) CreateSession(ctx context.Context, hash string, sess *Session, ttl time.Duration) error {
	sess.CreatedAt = s.now().UTC().Truncate(time.Millisecond)
	key := sessionKeyPrefix + hash
	_, err := s.tx(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, key, "email", sess.Email, "csrf", sess.CSRF, "created_at", fmtTime(sess.CreatedAt))
		p.PExpire(ctx, key, ttl)
		return nil
	})
	if err != nil {
		return fmt.Errorf("create session: %w", err)
	}
	return nil
}

// Session returns the session stored under hash, or dispatcher.ErrNotFound
// (never made, signed out, or expired).
func (s *Store) Session(ctx context.Context, hash string) (*Session, error) {
	h, err := s.rdb.HGetAll(ctx, sessionKeyPrefix+hash).Result()
	if err != nil {
		return nil, fmt.Errorf("session: %w", err)
	}
	if h["email"] == "" {
		return nil, fmt.Errorf("session: %w", dispatcher.ErrNotFound)
	}
	return &Session{Email: h["email"], CSRF: h["csrf"], CreatedAt: parseTime(h["created_at"])}, nil
}

// DeleteSession ends the session stored under hash; ending one that does not
// exist is not an error.
func (s *Store) DeleteSession(ctx context.Context, hash string) error {
	if err := s.rdb.Del(ctx, sessionKeyPrefix+hash).Err(); err != nil {
		return fmt.Errorf("delete session: %w", err)
	}
	return nil
}
