package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Redis Cluster (issue 13 item 5).
//
// Under Redis Cluster a Lua script, a MULTI/EXEC and a WATCH may only touch
// keys of one hash slot, and a script must declare them in KEYS. Pregón's
// data falls in two kinds:
//
//   - A release's keys (pregon:{<rid>}:...) share the hash tag {<rid>}, so
//     every script that claims, sends, retries, cancels or finishes its
//     deliveries stays atomic in one slot: no delivery is sent twice and no
//     outcome is lost, exactly as on one Redis. Those scripts touch no other
//     key.
//   - The global keys (the release status indexes pregon:releases:<status>,
//     pregon:releases, pregon:active, the suppressions, lists, contacts,
//     tokens, ...) live in many slots. What a release script used to write
//     there in the same step is done by Go next to it, as idempotent steps
//     that a retry or the sweeper repeats:
//     the status indexes are set from the release hash after each script
//     that may change its status (syncStatusIndex), and by the sweeper for
//     every active release; a release is marked active before the script
//     that makes it sending; a bounce's suppression is written before the
//     outcome that carries it (so a crash between the two loses nothing:
//     the suppression holds, and the outcome is recorded again).
//   - The claim no longer reads pregon:suppressed inside the script: the
//     claimed email deliveries are checked against the suppressions right
//     after the claim, before anything is sent, and a suppressed one is
//     handed back as suppressed (unclaimSuppressedScript). A suppression
//     that lands after that check is not honoured for this send; on one
//     Redis before this change one that landed just after the claim script
//     was not either: the window is the same few milliseconds between the
//     claim and the send.
//
// Multi-key transactions on global keys (an entity and its index) go
// through tx: MULTI/EXEC when the keys share a slot (always on one Redis),
// else, on a cluster only, a pipeline of the same idempotent writes.

// isCluster reports whether the store runs on a Redis Cluster.
func (s *Store) isCluster() bool {
	_, ok := s.rdb.(*redis.ClusterClient)
	return ok
}

// tx runs fn's commands in one MULTI/EXEC. On a Redis Cluster, when they
// span hash slots (which a transaction cannot), it runs them as a pipeline
// instead: each write is then atomic alone, and callers order their writes
// and keep them idempotent so that a failure half-way is repaired by doing
// the call again.
func (s *Store) tx(ctx context.Context, fn func(redis.Pipeliner) error) ([]redis.Cmder, error) {
	cmds, err := s.rdb.TxPipelined(ctx, fn)
	if s.isCluster() && errors.Is(err, redis.ErrCrossSlot) {
		return s.rdb.Pipelined(ctx, fn)
	}
	return cmds, err
}

// syncStatusIndex puts release rid in the status index of the status its
// hash holds, and in no other (a correction in none). Release scripts
// change a release's status in its own slot; this follows them. It reads
// the status again after writing, and writes again if it changed meanwhile,
// so that of two concurrent calls the last write is always the newest
// status; the sweeper repeats it for active releases, so a process that
// died between a script and this step is repaired.
func (s *Store) syncStatusIndex(ctx context.Context, rid string) error {
	for range 5 {
		v, err := s.rdb.HMGet(ctx, releaseKey(rid), rStatus, rCorrectionOf).Result()
		if err != nil {
			return fmt.Errorf("index release %s: %w", rid, err)
		}
		st := str(v, 0)
		if st == "" {
			return nil
		}
		p := s.rdb.Pipeline()
		for _, other := range dispatcher.ReleaseStatuses {
			if string(other) != st || str(v, 1) != "" {
				p.ZRem(ctx, statusIndexKey(other), rid)
			}
		}
		if str(v, 1) == "" {
			p.ZAdd(ctx, statusIndexKey(dispatcher.ReleaseStatus(st)), redis.Z{Member: rid})
		}
		if _, err := p.Exec(ctx); err != nil {
			return fmt.Errorf("index release %s: %w", rid, err)
		}
		again, err := s.rdb.HGet(ctx, releaseKey(rid), rStatus).Result()
		if err != nil && !isNil(err) {
			return fmt.Errorf("index release %s: %w", rid, err)
		}
		if again == st {
			return nil
		}
	}
	return fmt.Errorf("index release %s: its status keeps changing", rid)
}

// declared returns the keys that a release script given ids touches
// beyond its fixed KEYS: the bucket holding each delivery's record
// (record.go) and the release's failure log. The scripts build these keys from ARGV as they always did; they are
// passed in KEYS too, after the fixed ones, because Redis Cluster wants
// every key a script touches declared (and in one slot: they all are in
// the release's, {<rid>}). The one place that says which keys a
// delivery has.
func declared(fixed []string, rid string, ids ...string) []string {
	keys := make([]string, 0, len(fixed)+len(ids)+1)
	keys = append(keys, fixed...)
	seen := make(map[string]bool, len(ids))
	for _, id := range ids {
		b, _ := bucketOf(id)
		if !seen[b] {
			seen[b] = true
			keys = append(keys, bucketPrefix(rid)+b)
		}
	}
	return append(keys, failuresKey(rid))
}
