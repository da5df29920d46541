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
	leasePrefix       = prefix + "lease:"
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

// renewLeaseScript takes or keeps a lease.
//
// KEYS[1] -> pregon:lease:<name>
// ARGV[1] -> holder
// ARGV[2] -> TTL (ms)
//
// Output: 1 when ARGV[1] holds the lease (taken or renewed), 0 when another does.
var renewLeaseScript = redis.NewScript(`
local h = redis.call('GET', KEYS[1])
if h and h ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// releaseLeaseScript gives a lease up, if still held.
//
// KEYS[1] -> pregon:lease:<name>
// ARGV[1] -> holder
//
// Output: 1 when it was released.
var releaseLeaseScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)

// Lease takes the lease name for holder for ttl, or renews it when holder
// already has it; it reports whether holder has it.
func (s *Store) Lease(ctx context.Context, name, holder string, ttl time.Duration) (bool, error) {
	n, err := renewLeaseScript.Run(ctx, s.rdb, []string{leasePrefix + name}, holder, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease gives the lease name up, when holder has it.
func (s *Store) ReleaseLease(ctx context.Context, name, holder string) error {
	if err := releaseLeaseScript.Run(ctx, s.rdb, []string{leasePrefix + name}, holder).Err(); err != nil {
		return fmt.Errorf("release lease %s: %w", name, err)
	}
	return nil
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
