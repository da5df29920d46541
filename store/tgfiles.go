package store

import (
	"context"
	"fmt"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// Telegram file ids (issue 11 item 3): the file_id Telegram gave a
// release's file on its first upload is kept beside the file's bytes,
// under the release's hash tag, so that every other chat's post sends the
// id instead of the bytes; and the release's upload lease lets one worker
// at a time upload its files.

// tgFileIDTTL is how long a file_id is kept: longer than any release's
// sending, and a file_id Telegram no longer knows is refused and replaced.
const tgFileIDTTL = 30 * 24 * time.Hour

func tgFileKey(rid, attID string) string { return prefix + "{" + rid + "}:tgfile:" + attID }
func tgUploadKey(rid string) string      { return prefix + "{" + rid + "}:tgupload" }

var _ dispatcher.TelegramFileStore = (*Store)(nil)

// TelegramFileID returns the file_id stored for attachment attID of
// release rid, "" when none.
func (s *Store) TelegramFileID(ctx context.Context, rid, attID string) (string, error) {
	if !validID("rel", rid) || !validID("att", attID) {
		return "", fmt.Errorf("attachment %q of release %q: %w", attID, rid, dispatcher.ErrNotFound)
	}
	id, err := s.rdb.Get(ctx, tgFileKey(rid, attID)).Result()
	if isNil(err) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read the telegram file id of %s of %s: %w", attID, rid, err)
	}
	return id, nil
}

// SetTelegramFileID stores the file_id of attachment attID of release rid.
func (s *Store) SetTelegramFileID(ctx context.Context, rid, attID, fileID string) error {
	if !validID("rel", rid) || !validID("att", attID) {
		return fmt.Errorf("attachment %q of release %q: %w", attID, rid, dispatcher.ErrNotFound)
	}
	if err := s.rdb.Set(ctx, tgFileKey(rid, attID), fileID, tgFileIDTTL).Err(); err != nil {
		return fmt.Errorf("store the telegram file id of %s of %s: %w", attID, rid, err)
	}
	return nil
}

// TakeTelegramUpload takes release rid's upload lease for holder, for ttl
// (or renews it), unless another holder has it; it reports whether holder
// has it.
func (s *Store) TakeTelegramUpload(ctx context.Context, rid, holder string, ttl time.Duration) (bool, error) {
	n, err := acquireLeaseScript.Run(ctx, s.rdb, []string{tgUploadKey(rid)}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("take the telegram upload lease of %s: %w", rid, err)
	}
	return n == 1, nil
}

// DropTelegramUpload gives release rid's upload lease back, if holder has it.
func (s *Store) DropTelegramUpload(ctx context.Context, rid, holder string) error {
	if err := releaseLeaseScript.Run(ctx, s.rdb, []string{tgUploadKey(rid)}, holder).Err(); err != nil && !isNil(err) {
		return fmt.Errorf("give back the telegram upload lease of %s: %w", rid, err)
	}
	return nil
}
