package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// CreateRelease stores a new draft release, setting ID, Status, CreatedAt and UpdatedAt.
func (s *Store) CreateRelease(ctx context.Context, r *dispatcher.Release) error {
	now := s.now().UTC()
	r.ID, r.Status = newID("rel", now), dispatcher.ReleaseDraft
	r.CreatedAt, r.UpdatedAt = now.Truncate(1e6), now.Truncate(1e6)
	data, err := json.Marshal(r)
	if err != nil {
		return fmt.Errorf("create release: %w", err)
	}
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, releaseKey(r.ID), "data", data, "status", string(r.Status), "ut", fmtTime(now))
		p.ZAdd(ctx, releasesKey, redis.Z{Member: r.ID})
		return nil
	})
	if err != nil {
		return fmt.Errorf("create release: %w", err)
	}
	return nil
}

// Release returns the release with id and its delivery counts, or dispatcher.ErrNotFound.
func (s *Store) Release(ctx context.Context, id string) (*dispatcher.Release, error) {
	if !validID("rel", id) {
		return nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	rs, err := s.releases(ctx, []string{id}, true)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	return rs[0], nil
}

// Releases returns a page of releases, newest first, optionally only those
// in one status, and the next cursor ("" on the last page).
func (s *Store) Releases(ctx context.Context, status dispatcher.ReleaseStatus, cursor string, limit int) ([]*dispatcher.Release, string, error) {
	var out []*dispatcher.Release
	for {
		ids, next, err := s.pageLex(ctx, releasesKey, cursor, limit, true)
		if err != nil {
			return nil, "", err
		}
		rs, err := s.releases(ctx, ids, true)
		if err != nil {
			return nil, "", err
		}
		for i, r := range rs {
			if status == "" || r.Status == status {
				out = append(out, r)
				if len(out) == limit {
					if i == len(rs)-1 {
						return out, next, nil
					}
					return out, r.ID, nil
				}
			}
		}
		if next == "" {
			return out, "", nil
		}
		cursor = next
	}
}

func (s *Store) releases(ctx context.Context, ids []string, withCounts bool) ([]*dispatcher.Release, error) {
	p := s.rdb.Pipeline()
	hs := make([]*redis.SliceCmd, len(ids))
	cs := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		hs[i] = p.HMGet(ctx, releaseKey(id), "data", "status", "ut")
		if withCounts {
			cs[i] = p.HGetAll(ctx, countsKey(id))
		}
	}
	if len(ids) > 0 {
		if _, err := p.Exec(ctx); err != nil && !isNil(err) {
			return nil, fmt.Errorf("get releases: %w", err)
		}
	}
	out := make([]*dispatcher.Release, 0, len(ids))
	for i := range ids {
		v := hs[i].Val()
		data := str(v, 0)
		if data == "" {
			continue
		}
		r := new(dispatcher.Release)
		if err := json.Unmarshal([]byte(data), r); err != nil {
			return nil, fmt.Errorf("decode release %s: %w", ids[i], err)
		}
		r.Status = dispatcher.ReleaseStatus(str(v, 1))
		if ut := parseTime(str(v, 2)); !ut.IsZero() {
			r.UpdatedAt = ut
		}
		if withCounts {
			r.Counts = countsFrom(cs[i].Val())
		}
		out = append(out, r)
	}
	return out, nil
}

func countsFrom(h map[string]string) *dispatcher.Counts {
	c := dispatcher.NewCounts()
	for _, ch := range []dispatcher.ChannelKind{dispatcher.ChannelEmail, dispatcher.ChannelTelegram} {
		for _, st := range dispatcher.DeliveryStatuses {
			n, _ := strconv.ParseInt(h[string(ch)+":"+string(st)], 10, 64)
			c.Add(ch, st, n)
		}
	}
	return c
}

// ScheduleSend moves a draft release to scheduled, to be dispatched at at,
// in one step. It returns the release as it is after the call and the time
// it is to be dispatched (set by this call or an earlier one; zero for a
// release that was never scheduled); a release in another status than draft
// is returned unchanged. It returns dispatcher.ErrNotFound for an unknown id.
func (s *Store) ScheduleSend(ctx context.Context, id string, at time.Time) (*dispatcher.Release, time.Time, error) {
	if !validID("rel", id) {
		return nil, time.Time{}, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	when, err := scheduleScript.Run(ctx, s.rdb, []string{releaseKey(id)}, fmtTime(at), fmtTime(s.now())).Text()
	if isNil(err) {
		return nil, time.Time{}, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("schedule release %s: %w", id, err)
	}
	r, err := s.Release(ctx, id)
	return r, parseTime(when), err
}

// SetReleaseStatus moves a release to status to when it is in one of from,
// and returns the status after the call.
func (s *Store) SetReleaseStatus(ctx context.Context, id string, to dispatcher.ReleaseStatus, from ...dispatcher.ReleaseStatus) (dispatcher.ReleaseStatus, error) {
	args := []any{string(to), fmtTime(s.now())}
	for _, f := range from {
		args = append(args, string(f))
	}
	st, err := setStatusScript.Run(ctx, s.rdb, []string{releaseKey(id)}, args...).Text()
	if isNil(err) {
		return "", fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("set status of release %s: %w", id, err)
	}
	return dispatcher.ReleaseStatus(st), nil
}

// SnapshotDone records that every recipient of a release has a delivery, and
// ends the release when none is pending. It returns the release's status.
func (s *Store) SnapshotDone(ctx context.Context, id string) (dispatcher.ReleaseStatus, error) {
	st, err := snapshotDoneScript.Run(ctx, s.rdb, []string{releaseKey(id), countsKey(id)}, fmtTime(s.now())).Text()
	if err != nil {
		return "", fmt.Errorf("snapshot of %s done: %w", id, err)
	}
	return dispatcher.ReleaseStatus(st), nil
}

// SnapshotComplete reports whether a release's recipients were all planned.
func (s *Store) SnapshotComplete(ctx context.Context, id string) (bool, error) {
	v, err := s.rdb.HGet(ctx, releaseKey(id), "snap").Result()
	if err != nil && !isNil(err) {
		return false, fmt.Errorf("snapshot of %s: %w", id, err)
	}
	return v == "1", nil
}
