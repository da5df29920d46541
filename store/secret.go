package store

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
)

// secretKey holds the links secret Pregón made for itself when
// PREGON_SECRET is not set (STRING, 64 hex digits). Links signed with it
// work only as long as the key exists.
const secretKey = prefix + "secret"

// SharedSecret returns the secret that every Pregón process on this Redis
// uses to sign links when none is configured. The first process to ask makes
// a random 32-byte secret and stores it (SETNX), so that all processes agree;
// created reports whether this call made it. The secret is never logged.
func (s *Store) SharedSecret(ctx context.Context) (secret []byte, created bool, err error) {
	fresh := make([]byte, 32)
	if _, err := rand.Read(fresh); err != nil {
		return nil, false, fmt.Errorf("shared secret: %w", err)
	}
	created, err = s.rdb.SetNX(ctx, secretKey, hex.EncodeToString(fresh), 0).Result()
	if err != nil {
		return nil, false, fmt.Errorf("shared secret: store: %w", err)
	}
	if created {
		return fresh, true, nil
	}
	v, err := s.rdb.Get(ctx, secretKey).Result()
	if err != nil {
		return nil, false, fmt.Errorf("shared secret: read: %w", err)
	}
	secret, err = hex.DecodeString(v)
	if err != nil || len(secret) < 16 {
		return nil, false, fmt.Errorf("shared secret: the value under %s is not 32+ hex digits; delete the key to make a new one", secretKey)
	}
	return secret, false, nil
}
