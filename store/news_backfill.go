package store

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
)

// newsIndexedKey is "1" once the newsroom's index holds every release
// scheduled or sent before the newsroom existed.
const newsIndexedKey = prefix + "news-indexed"

// ensureNewsIndex makes sure, once per Store, that the newsroom's index
// holds the releases scheduled, sending or sent before it existed: it
// walks those status indexes once (the first time any process reads the
// newsroom) and marks the work done in Redis.
func (s *Store) ensureNewsIndex(ctx context.Context) error {
	if s.newsIndexed.Load() {
		return nil
	}
	done, err := s.rdb.Get(ctx, newsIndexedKey).Result()
	if err != nil && !isNil(err) {
		return fmt.Errorf("newsroom index: %w", err)
	}
	if done != "1" {
		if err := s.ensureStatusIndex(ctx); err != nil {
			return err
		}
		for _, st := range []dispatcher.ReleaseStatus{dispatcher.ReleaseScheduled, dispatcher.ReleaseSending,
			dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures} {
			cursor := ""
			for {
				ids, next, err := s.pageLex(ctx, statusIndexKey(st), cursor, 200, false)
				if err != nil {
					return err
				}
				for _, id := range ids {
					if err := s.IndexNews(ctx, id); err != nil {
						return err
					}
				}
				if next == "" {
					break
				}
				cursor = next
			}
		}
		if err := s.rdb.Set(ctx, newsIndexedKey, "1", 0).Err(); err != nil {
			return fmt.Errorf("newsroom index: %w", err)
		}
	}
	s.newsIndexed.Store(true)
	return nil
}
