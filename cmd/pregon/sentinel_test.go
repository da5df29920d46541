package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pregon/pregon/internal/redistest"
)

// TestRedisSentinelURL runs a real Redis Sentinel in front of a real Redis
// and checks that a PREGON_REDIS_URL naming a master_name reaches the master
// through it: the token created by the CLI lands in the master.
func TestRedisSentinelURL(t *testing.T) {
	master := redistest.Start(t)
	sentinel := redistest.StartSentinel(t, master, "pregon")

	env := map[string]string{"PREGON_REDIS_URL": "redis://" + sentinel + "/0?master_name=pregon"}
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"token", "create", "--name", "via-sentinel", "--role", "viewer"}, &out, &errb, func(k string) string { return env[k] }); code != 0 {
		t.Fatalf("token create through the sentinel exited %d: %s", code, errb.String())
	}
	keys, err := master.Client(t).Keys(context.Background(), "pregon:token:*").Result()
	if err != nil || len(keys) != 1 {
		t.Fatalf("tokens in the master = %v, %v; want the one created through the sentinel", keys, err)
	}
	if strings.TrimSpace(out.String()) == "" {
		t.Errorf("no token printed")
	}
}
