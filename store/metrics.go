package store

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// ReleaseCounts returns how many releases are in each status, read from the
// status indexes in one round trip (after the one-off backfill of releases
// stored by an older version). Every status is in the map, 0 included.
func (s *Store) ReleaseCounts(ctx context.Context) (map[dispatcher.ReleaseStatus]int64, error) {
	if err := s.ensureStatusIndex(ctx); err != nil {
		return nil, err
	}
	p := s.rdb.Pipeline()
	cmds := make([]*redis.IntCmd, len(dispatcher.ReleaseStatuses))
	for i, st := range dispatcher.ReleaseStatuses {
		cmds[i] = p.ZCard(ctx, statusIndexKey(st))
	}
	if _, err := p.Exec(ctx); err != nil {
		return nil, fmt.Errorf("count releases by status: %w", err)
	}
	out := make(map[dispatcher.ReleaseStatus]int64, len(dispatcher.ReleaseStatuses))
	for i, st := range dispatcher.ReleaseStatuses {
		out[st] = cmds[i].Val()
	}
	return out, nil
}
