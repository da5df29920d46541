// Package redistest starts a real redis-server for tests, on a free port with
// a temporary directory, and stops it when the test ends.
package redistest

import (
	"bufio"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pregon/pregon/internal/testkit"
)

// Server is a running redis-server.
type Server struct {
	Addr string
	Dir  string
	cmd  *exec.Cmd
	done chan struct{} // closed when cmd has exited
	args []string
}

// URL returns the server's redis:// URL for database 0.
func (s *Server) URL() string { return "redis://" + s.Addr + "/0" }

// Client returns a go-redis client for the server, closed when the test ends.
func (s *Server) Client(tb testing.TB) *redis.Client {
	tb.Helper()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, ContextTimeoutEnabled: true})
	tb.Cleanup(func() { c.Close() })
	return c
}

// Options change how the server runs.
type Options struct {
	// AppendOnly turns on AOF persistence (appendfsync everysec).
	AppendOnly bool
}

// Start starts redis-server and stops it when tb ends. It skips nothing: a
// missing redis-server fails the test, since the suite needs a real one.
func Start(tb testing.TB) *Server { return StartWith(tb, Options{}) }

// StartWith starts redis-server with opts.
func StartWith(tb testing.TB, opts Options) *Server {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found (install the redis-server package): %v", err)
	}
	s := &Server{Dir: tb.TempDir()}
	port := testkit.FreePort(tb)
	s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	s.args = []string{
		"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.Dir,
		"--save", "", "--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning",
	}
	if opts.AppendOnly {
		s.args = append(s.args, "--appendonly", "yes", "--appendfsync", "everysec")
	}
	s.cmd = exec.Command(bin, s.args...)
	if err := s.start(tb); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { s.Stop() })
	return s
}

func (s *Server) start(tb testing.TB) error {
	logPath := filepath.Join(s.Dir, "redis.log")
	f, err := os.OpenFile(logPath, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o600)
	if err != nil {
		return err
	}
	s.cmd.Stdout, s.cmd.Stderr = f, f
	if err := s.cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("start redis-server: %w", err)
	}
	done := make(chan struct{})
	s.done = done
	cmd := s.cmd
	go func() { cmd.Wait(); f.Close(); close(done) }()
	c := redis.NewClient(&redis.Options{Addr: s.Addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	defer c.Close()
	deadline := time.Now().Add(10 * time.Second)
	for time.Now().Before(deadline) {
		ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
		err = c.Ping(ctx).Err()
		cancel()
		if err == nil {
			return nil
		}
		time.Sleep(10 * time.Millisecond)
	}
	return fmt.Errorf("redis-server on %s did not answer: %v\n%s", s.Addr, err, tail(logPath))
}

// Stop kills the server (SIGKILL) and waits for it to exit.
func (s *Server) Stop() {
	if s.cmd != nil && s.cmd.Process != nil && s.done != nil {
		s.cmd.Process.Kill()
		<-s.done
	}
}

// Freeze stops the server's process with SIGSTOP: it keeps its connections
// open and answers nothing, like a Redis stuck on a slow disk. Thaw (or the
// end of the test) lets it go on.
func (s *Server) Freeze(tb testing.TB) {
	tb.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGSTOP); err != nil {
		tb.Fatalf("freeze redis-server: %v", err)
	}
	tb.Cleanup(func() { s.cmd.Process.Signal(syscall.SIGCONT) })
}

// Thaw lets a frozen server go on (SIGCONT).
func (s *Server) Thaw(tb testing.TB) {
	tb.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGCONT); err != nil {
		tb.Fatalf("thaw redis-server: %v", err)
	}
}

// Restart starts the server again on the same port and directory, e.g. after
// Stop, so that a test can see a Redis outage end.
func (s *Server) Restart(tb testing.TB) {
	tb.Helper()
	s.Stop()
	s.cmd = exec.Command(s.cmd.Path, s.args...)
	if err := s.start(tb); err != nil {
		tb.Fatal(err)
	}
}

