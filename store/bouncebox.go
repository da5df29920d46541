package store

import (
	"context"
	"fmt"
	"strings"
	"time"

	"github.com/redis/go-redis/v9"
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
// id starts with idPrefix (hex), "" when none or more than one does.
func (s *Store) DeliveryByPrefix(ctx context.Context, rid, idPrefix string) (string, error) {
	if !validID("rel", rid) || idPrefix == "" || strings.Trim(idPrefix, "0123456789abcdef") != "" {
		return "", nil
	}
	ids, err := s.rdb.ZRangeByLex(ctx, deliveriesKey(rid), &redis.ZRangeBy{
		Min: "[" + idPrefix, Max: "(" + idPrefix + "g", Count: 2}).Result()
	if err != nil {
		return "", fmt.Errorf("delivery of %s by prefix %s: %w", rid, idPrefix, err)
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
