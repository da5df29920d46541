package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"

	"github.com/redis/go-redis/v9"
)

// Before delivery records (record.go), each delivery was a hash of its own,
// pregon:{<rid>}:d:<id>, listed in the ZSET pregon:{<rid>}:deliveries.
// Upgrade moves such deliveries into records, once; recordsKey says it is
// done.
const recordsKey = prefix + "delivery-records"

const migrateBatch = 500 // old delivery hashes moved by one script call

// migrateScript moves old per-delivery hashes of a release into records.
//
// KEYS[1] -> pregon:{<rid>}:deliveries (the old ZSET of delivery ids)
// KEYS[2] -> pregon:{<rid>}:dblocks
// ARGV[1] -> old delivery key prefix (pregon:{<rid>}:d:)
// ARGV[2] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[3..] -> delivery ids
//
// Output: how many deliveries it moved. Each id is taken off the old ZSET
// (which Redis deletes once empty) in the same step as its hash is moved.
var migrateScript = newScript(`
local moved = 0
for i = 3, #ARGV do
  local id = ARGV[i]
  local h = redis.call('HGETALL', ARGV[1] .. id)
  if #h > 0 then
    local d = {}
    for j = 1, #h, 2 do d[h[j]] = h[j + 1] end
    local key, field, bucket = dslot(ARGV[2], id)
    redis.call('HSET', key, field, encodeRec(d))
    redis.call('ZADD', KEYS[2], 0, bucket)
    redis.call('DEL', ARGV[1] .. id)
    moved = moved + 1
  end
  redis.call('ZREM', KEYS[1], id)
end
return moved
`)

// Upgrade makes Redis ready for this version: it raises the hash listpack
// limits that keep delivery buckets compact when they are lower
// (record.go; where CONFIG SET is refused, Warnings says so), and moves
// the deliveries that earlier versions kept one hash each into records.
// It returns how many it moved. It may run in several processes at once;
// run it before serving.
func (s *Store) Upgrade(ctx context.Context) (int, error) {
	s.tuneListpacks(ctx)
	if done, err := s.rdb.Get(ctx, recordsKey).Result(); err == nil && done == "1" {
		return 0, nil
	} else if err != nil && !isNil(err) {
		return 0, fmt.Errorf("upgrade: %w", err)
	}
	var old []string
	scan := func(ctx context.Context, c *redis.Client) error {
		iter := c.ScanType(ctx, 0, prefix+"{*}:deliveries", 1000, "zset").Iterator()
		for iter.Next(ctx) {
			old = append(old, iter.Val())
		}
		return iter.Err()
	}
	var err error
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		var mu sync.Mutex // ForEachMaster runs at once on every master
		err = c.ForEachMaster(ctx, func(ctx context.Context, c *redis.Client) error {
			mu.Lock()
			defer mu.Unlock()
			return scan(ctx, c)
		})
	case *redis.Client:
		err = scan(ctx, c)
	default:
		return 0, fmt.Errorf("upgrade: unsupported Redis client %T", s.rdb)
	}
	if err != nil {
		return 0, fmt.Errorf("upgrade: find old deliveries: %w", err)
	}
	moved := 0
	for _, key := range old {
		rid := strings.TrimSuffix(strings.TrimPrefix(key, prefix+"{"), "}:deliveries")
		n, err := s.migrateRelease(ctx, rid)
		moved += n
		if err != nil {
			return moved, err
		}
	}
	if err := s.rdb.Set(ctx, recordsKey, "1", 0).Err(); err != nil {
		return moved, fmt.Errorf("upgrade: %w", err)
	}
	return moved, nil
}

// migrateRelease moves a release's old delivery hashes into records.
func (s *Store) migrateRelease(ctx context.Context, rid string) (int, error) {
	moved := 0
	for {
		ids, err := s.rdb.ZRange(ctx, deliveriesKey(rid), 0, migrateBatch-1).Result()
		if err != nil {
			return moved, fmt.Errorf("upgrade deliveries of %s: %w", rid, err)
		}
		if len(ids) == 0 {
			return moved, nil
		}
		args := make([]any, 0, 2+len(ids))
		args = append(args, deliveryPrefix(rid), bucketPrefix(rid))
		for _, id := range ids {
			args = append(args, id)
		}
		n, err := migrateScript.Run(ctx, s.rdb, []string{deliveriesKey(rid), blocksKey(rid)}, args...).Int()
		moved += n
		if err != nil {
			return moved, fmt.Errorf("upgrade deliveries of %s: %w", rid, err)
		}
	}
}

// listpackLimits are the Redis settings that keep delivery buckets
// listpacks, and the least values they need.
var listpackLimits = []struct {
	name string
	want int
}{{"hash-max-listpack-entries", listpackEntries}, {"hash-max-listpack-value", listpackValue}}

// tuneListpacks raises hash-max-listpack-entries and -value to what keeps
// delivery buckets compact, where they are lower and Redis allows it.
func (s *Store) tuneListpacks(ctx context.Context) {
	set := func(ctx context.Context, c *redis.Client) error {
		for _, l := range listpackLimits {
			name, want := l.name, l.want
			v, err := c.ConfigGet(ctx, name).Result()
			if err != nil {
				return err
			}
			if n, err := strconv.Atoi(v[name]); err == nil && n >= want {
				continue
			}
			if err := c.ConfigSet(ctx, name, strconv.Itoa(want)).Err(); err != nil {
				return err
			}
		}
		return nil
	}
	switch c := s.rdb.(type) {
	case *redis.ClusterClient:
		_ = c.ForEachShard(ctx, func(ctx context.Context, c *redis.Client) error { return set(ctx, c) })
	case *redis.Client:
		_ = set(ctx, c) // refused (a managed Redis): Warnings says what to set
	}
}

// listpackWarnings says which hash listpack limits are lower than delivery
// buckets need (record.go).
func (s *Store) listpackWarnings(ctx context.Context) ([]string, error) {
	var out []string
	for _, l := range listpackLimits {
		name, want := l.name, l.want
		v, err := s.rdb.ConfigGet(ctx, name).Result()
		if err != nil {
			return nil, fmt.Errorf("redis config get: %w", err)
		}
		if n, err := strconv.Atoi(v[name]); err == nil && n < want {
			out = append(out, fmt.Sprintf("redis %s is %d: set it to %d or more (CONFIG SET or redis.conf), or delivery records take about twice the memory", name, n, want))
		}
	}
	return out, nil
}
