package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// An idempotency key (pregon:idem:<key>, a HASH) remembers one request made
// with an Idempotency-Key header. The caller passes the key already scoped
// and hashed (64 hex digits), so that user input never builds an odd key.
// Fields:
//
//	fp    the fingerprint of the request's body
//	own   while the request runs: the random owner of the claim
//	rid   once it succeeded: the id of the release it created
//	code  once it succeeded: the status code it answered
func idemKey(key string) string { return prefix + "idem:" + key }

// Hash fields of an idempotency key.
const (
	iFingerprint = "fp"
	iOwner       = "own"
	iReleaseID   = "rid"
	iCode        = "code"
)

// newIdemScript returns a script that reads the hash fields of an
// idempotency key from the table I (I.fingerprint, I.owner, ...).
func newIdemScript(src string) *redis.Script {
	return redis.NewScript(fmt.Sprintf("local I = {fingerprint = %q, owner = %q, release = %q, code = %q}\n",
		iFingerprint, iOwner, iReleaseID, iCode) + src)
}

func validIdemKey(key string) bool {
	if len(key) != 64 {
		return false
	}
	for _, r := range key {
		if !('0' <= r && r <= '9' || 'a' <= r && r <= 'f') {
			return false
		}
	}
	return true
}

// claimIdemScript claims an idempotency key for a request, unless a request
// holds it already.
//
// KEYS[1] -> pregon:idem:<key>
// ARGV[1] -> the request's fingerprint
// ARGV[2] -> the claim's owner
// ARGV[3] -> how long the claim lasts if never finished or dropped (ms)
//
// Output: {1} when it claimed the key; otherwise {0, fingerprint, release
// id, status code} of the request that holds it (release id and code "" while
// that request runs).
var claimIdemScript = newIdemScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then
  redis.call('HSET', KEYS[1], I.fingerprint, ARGV[1], I.owner, ARGV[2])
  redis.call('PEXPIRE', KEYS[1], ARGV[3])
  return {1}
end
local h = redis.call('HMGET', KEYS[1], I.fingerprint, I.release, I.code)
return {0, h[1] or '', h[2] or '', h[3] or ''}
`)

// ClaimIdempotencyKey claims key for a request whose body has fingerprint
// fp, on behalf of owner (a random string the caller keeps), for at most
// lease unless FinishIdempotencyKey or DropIdempotencyKey ends the claim
// first. When it claimed the key, heldFP is "". Otherwise heldFP is the
// fingerprint of the request that holds the key, and rid and status are the
// release that request created and the status code it answered ("" and 0
// while it is still running). A key that is not 64 hex digits is an error.
func (s *Store) ClaimIdempotencyKey(ctx context.Context, key, fp, owner string, lease time.Duration) (heldFP, rid string, status int, err error) {
	if !validIdemKey(key) {
		return "", "", 0, fmt.Errorf("idempotency key %q: want 64 hex digits", key)
	}
	res, err := claimIdemScript.Run(ctx, s.rdb, []string{idemKey(key)}, fp, owner, lease.Milliseconds()).Slice()
	if err != nil {
		return "", "", 0, fmt.Errorf("claim idempotency key: %w", err)
	}
	if n, _ := res[0].(int64); n == 1 {
		return "", "", 0, nil
	}
	if len(res) != 4 {
		return "", "", 0, fmt.Errorf("claim idempotency key: unexpected reply %v", res)
	}
	heldFP, _ = res[1].(string)
	rid, _ = res[2].(string)
	code, _ := res[3].(string)
	status, _ = strconv.Atoi(code)
	return heldFP, rid, status, nil
}

// finishIdemScript records what a claimed request did, if the claim is
// still the owner's.
//
// KEYS[1] -> pregon:idem:<key>
// ARGV[1] -> the claim's owner
// ARGV[2] -> the release id
// ARGV[3] -> the status code
// ARGV[4] -> how long the key is remembered from now (ms)
//
// Output: 1 when it recorded it, 0 when the claim had lapsed.
var finishIdemScript = newIdemScript(`
if redis.call('HGET', KEYS[1], I.owner) ~= ARGV[1] then return 0 end
redis.call('HSET', KEYS[1], I.release, ARGV[2], I.code, ARGV[3])
redis.call('HDEL', KEYS[1], I.owner)
redis.call('PEXPIRE', KEYS[1], ARGV[4])
return 1
`)

// FinishIdempotencyKey records that the request holding key under owner
// created release rid and answered status, and keeps the key for ttl. It
// returns dispatcher.ErrConflict when owner's claim had lapsed (a later
// request may have claimed the key since).
func (s *Store) FinishIdempotencyKey(ctx context.Context, key, owner, rid string, status int, ttl time.Duration) error {
	if !validIdemKey(key) {
		return fmt.Errorf("idempotency key %q: want 64 hex digits", key)
	}
	n, err := finishIdemScript.Run(ctx, s.rdb, []string{idemKey(key)}, owner, rid, status, ttl.Milliseconds()).Int()
	if err != nil {
		return fmt.Errorf("finish idempotency key: %w", err)
	}
	if n == 0 {
		return fmt.Errorf("idempotency key: the claim lapsed before release %s was recorded: %w", rid, dispatcher.ErrConflict)
	}
	return nil
}

// dropIdemScript deletes a key still claimed by its owner.
//
// KEYS[1] -> pregon:idem:<key>
// ARGV[1] -> the claim's owner
//
// Output: 1 when it deleted the key, 0 otherwise.
var dropIdemScript = newIdemScript(`
if redis.call('HGET', KEYS[1], I.owner) ~= ARGV[1] then return 0 end
return redis.call('DEL', KEYS[1])
`)

// DropIdempotencyKey frees key if owner still claims it, so that a request
// that failed (bad input, a store error) leaves the key free for the next.
// A key claimed by someone else, or finished, is left alone.
func (s *Store) DropIdempotencyKey(ctx context.Context, key, owner string) error {
	if !validIdemKey(key) {
		return fmt.Errorf("idempotency key %q: want 64 hex digits", key)
	}
	if err := dropIdemScript.Run(ctx, s.rdb, []string{idemKey(key)}, owner).Err(); err != nil {
		return fmt.Errorf("drop idempotency key: %w", err)
	}
	return nil
}
