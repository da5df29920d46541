// Package ratelimit paces sends across every Pregón process that shares one
// Redis, with go-redis/redis_rate's GCRA limiter.
package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/go-redis/redis_rate/v10"
	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// ErrRateLimited is the cause of the transient error Wait returns when the
// wait would be longer than the limiter's MaxWait.
var ErrRateLimited = errors.New("rate limited")

// Rule is one limit on one key: at most Rate events per Period. With Burst 0
// (or 1) they are evenly spaced, so that no window of length Period ever
// holds more than Rate; a larger Burst lets that many go at once first.
type Rule struct {
	Key    string
	Rate   int
	Period time.Duration
	Burst  int
}

func (r Rule) limit() redis_rate.Limit {
	return redis_rate.Limit{Rate: r.Rate, Period: r.Period, Burst: max(r.Burst, 1)}
}

// Allow takes a turn under r without waiting. It returns 0 when the event
// may go ahead, or how long until it may.
func (l *Limiter) Allow(ctx context.Context, r Rule) (time.Duration, error) {
	res, err := l.l.Allow(ctx, prefix+r.Key, r.limit())
	if err != nil {
		return 0, fmt.Errorf("rate limit %s: %w", r.Key, err)
	}
	if res.Allowed > 0 {
		return 0, nil
	}
	return max(res.RetryAfter, time.Millisecond), nil
}

// Limiter waits for a turn under a set of rules.
type Limiter struct {
	l   *redis_rate.Limiter
	rdb redis.UniversalClient
	// MaxWait is the longest Wait blocks; a longer wait is returned as a
	// transient error carrying the time to retry after, so that a worker is
	// not held (default 5s).
	MaxWait time.Duration
	// OnWait, when set, is called each time a turn under rule is not free
	// and must be waited for (for metrics).
	OnWait func(rule Rule, wait time.Duration)
	sleep  func(context.Context, time.Duration) error
}

// New returns a Limiter on rdb.
func New(rdb redis.UniversalClient) *Limiter {
	return &Limiter{l: redis_rate.NewLimiter(rdb), rdb: rdb, MaxWait: 5 * time.Second, sleep: sleepCtx}
}

// Wait takes one turn under every rule, in order, waiting as needed. When a
// turn is further away than MaxWait it returns a dispatcher.Transient error
// with that delay, wrapping ErrRateLimited. Turns already taken under earlier
// rules are not given back: rules are cheap when ordered from the most to the
// least likely to wait long.
func (l *Limiter) Wait(ctx context.Context, rules ...Rule) error {
	for _, r := range rules {
		if r.Rate <= 0 {
			continue
		}
		for {
			wait, err := l.Allow(ctx, r)
			if err != nil {
				return dispatcher.Transient(err, 0)
			}
			if wait == 0 {
				break
			}
			if l.OnWait != nil {
				l.OnWait(r, wait)
			}
			if wait > l.MaxWait {
				return dispatcher.Transient(fmt.Errorf("%s: %w", r.Key, ErrRateLimited), wait)
			}
			if err := l.sleep(ctx, wait); err != nil {
				return err
			}
		}
	}
	return nil
}

const prefix = "pregon:rate:"

func sleepCtx(ctx context.Context, d time.Duration) error {
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// Email paces emails: at most PerSecond a second in all (0: no limit).
type Email struct {
	L         *Limiter
	PerSecond int
}

// Wait waits for a turn to send one email.
func (e *Email) Wait(ctx context.Context) error {
	return e.L.Wait(ctx, Rule{Key: "email", Rate: e.PerSecond, Period: time.Second})
}

// ClientBurst is the burst PerClient is meant to use: enough to open a page,
// press its button and press it again without being refused.
const ClientBurst = 10

// PerClient limits how often one client may call an API endpoint that takes
// no token: rate requests a minute after a burst, counted for all API
// processes on one Redis. It implements api.RateLimiter.
type PerClient struct {
	L *Limiter
	// Burst is how many requests may go at once before the rate applies
	// (ClientBurst).
	Burst int
}

// Allow takes one turn for key under rate requests a minute; it returns 0
// when the request may go ahead, or how long until it may.
func (p *PerClient) Allow(ctx context.Context, key string, rate int) (time.Duration, error) {
	return p.L.Allow(ctx, Rule{Key: "api:" + key, Rate: rate, Period: time.Minute, Burst: p.Burst})
}
