package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// MarkActive records that a release is sending (or sending its early
// tier), so that the sweeper watches it.
func (s *Store) MarkActive(ctx context.Context, rid string) error {
	if err := s.rdb.SAdd(ctx, activeKey, rid).Err(); err != nil {
		return fmt.Errorf("mark %s active: %w", rid, err)
	}
	return nil
}

// UnmarkActive stops the sweeper watching a release.
func (s *Store) UnmarkActive(ctx context.Context, rid string) error {
	if err := s.rdb.SRem(ctx, activeKey, rid).Err(); err != nil {
		return fmt.Errorf("unmark %s active: %w", rid, err)
	}
	return nil
}

// ActiveReleases returns the ids of the releases marked active.
func (s *Store) ActiveReleases(ctx context.Context) ([]string, error) {
	ids, err := s.rdb.SMembers(ctx, activeKey).Result()
	if err != nil {
		return nil, fmt.Errorf("active releases: %w", err)
	}
	return ids, nil
}

// Activity returns a release's status, when its deliveries last changed,
// whether its recipients were all planned (for a scheduled release: those
// of its early lists), how many deliveries are pending, whether its early
// tier is out, and the time Send was asked to send it at.
func (s *Store) Activity(ctx context.Context, rid string) (dispatcher.Activity, error) {
	p := s.rdb.Pipeline()
	h := p.HMGet(ctx, releaseKey(rid), rStatus, rActivity, rSnapshot, rUpdatedAt, rEarly, rEarlySnap, rAsked)
	n := p.HGet(ctx, countsKey(rid), cPending)
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return dispatcher.Activity{}, fmt.Errorf("activity of %s: %w", rid, err)
	}
	v := h.Val()
	if str(v, 0) != "" {
		// The sweeper reads every active release's activity: it repairs
		// the status index of one whose process died between a script and
		// the index step that follows it (Redis Cluster: cluster.go).
		if err := s.syncStatusIndex(ctx, rid); err != nil {
			return dispatcher.Activity{}, err
		}
	}
	a := dispatcher.Activity{Status: dispatcher.ReleaseStatus(str(v, 0)), Snapshot: str(v, 2) == "1",
		Early: str(v, 4) == "1", Asked: parseTime(str(v, 6))}
	if a.Status == dispatcher.ReleaseScheduled {
		a.Snapshot = str(v, 5) == "1"
	}
	a.Last = parseTime(str(v, 1))
	if ut := parseTime(str(v, 3)); ut.After(a.Last) {
		a.Last = ut
	}
	a.Pending, _ = strconv.ParseInt(n.Val(), 10, 64)
	return a, nil
}

// Stalled returns a page of a release's deliveries that no task will move on
// by itself any more, by rule: queued ones (when rule.Queued), sending ones
// claimed before rule.ClaimedBefore or by one of rule.DeadWorkers, and
// retrying ones due before rule.RetryDueBefore (or, without a due time, last
// changed before rule.RetryChangedBefore). It returns the next cursor (""
// on the last page).
func (s *Store) Stalled(ctx context.Context, rid, cursor string, limit int, rule dispatcher.StallRule) ([]dispatcher.Ref, string, error) {
	recs, next, err := s.scanLive(ctx, rid, cursor, limit, true)
	if err != nil {
		return nil, "", fmt.Errorf("stalled deliveries of %s: %w", rid, err)
	}
	dead := map[string]bool{}
	for _, w := range rule.DeadWorkers {
		dead[w] = true
	}
	var out []dispatcher.Ref
	for _, r := range recs {
		h := r.H
		take := false
		switch dispatcher.DeliveryStatus(h[dStatus]) {
		case dispatcher.DeliveryQueued:
			take = rule.Queued
		case dispatcher.DeliverySending:
			take = parseTime(h[dClaimedAt]).Before(rule.ClaimedBefore) || dead[h[dWorker]] && h[dWorker] != ""
		case dispatcher.DeliveryRetrying:
			// Due a while ago and still not retried: its task was lost.
			// Without a due time, fall back to when it last changed.
			due := parseTime(h[dRetryDue])
			take = !due.IsZero() && due.Before(rule.RetryDueBefore) || due.IsZero() && parseTime(h[dUpdatedAt]).Before(rule.RetryChangedBefore)
		}
		if take {
			out = append(out, dispatcher.Ref{ID: r.ID, Channel: dispatcher.ChannelKind(h[dChannel])})
		}
	}
	return out, next, nil
}

// TryLock takes a named lock for ttl unless someone holds it, and reports
// whether it did.
func (s *Store) TryLock(ctx context.Context, name string, ttl time.Duration) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, prefix+"lock:"+name, "1", ttl).Result()
	if err != nil {
		return false, fmt.Errorf("lock %s: %w", name, err)
	}
	return ok, nil
}
