package main

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/redis/go-redis/v9"
)

// TestRedisSentinelURL runs a real Redis Sentinel in front of a real Redis
// and checks that a PREGON_REDIS_URL naming a master_name reaches the master
// through it: the token created by the CLI lands in the master.
func TestRedisSentinelURL(t *testing.T) {
	master := redistest.Start(t)
	_, mport, _ := net.SplitHostPort(master.Addr)
	sport := strconv.Itoa(testkit.FreePort(t))
	dir := t.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %s\nbind 127.0.0.1\ndir %s\nsentinel monitor pregon 127.0.0.1 %s 1\n", sport, dir, mport)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	var logs bytes.Buffer
	cmd.Stdout, cmd.Stderr = &logs, &logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := redis.NewSentinelClient(&redis.Options{Addr: "127.0.0.1:" + sport})
	defer sc.Close()
	deadline := time.Now().Add(10 * time.Second)
	for {
		addr, err := sc.GetMasterAddrByName(context.Background(), "pregon").Result()
		if err == nil && len(addr) == 2 && addr[1] == mport {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("sentinel does not know the master: %v %v\n%s", addr, err, logs.String())
		}
		time.Sleep(20 * time.Millisecond)
	}

	env := map[string]string{"PREGON_REDIS_URL": "redis://127.0.0.1:" + sport + "/0?master_name=pregon"}
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
