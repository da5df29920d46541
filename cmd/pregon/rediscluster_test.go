package main

import (
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestRedisClusterURL: PREGON_REDIS_URL's cluster forms give a cluster
// client with every node as a seed, the password, TLS for rediss+cluster,
// go-redis's options from the query, and deadlines honoured; a bad one is
// refused at start with a message that says what is wrong and never shows
// the password.
func TestRedisClusterURL(t *testing.T) {
	c, err := redisClient("redis+cluster://h1:6379,h2:6380,h3:6381")
	if err != nil {
		t.Fatal(err)
	}
	cc, ok := c.(*redis.ClusterClient)
	if !ok {
		t.Fatalf("client is %T, want *redis.ClusterClient", c)
	}
	opt := cc.Options()
	if strings.Join(opt.Addrs, " ") != "h1:6379 h2:6380 h3:6381" || opt.TLSConfig != nil || !opt.ContextTimeoutEnabled {
		t.Errorf("options = addrs %v, tls %v, context timeouts %v", opt.Addrs, opt.TLSConfig != nil, opt.ContextTimeoutEnabled)
	}
	c.Close()

	opt2, err := clusterOptions("rediss+cluster://pregon:s3cret@h1:6379,h2:6379/0?dial_timeout=3s&route_by_latency=true")
	if err != nil {
		t.Fatal(err)
	}
	if opt2.Username != "pregon" || opt2.Password != "s3cret" || opt2.TLSConfig == nil || opt2.TLSConfig.ServerName != "h1" ||
		opt2.DialTimeout != 3*time.Second || !opt2.RouteByLatency || len(opt2.Addrs) != 2 {
		t.Errorf("options = %+v", opt2)
	}

	for _, tc := range []struct{ url, want string }{
		{"redis+cluster://h1,h2:6379", `host:port, got "h1"`},
		{"redis+cluster://:6379", `host:port, got ":6379"`},
		{"redis+cluster://h1:6379/2", "database 0 only"},
		{"redis+cluster://h1:6379?addr=h2:6379", "not with addr="},
		{"redis+cluster://u:s3cret@h1:6379,,h2:6379", `host:port, got ""`},
		{"redis+cluster://u:s3cret@h1:6379?dial_timeout=soon", "dial_timeout"},
		{"redis://", "redis+cluster://"},
	} {
		cfg, err := loadConfig(func(k string) string {
			if k == "PREGON_REDIS_URL" {
				return tc.url
			}
			return ""
		})
		if err == nil || !strings.Contains(err.Error(), "PREGON_REDIS_URL") || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one naming PREGON_REDIS_URL and saying %q", tc.url, err, tc.want)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("%s: the error shows the password: %v", tc.url, err)
		}
		_ = cfg
	}
	if _, err := loadConfig(func(k string) string {
		if k == "PREGON_REDIS_URL" {
			return "rediss+cluster://u:p@h1:6379,h2:6379,h3:6379"
		}
		return ""
	}); err != nil {
		t.Errorf("a good cluster URL refused: %v", err)
	}
}
