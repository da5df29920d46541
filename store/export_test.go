package store

// SetArchiveHook makes ArchiveRelease call h after each of its steps
// ("block", "commit", "drop") and stop with h's error: tests use it to
// interrupt an archive as a crash would.
func SetArchiveHook(s *Store, h func(step string) error) { s.archiveHook = h }
