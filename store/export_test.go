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

// DecodeArchiveBlock decodes one block of release rid's archive, as
// encodeBlock wrote it: each delivery's id and hash fields.
func DecodeArchiveBlock(rid string, b []byte) ([]map[string]string, error) {
	recs, err := decodeBlock(rid, b)
	if err != nil {
		return nil, err
	}
	out := make([]map[string]string, len(recs))
	for i, r := range recs {
		out[i] = map[string]string{"id": r.ID}
		for k, v := range r.H {
			out[i][k] = v
		}
	}
	return out, nil
}
