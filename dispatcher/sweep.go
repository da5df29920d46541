package dispatcher

import (
	"context"
	"time"
)

// retryStaleAfter is how long a retrying delivery may go unchanged before
// the sweeper assumes its retry task was lost: longer than any backoff.
const retryStaleAfter = 2 * time.Hour

// Sweep finds sending releases that have made no progress for the claim
// timeout and sets them going again: a release whose planning stopped is
// dispatched again, and the deliveries of a planned release that no task
// will move on (queued ones, stale claims of dead workers, retries whose
// task was lost) are enqueued again. Claims make this safe: a delivery that
// is still being sent, or already was, is not sent again. It returns how
// many releases it set going.
func (s *Service) Sweep(ctx context.Context) (int, error) {
	ids, err := s.cfg.Store.ActiveReleases(ctx)
	if err != nil {
		return 0, err
	}
	now := s.cfg.Now()
	n := 0
	for _, rid := range ids {
		a, err := s.cfg.Store.Activity(ctx, rid)
		if err != nil {
			return n, err
		}
		if a.Status != ReleaseSending {
			if err := s.cfg.Store.UnmarkActive(ctx, rid); err != nil {
				return n, err
			}
			continue
		}
		if now.Sub(a.Last) < s.cfg.ClaimTimeout {
			continue
		}
		log := s.log.With("release_id", rid, "idle", now.Sub(a.Last).Round(time.Second))
		if !a.Snapshot {
			log.Warn("release planning stalled: dispatching again")
			if err := s.cfg.Queue.EnqueueDispatch(ctx, rid, now); err != nil {
				return n, err
			}
			n++
			continue
		}
		if a.Pending == 0 {
			continue
		}
		requeued := 0
		cursor := ""
		for {
			stalled, next, err := s.cfg.Store.Stalled(ctx, rid, cursor, 1000, now.Add(-s.cfg.ClaimTimeout), now.Add(-retryStaleAfter))
			if err != nil {
				return n, err
			}
			if err := s.enqueueIDs(ctx, rid, stalled); err != nil {
				return n, err
			}
			requeued += len(stalled)
			if next == "" {
				break
			}
			cursor = next
		}
		if requeued > 0 {
			log.Warn("release stalled: deliveries enqueued again", "deliveries", requeued)
			n++
		}
	}
	return n, nil
}

// RunSweeper sweeps every interval until ctx ends. Many workers may run it:
// a lock in Redis lets one of them sweep at a time.
func (s *Service) RunSweeper(ctx context.Context, interval time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		ok, err := s.cfg.Store.TryLock(ctx, "sweep", interval*9/10)
		if err != nil {
			s.log.Warn("sweeper: cannot take its lock", "error", err)
			continue
		}
		if !ok {
			continue
		}
		if _, err := s.Sweep(ctx); err != nil && ctx.Err() == nil {
			s.log.Warn("sweeper failed", "error", err)
		}
	}
}
