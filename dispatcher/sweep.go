package dispatcher

import (
	"context"
	"time"
)

// retryStaleAfter is how long a retrying delivery may go unchanged before
// the sweeper assumes its retry task was lost: longer than any backoff.
const retryStaleAfter = 2 * time.Hour

// Sweep sets going again what no task will move on by itself:
//
//   - the deliveries in flight of a dead worker (one whose liveness key has
//     gone), as soon as it is seen dead, with the queued deliveries of the
//     same releases (its tasks held some of them, and asynq gives such tasks
//     back only after their lease of 30 s and a check every minute);
//   - releases that have made no progress for the claim timeout: one whose
//     planning stopped is dispatched again, and the deliveries of a planned
//     one that no task will move on (queued ones, stale claims, retries whose
//     task was lost) are enqueued again.
//
// Claims make this safe: a delivery that is still being sent, or already
// was, is not sent again. It returns how many releases it set going.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	ids, err := s.cfg.Store.ActiveReleases(ctx)
	if err != nil {
		return 0, err
	}
	dead, since, err := s.cfg.Store.DeadWorkers(ctx, s.cfg.WorkerID)
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	if len(dead) > 0 && (since.IsZero() || now.Sub(since) < s.cfg.LivenessTTL/2) {
		// This worker's own heartbeats broke off lately (or it has none):
		// Redis was frozen or away, every worker's key may have expired
		// meanwhile, and live ones renew theirs within a third of the TTL.
		// Judge again later.
		s.log.Debug("sweeper: not judging workers dead yet", "dead_workers", len(dead), "since", since)
		dead = nil
	}
	n := 0
	complete := true // every release a dead worker may hold was swept
	for _, rid := range ids {
		a, err := s.cfg.Store.Activity(ctx, rid)
		if err != nil {
			return n, err
		}
		// A scheduled release whose early tier is out has deliveries in
		// flight, and is swept as a sending one is; its Snapshot says
		// whether its early lists were all planned, and a dispatch then
		// plans the rest of them, not the lift.
		if a.Status != ReleaseSending && !(a.Status == ReleaseScheduled && a.Early) {
			if err := s.cfg.Store.UnmarkActive(ctx, rid); err != nil {
				return n, err
			}
			continue
		}
		idle := now.Sub(a.Last) >= s.cfg.ClaimTimeout
		log := s.log.With("release_id", rid, "idle", now.Sub(a.Last).Round(time.Second))
		if !a.Snapshot {
			// Still planning: a dead worker may hold deliveries of it that
			// this sweep does not take, so remember the dead for later.
			complete = false
			if !idle {
				continue
			}
			log.Warn("release planning stalled: dispatching again")
			if err := s.cfg.Queue.EnqueueDispatch(ctx, rid, now); err != nil {
				return n, err
			}
			n++
			continue
		}
		if a.Pending == 0 || !idle && len(dead) == 0 {
			continue
		}
		rule := StallRule{DeadWorkers: dead}
		if idle {
			rule = StallRule{Queued: true, ClaimedBefore: now.Add(-s.cfg.ClaimTimeout), DeadWorkers: dead,
				RetryDueBefore: now.Add(-s.cfg.ClaimTimeout), RetryChangedBefore: now.Add(-retryStaleAfter)}
		} else {
			// Did a dead worker hold deliveries of this release?
			held := false
			err := s.eachStalled(ctx, rid, rule, func(refs []Ref) error {
				held = held || len(refs) > 0
				return nil
			})
			if err != nil {
				return n, err
			}
			if !held {
				continue
			}
			rule.Queued = true
		}
		requeued := 0
		err = s.eachStalled(ctx, rid, rule, func(refs []Ref) error {
			refs = s.held.notHeld(rid, refs)
			requeued += len(refs)
			return s.enqueueRefs(ctx, rid, refs, 0)
		})
		if err != nil {
			return n, err
		}
		if requeued > 0 {
			log.Warn("release stalled: deliveries enqueued again", "deliveries", requeued, "dead_workers", len(dead))
			n++
		}
	}
	if len(dead) > 0 && complete {
		// Their deliveries are enqueued again; a later sweep need not look.
		s.log.Warn("workers found dead; their deliveries were taken over", "workers", dead)
		if err := s.cfg.Store.ForgetWorkers(ctx, dead); err != nil {
			return n, err
		}
	}
	return n, nil
}

// eachStalled calls fn with each page of the stalled deliveries of a release.
func (s *Service) eachStalled(ctx context.Context, rid string, rule StallRule, fn func([]Ref) error) error {
	return eachPage(func(cursor string) ([]Ref, string, error) {
		return s.cfg.Store.Stalled(ctx, rid, cursor, 1000, rule)
	}, fn)
}

// RunSweeper sweeps every interval (at most a quarter of the liveness TTL,
// so that a dead worker's deliveries are taken over soon after its key has
// gone) until ctx ends. Many workers may run it: a lock in Redis lets one of
// them sweep at a time.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	interval = min(interval, s.cfg.LivenessTTL/4)
	every(ctx, interval, func() {
		ok, err := s.cfg.Store.TryLock(ctx, "sweep", interval*9/10)
		if err != nil {
			s.log.Warn("sweeper: cannot take its lock", "error", err)
			return
		}
		if !ok {
			return
		}
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sweeper failed", "error", err)
		}
	})
}

// every calls fn every d until ctx ends.
func every(ctx context.Context, d time.Duration, fn func()) {
	t := time.NewTicker(d)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		fn()
	}
}
