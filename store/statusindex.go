package store

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// ensureStatusIndex makes sure, once per Store, that the status indexes and
// the summaries hold every release: releases stored by an older version of
// Pregón had neither. It walks every release once (the first time any
// process lists releases) and marks the work done in Redis.
func (s *Store) ensureStatusIndex(ctx context.Context) error {
	if s.indexed.Load() {
		return nil
	}
	done, err := s.rdb.Get(ctx, indexedKey).Result()
	if err != nil && !isNil(err) {
		return fmt.Errorf("release status index: %w", err)
	}
	if done != "1" {
		if err := s.backfillStatusIndex(ctx); err != nil {
			return err
		}
		if err := s.rdb.Set(ctx, indexedKey, "1", 0).Err(); err != nil {
			return fmt.Errorf("release status index: %w", err)
		}
	}
	s.indexed.Store(true)
	return nil
}

func (s *Store) backfillStatusIndex(ctx context.Context) error {
	cursor := ""
	for {
		ids, next, err := s.pageLex(ctx, releasesKey, cursor, 200, false)
		if err != nil {
			return err
		}
		p := s.rdb.Pipeline()
		sums := make([]*redis.SliceCmd, len(ids))
		for i, id := range ids {
			sums[i] = p.HMGet(ctx, releaseKey(id), rSummary, rStatus)
		}
		if _, err := p.Exec(ctx); err != nil && !isNil(err) {
			return fmt.Errorf("index release statuses: %w", err)
		}
		for i, id := range ids {
			// Puts it in the index of its status and in no other.
			if err := s.syncStatusIndex(ctx, id); err != nil {
				return err
			}
			if err := s.backfillSummary(ctx, id, sums[i].Val()); err != nil {
				return err
			}
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// backfillSummary stores the summary of a release that has none, from its
// "data" (v: its fields sum and status, as read).
func (s *Store) backfillSummary(ctx context.Context, id string, v []any) error {
	if str(v, 0) != "" || str(v, 1) == "" {
		return nil
	}
	data, err := s.rdb.HGet(ctx, releaseKey(id), rData).Result()
	if err != nil {
		return fmt.Errorf("summary of release %s: %w", id, err)
	}
	r := new(dispatcher.Release)
	if err := json.Unmarshal([]byte(data), r); err != nil {
		return fmt.Errorf("decode release %s: %w", id, err)
	}
	fields, err := releaseFields(r)
	if err != nil {
		return fmt.Errorf("summary of release %s: %w", id, err)
	}
	if err := s.rdb.HSetNX(ctx, releaseKey(id), rSummary, fields[3]).Err(); err != nil {
		return fmt.Errorf("summary of release %s: %w", id, err)
	}
	return nil
}
