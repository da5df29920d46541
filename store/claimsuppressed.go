package store

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
)

// Suppressions and claims (Redis Cluster, see cluster.go): pregon:suppressed
// is in no release's hash slot, so the claim and finish scripts, which stay
// in one release's slot, do not touch it. Instead:
//
//   - dropSuppressed checks the email deliveries just claimed against the
//     suppressions, before any is sent, and hands those whose address is
//     suppressed back as suppressed (unclaimSuppressedScript);
//   - suppressBounces adds the addresses of hard bounces to the
//     suppressions before the outcome that carries the bounce is recorded.

// suppressedAmong reports, for each address, whether it is suppressed.
func (s *Store) suppressedAmong(ctx context.Context, emails []string) ([]bool, error) {
	v, err := s.rdb.HMGet(ctx, suppressedKey, emails...).Result()
	if err != nil {
		return nil, fmt.Errorf("check suppressions: %w", err)
	}
	out := make([]bool, len(emails))
	for i := range emails {
		out[i] = v[i] != nil
	}
	return out, nil
}

// unclaimSuppressedScript ends a delivery just claimed as suppressed,
// under its claim only, undoing the attempt the claim counted: the claim
// script took it before anyone checked its address.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// ARGV[1] -> the delivery's key, pregon:{<rid>}:d:<id>
// ARGV[2] -> the claim time (Unix ms)
// ARGV[3] -> now (Unix ms)
//
// Output: 1 when it ended the delivery, 0 when the claim is no longer there.
var unclaimSuppressedScript = newReleaseScript(`
local f = redis.call('HMGET', ARGV[1], F.status, F.channel, F.claimed_at)
if f[1] ~= DS.sending or f[3] ~= ARGV[2] then return 0 end
redis.call('HINCRBY', ARGV[1], F.attempts, -1)
redis.call('HINCRBY', ARGV[1], F.round_attempts, -1)
redis.call('HSET', ARGV[1], F.status, DS.suppressed, F.error, '', F.updated_at, ARGV[3])
redis.call('HDEL', ARGV[1], F.claimed_at, F.worker)
move(f[2], DS.sending, DS.suppressed)
redis.call('HINCRBY', KEYS[2], C.pending, -1)
finalize(ARGV[3])
return 1
`)

// dropSuppressed returns claimed without the email deliveries whose address
// is suppressed, which it ends as suppressed.
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
	sup, err := s.suppressedAmong(ctx, emails)
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
		if !sup[i] {
			out = append(out, c)
		} else {
			err := unclaimSuppressedScript.Run(ctx, s.rdb, declared([]string{releaseKey(rid), countsKey(rid)}, rid, c.ID),
				deliveryPrefix(rid)+c.ID, fmtTime(c.ClaimedAt), fmtTime(s.now())).Err()
			if err != nil {
				return nil, fmt.Errorf("suppress delivery %s of %s: %w", c.ID, rid, err)
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
		to, err := s.rdb.HGet(ctx, deliveryPrefix(rid)+o.ID, dRecipient).Result()
		if isNil(err) {
			continue
		}
		if err != nil {
			return fmt.Errorf("bounce of delivery %s of %s: %w", o.ID, rid, err)
		}
		sup := dispatcher.Suppression{Email: to, Reason: dispatcher.SuppressionReason(reason), Source: source}
		if err := s.AddSuppression(ctx, sup, false); err != nil {
			return err
		}
	}
	return nil
}