// StartSentinel starts a Redis Sentinel on a free port that monitors
// master under name, waits until it knows the master, and stops it when tb
// ends. It returns the sentinel's address.
func StartSentinel(tb testing.TB, master *Server, name string) string {
	tb.Helper()
	_, mport, _ := net.SplitHostPort(master.Addr)
	port := testkit.FreePort(tb)
	dir := tb.TempDir()
	conf := filepath.Join(dir, "sentinel.conf")
	body := fmt.Sprintf("port %d\nbind 127.0.0.1\ndir %s\nsentinel monitor %s 127.0.0.1 %s 1\n", port, dir, name, mport)
	if err := os.WriteFile(conf, []byte(body), 0o600); err != nil {
		tb.Fatal(err)
	}
	cmd := exec.Command("redis-server", conf, "--sentinel")
	logs := &testkit.Buffer{}
	cmd.Stdout, cmd.Stderr = logs, logs
	if err := cmd.Start(); err != nil {
		tb.Fatalf("start redis-server --sentinel: %v", err)
	}
	tb.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	addr := net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
	sc := redis.NewSentinelClient(&redis.Options{Addr: addr})
	defer sc.Close()
	testkit.WaitFor(tb, "the sentinel to know the master", 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		got, err := sc.GetMasterAddrByName(context.Background(), name).Result()
		return err == nil && len(got) == 2 && got[1] == mport, fmt.Sprintf("%v %v\n%s", got, err, logs)
	})
	return addr
}

func tail(path string) string {
	f, err := os.Open(path)
	if err != nil {
		return ""
	}
	defer f.Close()
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
		if len(lines) > 20 {
			lines = lines[1:]
		}
	}
	return strings.Join(lines, "\n")
}

// Cluster is a running Redis Cluster of three masters and no replicas.
type Cluster struct {
	Addrs []string
}

// URL returns the cluster's redis+cluster:// URL (every node, as seeds).
func (c *Cluster) URL() string { return "redis+cluster://" + strings.Join(c.Addrs, ",") }

// Client returns a go-redis cluster client, closed when the test ends.
func (c *Cluster) Client(tb testing.TB) *redis.ClusterClient {
	tb.Helper()
	cc := redis.NewClusterClient(&redis.ClusterOptions{Addrs: c.Addrs, ContextTimeoutEnabled: true})
	tb.Cleanup(func() { cc.Close() })
	return cc
}

// StartCluster starts three redis-servers with --cluster-enabled yes, joins
// them with redis-cli --cluster create (three masters, no replicas, the
// 16384 slots split between them), waits until every node reports
// cluster_state:ok, and stops them when tb ends. It skips the test only when
// redis-server has no cluster support.
func StartCluster(tb testing.TB) *Cluster {
	tb.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		tb.Fatalf("redis-server not found (install the redis-server package): %v", err)
	}
	cli, err := exec.LookPath("redis-cli")
	if err != nil {
		tb.Fatalf("redis-cli not found (install the redis-tools package): %v", err)
	}
	c := &Cluster{}
	for range 3 {
		s := &Server{Dir: tb.TempDir()}
		port := testkit.FreePort(tb)
		s.Addr = net.JoinHostPort("127.0.0.1", strconv.Itoa(port))
		s.args = []string{
			"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", s.Dir,
			"--save", "", "--protected-mode", "no", "--daemonize", "no", "--loglevel", "warning",
			"--cluster-enabled", "yes", "--cluster-config-file", filepath.Join(s.Dir, "nodes.conf"),
			"--cluster-node-timeout", "5000",
		}
		s.cmd = exec.Command(bin, s.args...)
		if err := s.start(tb); err != nil {
			if log := tail(filepath.Join(s.Dir, "redis.log")); strings.Contains(log, "cluster-enabled") || strings.Contains(log, "Bad directive") {
				tb.Skipf("this redis-server has no cluster support (--cluster-enabled refused):\n%s", log)
			}
			tb.Fatal(err)
		}
		tb.Cleanup(s.Stop)
		c.Addrs = append(c.Addrs, s.Addr)
	}
	args := append([]string{"--cluster", "create"}, c.Addrs...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command(cli, args...).CombinedOutput(); err != nil {
		tb.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, addr := range c.Addrs {
		nc := redis.NewClient(&redis.Options{Addr: addr})
		testkit.WaitFor(tb, "cluster_state:ok on "+addr, 20*time.Second, 50*time.Millisecond, func() (bool, string) {
			info, err := nc.ClusterInfo(context.Background()).Result()
			return err == nil && strings.Contains(info, "cluster_state:ok"), fmt.Sprintf("%v\n%s", err, info)
		})
		nc.Close()
	}
	return c
}
