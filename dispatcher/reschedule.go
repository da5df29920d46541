package dispatcher

import (
	"context"
	"fmt"
)

// Reschedule enqueues again the dispatch of a scheduled release at its
// scheduled time, after an edit changed its timing; a release in another
// status is returned as it is.
//
// It is the least the edits need: while a dispatch of the release is
// waiting, the queue drops the new one, so the waiting one still runs at
// the old time. The embargo tier replaces it with a Reschedule that moves
// the waiting dispatch and the lift.
func (s *Service) Reschedule(ctx context.Context, id string) (*Release, error) {
	rel, err := s.cfg.Store.Release(ctx, id)
	if err != nil {
		return nil, err
	}
	if rel.Status != ReleaseScheduled || rel.ScheduledAt == nil {
		return rel, nil
	}
	if err := s.cfg.Queue.EnqueueDispatch(ctx, id, *rel.ScheduledAt); err != nil {
		return nil, fmt.Errorf("reschedule release %s: %w", id, err)
	}
	s.log.Info("release rescheduled", "release_id", id, "at", *rel.ScheduledAt)
	return rel, nil
}
