package store

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
)

// Attachments (issue 10 item 5): a release's files. Their metadata is part
// of the release (dispatcher.Release.Attachments, in rData), changed by
// EditRelease like any other edit; their bytes are one STRING each,
// under the release's hash tag (attachmentKey), so that every worker on
// every machine reads the same file.

func attachmentKey(rid, id string) string { return prefix + "{" + rid + "}:att:" + id }

// NewAttachmentID returns a new attachment id ("att_...", sortable by time).
func (s *Store) NewAttachmentID() string { return newID("att", s.now()) }

// PutAttachmentData stores the bytes of attachment id of release rid. The
// release's metadata names it only once EditRelease stored it there; until
// then the bytes are read by no one.
func (s *Store) PutAttachmentData(ctx context.Context, rid, id string, data []byte) error {
	if !validID("rel", rid) || !validID("att", id) {
		return fmt.Errorf("attachment %q of release %q: %w", id, rid, dispatcher.ErrNotFound)
	}
	if err := s.rdb.Set(ctx, attachmentKey(rid, id), data, 0).Err(); err != nil {
		return fmt.Errorf("store attachment %s of release %s: %w", id, rid, err)
	}
	return nil
}

// AttachmentData returns the bytes of attachment id of release rid, or an
// error wrapping dispatcher.ErrNotFound.
func (s *Store) AttachmentData(ctx context.Context, rid, id string) ([]byte, error) {
	if !validID("rel", rid) || !validID("att", id) {
		return nil, fmt.Errorf("attachment %q of release %q: %w", id, rid, dispatcher.ErrNotFound)
	}
	b, err := s.rdb.Get(ctx, attachmentKey(rid, id)).Bytes()
	if isNil(err) {
		return nil, fmt.Errorf("attachment %s of release %s: %w", id, rid, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("read attachment %s of release %s: %w", id, rid, err)
	}
	return b, nil
}

// DeleteAttachmentData deletes the bytes of attachment id of release rid
// (nothing for bytes already gone).
func (s *Store) DeleteAttachmentData(ctx context.Context, rid, id string) error {
	if !validID("rel", rid) || !validID("att", id) {
		return nil
	}
	if err := s.rdb.Del(ctx, attachmentKey(rid, id), tgFileKey(rid, id)).Err(); err != nil {
		return fmt.Errorf("delete attachment %s of release %s: %w", id, rid, err)
	}
	return nil
}

var _ dispatcher.AttachmentReader = (*Store)(nil)
