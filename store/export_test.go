package store

import "context"

// SetArchiveHook makes ArchiveRelease call h after each of its steps
// ("block", "commit", "drop") and stop with h's error: tests use it to
// interrupt an archive as a crash would.
func SetArchiveHook(s *Store, h func(step string) error) { s.archiveHook = h }

// LiveDeliveries counts the deliveries of rid kept live (in records).
func LiveDeliveries(ctx context.Context, s *Store, rid string) (int, error) {
	recs, _, err := s.scanLive(ctx, rid, "", 1<<30, false)
	return len(recs), err
}
