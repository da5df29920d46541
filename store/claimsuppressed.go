package store

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Suppressions and claims (Redis Cluster, see cluster.go): pregon:suppressed
// is in no release's hash slot, so the claim and finish scripts, which stay
// in one release's slot, do not touch it. Instead:
//
//   - dropSuppressed checks the email deliveries just claimed against the
//     suppressions and the erasure hashes (pregon:erased, erase.go), before
//     any is sent, and hands those whose address is suppressed or erased
//     back as suppressed (unclaimSuppressedScript); an erased one's record
//     is then redacted to the hash (eraseDeliveryScript). Both checks go
//     in one pipelined round trip, so an erasure costs a claim nothing
//     more;
//   - suppressBounces adds the addresses of hard bounces to the
//     suppressions before the outcome that carries the bounce is recorded.

// Why an address is not to be mailed (blockedAmong).
const (
	notBlocked = iota
	blockedSuppressed
	blockedErased   // its erasure hash is in pregon:erased
	blockedRedacted // it is a recipient redacted to its hash already
)

// blockedAmong reports, for each address, whether and why it is not to be
// mailed: suppressed, erased, or a recipient already redacted to its
// erasure hash. The suppressions and the hashes are read in one pipeline.
func (s *Store) blockedAmong(ctx context.Context, emails []string) ([]int, error) {
	out := make([]int, len(emails))
	if len(emails) == 0 {
		return out, nil
	}
	var sup, erased *redis.SliceCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		sup = p.HMGet(ctx, suppressedKey, emails...)
		if s.erasureKey != nil {
			erased = p.HMGet(ctx, erasedKey, s.erasedHashes(emails)...)
		}
		return nil
	}); err != nil {
		return nil, fmt.Errorf("check suppressions: %w", err)
	}
	for i, e := range emails {
		switch {
		case redacted(e):
			out[i] = blockedRedacted
		case erased != nil && str(erased.Val(), i) != "":
			out[i] = blockedErased
		case str(sup.Val(), i) != "":
			out[i] = blockedSuppressed
		}
	}
	return out, nil
}

// unclaimSuppressedScript ends a delivery just claimed as suppressed,
// under its claim only, undoing the attempt the claim counted: the claim
// script took it before anyone checked its address.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// ARGV[1] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[2] -> the claim time (Unix ms)
// ARGV[3] -> now (Unix ms)
// ARGV[4] -> the delivery's id
//
// Output: 1 when it ended the delivery, 0 when the claim is no longer there.
var unclaimSuppressedScript = newReleaseScript(`
local d = getd(ARGV[1], ARGV[4])
if not d or d[F.status] ~= DS.sending or d[F.claimed_at] ~= ARGV[2] then return 0 end
d[F.attempts] = math.max(tonumber(d[F.attempts] or '1') - 1, 0)
d[F.round_attempts] = math.max(tonumber(d[F.round_attempts] or '1') - 1, 0)
d[F.status], d[F.error], d[F.updated_at] = DS.suppressed, nil, ARGV[3]
d[F.claimed_at], d[F.worker] = nil, nil
putd(ARGV[1], ARGV[4], d)
move(d[F.channel], DS.sending, DS.suppressed)
redis.call('HINCRBY', KEYS[2], C.pending, -1)
finalize(ARGV[3])
return 1
`)

// dropSuppressed returns claimed without the email deliveries whose address
// is suppressed or erased, which it ends as suppressed; an erased one's
// record keeps only the hash (see Erase).
func (s *Store) dropSuppressed(ctx context.Context, rid string, claimed []*dispatcher.Claimed) ([]*dispatcher.Claimed, error) {
	var emails []string
	for _, c := range claimed {
		if c.Channel == dispatcher.ChannelEmail {
			emails = append(emails, c.Recipient)
		}
	}
	if len(emails) == 0 {
		return claimed, nil
	}
	why, err := s.blockedAmong(ctx, emails)
	if err != nil {
		return nil, err
	}
	out := claimed[:0:0]
	i, dropped := 0, false
	for _, c := range claimed {
		if c.Channel != dispatcher.ChannelEmail {
			out = append(out, c)
			continue
		}
		if why[i] == notBlocked {
			out = append(out, c)
		} else {
			keys := declared([]string{releaseKey(rid), countsKey(rid)}, rid, c.ID)
			err := unclaimSuppressedScript.Run(ctx, s.rdb, keys, bucketPrefix(rid), fmtTime(c.ClaimedAt), fmtTime(s.now()), c.ID).Err()
			if err != nil {
				return nil, fmt.Errorf("suppress delivery %s of %s: %w", c.ID, rid, err)
			}
			if why[i] == blockedErased {
				if _, err := s.redactDelivery(ctx, rid, c.ID, c.Recipient); err != nil {
					return nil, err
				}
			}
			dropped = true
		}
		i++
	}
	if dropped {
		if err := s.syncStatusIndex(ctx, rid); err != nil {
			return nil, err
		}
	}
	return out, nil
}

// suppressBounces adds to the suppressions the recipients of the outcomes
// whose bounce suppresses (a hard bounce, a complaint), unless suppressed
// already (the first reason stays).
func (s *Store) suppressBounces(ctx context.Context, rid string, outs []dispatcher.Outcome) error {
	for _, o := range outs {
		_, source, reason := bounceArgs(o.Bounce)
		if reason == "" {
			continue
		}
		bucket, field := bucketOf(o.ID)
		v, err := s.rdb.HGet(ctx, bucketPrefix(rid)+bucket, field).Result()
		if isNil(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("bounce of delivery %s of %s: %w", o.ID, rid, err)
		}
		to := decodeRecord(v)[dRecipient]
		sup := dispatcher.Suppression{Email: to, Reason: dispatcher.SuppressionReason(reason), Source: source}
		if err := s.AddSuppression(ctx, sup, false); err != nil {
			return err
		}
	}
	return nil
}
