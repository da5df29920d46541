package store

// Test sends (dispatcher.TestSend) live under
//
//	pregon:test:<test id>   STRING the test send as JSON, results included (TTL: dispatcher.TestTTL)
//
// One key per test send, written whole: it holds at most
// dispatcher.MaxTestEmails + dispatcher.MaxTestChats results, and only the
// one task that runs the test writes it after it is created.

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

var _ dispatcher.TestStore = (*Store)(nil)

func testKey(id string) string { return prefix + "test:" + id }

// CreateTest stores a new test send that expires after ttl, setting its ID
// and CreatedAt.
func (s *Store) CreateTest(ctx context.Context, t *dispatcher.TestSend, ttl time.Duration) error {
	now := s.now().UTC()
	t.ID, t.CreatedAt = newID("tst", now), now.Truncate(time.Millisecond)
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("create test send: %w", err)
	}
	if err := s.rdb.Set(ctx, testKey(t.ID), data, ttl).Err(); err != nil {
		return fmt.Errorf("create test send: %w", err)
	}
	return nil
}

// Test returns a test send, or dispatcher.ErrNotFound when there is none
// with id (never made, or expired).
func (s *Store) Test(ctx context.Context, id string) (*dispatcher.TestSend, error) {
	if !validID("tst", id) {
		return nil, fmt.Errorf("test send %q: %w", id, dispatcher.ErrNotFound)
	}
	data, err := s.rdb.Get(ctx, testKey(id)).Bytes()
	if errors.Is(err, redis.Nil) {
		return nil, fmt.Errorf("test send %s: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read test send %s: %w", id, err)
	}
	var t dispatcher.TestSend
	if err := json.Unmarshal(data, &t); err != nil {
		return nil, fmt.Errorf("read test send %s: %w", id, err)
	}
	return &t, nil
}

// SaveTest writes t over the stored test send with its ID, keeping the key's
// expiry. It returns dispatcher.ErrNotFound when the key has expired, and
// does not make it again (it would never expire).
func (s *Store) SaveTest(ctx context.Context, t *dispatcher.TestSend) error {
	if !validID("tst", t.ID) {
		return fmt.Errorf("test send %q: %w", t.ID, dispatcher.ErrNotFound)
	}
	data, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("save test send %s: %w", t.ID, err)
	}
	err = s.rdb.SetArgs(ctx, testKey(t.ID), data, redis.SetArgs{Mode: "XX", KeepTTL: true}).Err()
	if errors.Is(err, redis.Nil) {
		return fmt.Errorf("test send %s: %w", t.ID, dispatcher.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("save test send %s: %w", t.ID, err)
	}
	return nil
}
