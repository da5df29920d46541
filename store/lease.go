package store

import (
	"context"
	"fmt"
	"time"
)

// Leases let one process of a deployment do a job that must run once at a
// time (the archiver, the bounce mailbox reader, the Telegram updates
// consumer): pregon:lease:<name> holds the owner's id with a TTL, renewed
// while it works, taken over by another once it lapses.

func leaseKey(name string) string { return prefix + "lease:" + name }

// AcquireLease takes the lease name for owner for ttl, or renews it when
// owner holds it; it reports whether owner holds it now.
func (s *Store) AcquireLease(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	n, err := acquireLeaseScript.Run(ctx, s.rdb, []string{leaseKey(name)}, owner, ttl.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("lease %s: %w", name, err)
	}
	return n == 1, nil
}

// ReleaseLease gives the lease name up, if owner holds it.
func (s *Store) ReleaseLease(ctx context.Context, name, owner string) error {
	if err := releaseLeaseScript.Run(ctx, s.rdb, []string{leaseKey(name)}, owner).Err(); err != nil && !isNil(err) {
		return fmt.Errorf("lease %s: %w", name, err)
	}
	return nil
}

// acquireLeaseScript takes or renews a lease.
//
// KEYS[1] -> pregon:lease:<name>
// ARGV[1] -> owner
// ARGV[2] -> TTL (ms)
//
// Output: 1 when owner holds the lease, 0 when another does.
var acquireLeaseScript = newScript(`
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1
`)

// releaseLeaseScript deletes a lease held by its owner.
//
// KEYS[1] -> pregon:lease:<name>
// ARGV[1] -> owner
//
// Output: 1 when it was deleted.
var releaseLeaseScript = newScript(`
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0
`)
