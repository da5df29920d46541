package store

import (
	"context"
	"fmt"
	"strings"
	"time"
)

// Keys of the bounce mailbox's reader (package bouncebox):
//
//	pregon:lease:<name>           STRING the holder of a lease (TTL): one reader polls the mailbox
//	pregon:bounce-mail:<sha256>   STRING "1" once a bounce message was acted on (TTL 90 days)
const (
	bounceMailPrefix  = prefix + "bounce-mail:"
	bounceMailKeepFor = 90 * 24 * time.Hour
)

// DeliveryByPrefix returns the id of the one delivery of release rid whose
// id starts with idPrefix (hex, at least 3 digits), "" when none or more
// than one does.
func (s *Store) DeliveryByPrefix(ctx context.Context, rid, idPrefix string) (string, error) {
	if !validID("rel", rid) || idPrefix == "" || strings.Trim(idPrefix, "0123456789abcdef") != "" {
		return "", nil
	}
	if len(idPrefix) < bucketLen { // names a whole bucket at least: never used (VERP gives 12)
		return "", nil
	}
	bucket, rest := bucketOf(idPrefix)
	fields, err := s.rdb.HKeys(ctx, bucketPrefix(rid)+bucket).Result()
	if err != nil {
		return "", fmt.Errorf("delivery of %s by prefix %s: %w", rid, idPrefix, err)
	}
	var ids []string
	for _, f := range fields {
		if strings.HasPrefix(f, rest) {
			ids = append(ids, bucket+f)
		}
	}
	if len(ids) != 1 {
		return "", nil
	}
	return ids[0], nil
}

// MarkBounceMail records that the bounce message whose fingerprint is fp
// (a hex digest) is being acted on; it reports false when it already was,
// so that no message is acted on twice. The mark is kept 90 days.
func (s *Store) MarkBounceMail(ctx context.Context, fp string) (bool, error) {
	ok, err := s.rdb.SetNX(ctx, bounceMailPrefix+fp, "1", bounceMailKeepFor).Result()
	if err != nil {
		return false, fmt.Errorf("mark bounce message %s: %w", fp, err)
	}
	return ok, nil
}

// UnmarkBounceMail forgets the mark of MarkBounceMail, when acting on the
// message failed, so that it is tried again.
func (s *Store) UnmarkBounceMail(ctx context.Context, fp string) error {
	if err := s.rdb.Del(ctx, bounceMailPrefix+fp).Err(); err != nil {
		return fmt.Errorf("unmark bounce message %s: %w", fp, err)
	}
	return nil
}
