package main

import (
	"testing"

	"github.com/redis/go-redis/v9"
)

// TestRedisClientHonoursContextDeadlines: every Redis client Pregón builds,
// for one Redis or through Sentinel, lets each call's context deadline bound
// it (ContextTimeoutEnabled); TestEndToEndRedisFrozen shows why.
func TestRedisClientHonoursContextDeadlines(t *testing.T) {
	for _, u := range []string{
		"redis://127.0.0.1:6379/0",
		"redis://127.0.0.1:26379/0?master_name=pregon&addr=127.0.0.1:26380",
	} {
		c, err := redisClient(u)
		if err != nil {
			t.Fatalf("%s: %v", u, err)
		}
		opt := c.(interface{ Options() *redis.Options }).Options()
		if !opt.ContextTimeoutEnabled {
			t.Errorf("%s: ContextTimeoutEnabled is off", u)
		}
		c.Close()
	}
}
