package store

import (
	"context"
	"fmt"
	"time"

	"github.com/redis/go-redis/v9"
)

// A worker process shows it is alive with a short-lived key that it renews
// (Heartbeat). Its claims name it, so that once the key has gone they are
// taken over at once rather than after the claim timeout.

func liveKey(worker string) string { return prefix + "worker:" + worker }

// workersKey is the SET of the ids of workers that have beaten, so that the
// sweeper can find those whose liveness key has gone.
const workersKey = prefix + "workers"

// heartbeatScript renews a worker's liveness key, or sets it to now when it
// had gone: its value is when the worker's unbroken run of heartbeats began.
//
// KEYS[1] -> pregon:worker:<worker id>
// ARGV[1] -> now (Unix ms)
// ARGV[2] -> the key's time to live, in milliseconds
//
// Output: 1.
var heartbeatScript = redis.NewScript(`
if redis.call('PEXPIRE', KEYS[1], ARGV[2]) == 0 then
  redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
end
return 1
`)

// Heartbeat renews worker's liveness key for ttl (see heartbeatScript) and
// registers the worker.
func (s *Store) Heartbeat(ctx context.Context, worker string, ttl time.Duration) error {
	s.liveTTL.Store(worker, ttl)
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		heartbeatScript.Eval(ctx, p, []string{liveKey(worker)}, fmtTime(s.now()), ttl.Milliseconds())
		p.SAdd(ctx, workersKey, worker)
		return nil
	})
	if err != nil {
		return fmt.Errorf("heartbeat of worker %s: %w", worker, err)
	}
	return nil
}

// Leave removes a worker that stops gracefully (it holds no claim any more).
func (s *Store) Leave(ctx context.Context, worker string) error {
	_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		p.Del(ctx, liveKey(worker))
		p.SRem(ctx, workersKey, worker)
		return nil
	})
	if err != nil {
		return fmt.Errorf("worker %s leaves: %w", worker, err)
	}
	return nil
}

// DeadWorkers returns the registered workers other than self whose liveness
// key has gone, and since when self's own heartbeats have run unbroken (zero
// when its key has gone too: Redis was frozen or away, and every worker's
// key may have expired meanwhile).
func (s *Store) DeadWorkers(ctx context.Context, self string) ([]string, time.Time, error) {
	members, err := s.rdb.SMembers(ctx, workersKey).Result()
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("workers: %w", err)
	}
	others := members[:0]
	for _, w := range members {
		if w != self {
			others = append(others, w)
		}
	}
	return s.liveness(ctx, self, others)
}

// ForgetWorkers unregisters dead workers whose deliveries have all been
// taken over.
func (s *Store) ForgetWorkers(ctx context.Context, workers []string) error {
	if len(workers) == 0 {
		return nil
	}
	if err := s.rdb.SRem(ctx, workersKey, workers).Err(); err != nil {
		return fmt.Errorf("forget workers: %w", err)
	}
	return nil
}

// liveness returns those of ws whose liveness key has gone, and since when
// self's own heartbeats have run unbroken (zero when its key has gone, or
// self is ""), in one round trip.
func (s *Store) liveness(ctx context.Context, self string, ws []string) ([]string, time.Time, error) {
	p := s.rdb.Pipeline()
	var since *redis.StringCmd
	if self != "" {
		since = p.Get(ctx, liveKey(self))
	}
	ex := make([]*redis.IntCmd, len(ws))
	for i, w := range ws {
		ex[i] = p.Exists(ctx, liveKey(w))
	}
	if since == nil && len(ws) == 0 {
		return nil, time.Time{}, nil
	}
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return nil, time.Time{}, fmt.Errorf("liveness of workers: %w", err)
	}
	var dead []string
	for i, w := range ws {
		if ex[i].Val() == 0 {
			dead = append(dead, w)
		}
	}
	var t time.Time
	if since != nil {
		t = parseTime(since.Val())
	}
	return dead, t, nil
}
