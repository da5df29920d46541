package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// Token keys (see the layout in store.go): a token's record is found by the
// hash of its secret; its id, which is neither, finds the hash for listing
// and revoking.
const (
	tokensKey        = prefix + "tokens"   // ZSET token ids (score 0, lexical = creation order)
	tokenKeyPrefix   = prefix + "token:"   // + hash: HASH id, name, role, created_at, expires_at, last_used_at
	tokenIDKeyPrefix = prefix + "tokenid:" // + id: STRING the hash
)

func tokenKey(hash string) string { return tokenKeyPrefix + hash }

// CreateToken stores a token under hash, the hash of its secret (see
// auth.Hash), and sets t.ID and t.CreatedAt. t.ExpiresAt, when set, is kept.
func (s *Store) CreateToken(ctx context.Context, hash string, t *auth.Token) error {
	now := s.now().UTC()
	t.ID = newID("tok", now)
	t.CreatedAt = now.Truncate(time.Millisecond)
	fields := []any{"id", t.ID, "name", t.Name, "role", string(t.Role), "created_at", fmtTime(t.CreatedAt)}
	if t.ExpiresAt != nil {
		fields = append(fields, "expires_at", fmtTime(*t.ExpiresAt))
	}
	_, err := s.tx(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, tokenKey(hash), fields...)
		p.Set(ctx, tokenIDKeyPrefix+t.ID, hash, 0)
		p.ZAdd(ctx, tokensKey, redis.Z{Member: t.ID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("create token %s: %w", t.Name, err)
	}
	return nil
}

// Token returns the token stored under hash, expired or not, or
// dispatcher.ErrNotFound (also for a revoked one). A token stored before
// tokens had ids gets one now.
func (s *Store) Token(ctx context.Context, hash string) (*auth.Token, error) {
	h, err := s.rdb.HGetAll(ctx, tokenKey(hash)).Result()
	if err != nil {
		return nil, fmt.Errorf("token: %w", err)
	}
	if h["role"] == "" {
		return nil, fmt.Errorf("token: %w", dispatcher.ErrNotFound)
	}
	t := parseToken(h)
	if t.ID == "" {
		id, err := adoptTokenScript.Run(ctx, s.rdb, []string{tokenKey(hash)}, newID("tok", s.now())).Text()
		if err != nil {
			return nil, fmt.Errorf("token: give it an id: %w", err)
		}
		// Its id's keys are in other hash slots (Redis Cluster): written
		// after, idempotently, by whoever adopts it.
		if _, err := s.tx(ctx, func(p redis.Pipeliner) error {
			p.Set(ctx, tokenIDKeyPrefix+id, hash, 0)
			p.ZAdd(ctx, tokensKey, redis.Z{Member: id})
			return nil
		}); err != nil {
			return nil, fmt.Errorf("token: give it an id: %w", err)
		}
		t.ID = id
	}
	return t, nil
}

// adoptTokenScript gives an id to a token stored without one.
//
//	KEYS[1] -> the token's hash key
//	ARGV[1] -> a new id
//	Output: the token's id (ARGV[1], or the one another caller gave it first)
var adoptTokenScript = redis.NewScript(`
if redis.call('HSETNX', KEYS[1], 'id', ARGV[1]) == 0 then
  return redis.call('HGET', KEYS[1], 'id')
end
return ARGV[1]
`)

func parseToken(h map[string]string) *auth.Token {
	t := &auth.Token{ID: h["id"], Name: h["name"], Role: auth.Role(h["role"]), CreatedAt: parseTime(h["created_at"])}
	if at := parseTime(h["expires_at"]); !at.IsZero() {
		t.ExpiresAt = &at
	}
	if at := parseTime(h["last_used_at"]); !at.IsZero() {
		t.LastUsedAt = &at
	}
	return t
}

// Tokens returns every token, expired ones included, oldest first. A token
// stored before tokens had ids is listed once it has been used.
func (s *Store) Tokens(ctx context.Context) ([]*auth.Token, error) {
	ids, err := s.rdb.ZRange(ctx, tokensKey, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	if len(ids) == 0 {
		return []*auth.Token{}, nil
	}
	hashes := make([]*redis.StringCmd, len(ids))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, id := range ids {
			hashes[i] = p.Get(ctx, tokenIDKeyPrefix+id)
		}
		return nil
	}); err != nil && !isNil(err) {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	recs := make([]*redis.MapStringStringCmd, len(ids))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, c := range hashes {
			if c.Err() == nil {
				recs[i] = p.HGetAll(ctx, tokenKey(c.Val()))
			}
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("tokens: %w", err)
	}
	out := make([]*auth.Token, 0, len(ids))
	for _, r := range recs {
		if r == nil || r.Val()["role"] == "" {
			continue // revoked while this ran
		}
		out = append(out, parseToken(r.Val()))
	}
	return out, nil
}

// RevokeToken deletes the token with id, so that it authenticates nothing
// any more. It returns dispatcher.ErrNotFound for an id that names no token.
func (s *Store) RevokeToken(ctx context.Context, id string) error {
	if !validID("tok", id) {
		return fmt.Errorf("revoke token %q: %w", id, dispatcher.ErrNotFound)
	}
	// The token's keys are in several hash slots (Redis Cluster): the
	// hash that authenticates goes first, then its id's keys; a revoke cut
	// short is finished by doing it again.
	hash, err := s.rdb.Get(ctx, tokenIDKeyPrefix+id).Result()
	if err != nil && !isNil(err) {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if hash != "" {
		if err := s.rdb.Del(ctx, tokenKeyPrefix+hash).Err(); err != nil {
			return fmt.Errorf("revoke token %s: %w", id, err)
		}
	}
	if err := s.rdb.ZRem(ctx, tokensKey, id).Err(); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	if isNil(err) {
		return fmt.Errorf("revoke token %s: %w", id, dispatcher.ErrNotFound)
	}
	if err := s.rdb.Del(ctx, tokenIDKeyPrefix+id).Err(); err != nil {
		return fmt.Errorf("revoke token %s: %w", id, err)
	}
	return nil
}

// TouchToken records that the token stored under hash was used at at. It
// does nothing for a token revoked meanwhile.
func (s *Store) TouchToken(ctx context.Context, hash string, at time.Time) error {
	if err := touchTokenScript.Run(ctx, s.rdb, []string{tokenKey(hash)}, fmtTime(at)).Err(); err != nil && !isNil(err) {
		return fmt.Errorf("touch token: %w", err)
	}
	return nil
}

// touchTokenScript sets a token's last_used_at if the token still exists.
//
//	KEYS[1] -> the token's hash key
//	ARGV[1] -> the time, in Unix milliseconds
//	Output: nil
var touchTokenScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then
  redis.call('HSET', KEYS[1], 'last_used_at', ARGV[1])
end
`)
