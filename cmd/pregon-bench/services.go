package main

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/redis/go-redis/v9"
)

// build compiles bin/pregon and bin/smtpsink.
func (b *bench) build(ctx context.Context) error {
	for _, pkg := range []string{"pregon", "smtpsink"} {
		b.log.Info("building", "binary", "bin/"+pkg)
		cmd := exec.CommandContext(ctx, "go", "build", "-o", filepath.Join("bin", pkg), "./cmd/"+pkg)
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("go build ./cmd/%s: %w", pkg, err)
		}
	}
	return nil
}

// startRedis starts redis-server on a free loopback port with its data in a
// temporary folder, persisting like production: AOF fsynced every second, no
// RDB snapshots. Its log goes to the output folder.
func (b *bench) startRedis(ctx context.Context) error {
	if _, err := exec.LookPath("redis-server"); err != nil {
		b.log.Info("redis-server is missing: running scripts/ensure-redis.sh")
		cmd := exec.CommandContext(ctx, "scripts/ensure-redis.sh")
		cmd.Stdout, cmd.Stderr = os.Stderr, os.Stderr
		if err := cmd.Run(); err != nil {
			return fmt.Errorf("scripts/ensure-redis.sh: %w", err)
		}
	}
	dir, err := os.MkdirTemp("", "pregon-bench-redis-")
	if err != nil {
		return err
	}
	b.cleanups = append(b.cleanups, func() { os.RemoveAll(dir) })
	addr, err := freeAddr()
	if err != nil {
		return err
	}
	port := addr[strings.LastIndexByte(addr, ':')+1:]
	p, err := b.procs.start(procSpec{
		name: "redis-server", path: "redis-server", logPath: b.outPath("redis.log"),
		args: []string{
			"--bind", "127.0.0.1", "--port", port, "--dir", dir, "--daemonize", "no",
			"--protected-mode", "no", "--appendonly", "yes", "--appendfsync", "everysec",
			"--save", "", "--maxmemory-policy", "noeviction", "--loglevel", "warning",
		},
	})
	if err != nil {
		return err
	}
	b.redis = p
	b.redisAddr = addr
	b.rdb = redis.NewClient(&redis.Options{Addr: addr, MaxRetries: -1, ContextTimeoutEnabled: true})
	err = waitFor(ctx, "redis-server to answer", 15*time.Second, 20*time.Millisecond, func(ctx context.Context) (bool, error) {
		if done, err := p.exited(); done {
			return false, fmt.Errorf("redis-server %w (see %s)", err, b.outPath("redis.log"))
		}
		return b.rdb.Ping(ctx).Err() == nil, nil
	})
	if err != nil {
		return err
	}
	b.log.Info("redis-server started", "addr", addr, "dir", dir)
	return nil
}

// sink is a running bin/smtpsink.
type sink struct {
	*proc
	addr     string // SMTP
	statsURL string
}

// startSink starts bin/smtpsink on free ports, logging to smtpsink-LABEL.log,
// and returns once it has said where it listens.
func (b *bench) startSink(ctx context.Context, label string) (*sink, error) {
	lines := make(chan string, 2)
	w := &lineWatcher{fn: func(line string) {
		if strings.HasPrefix(line, "listening on ") || strings.HasPrefix(line, "stats on ") {
			select {
			case lines <- line:
			default:
			}
		}
	}}
	p, err := b.procs.start(procSpec{
		name: "smtpsink " + label, path: "bin/smtpsink", logPath: b.outPath("smtpsink-" + label + ".log"),
		args: []string{"-addr", "127.0.0.1:0", "-stats", "127.0.0.1:0"}, stdout: w,
	})
	if err != nil {
		return nil, err
	}
	s := &sink{proc: p}
	timeout := time.After(15 * time.Second)
	for s.addr == "" || s.statsURL == "" {
		select {
		case line := <-lines:
			if a, ok := strings.CutPrefix(line, "listening on "); ok {
				s.addr = a
			} else if a, ok := strings.CutPrefix(line, "stats on "); ok {
				s.statsURL = "http://" + a + "/stats"
			}
		case <-p.done:
			return nil, fmt.Errorf("smtpsink exited at start: %v (see %s)", p.err, b.outPath("smtpsink-"+label+".log"))
		case <-timeout:
			b.procs.stop(p, time.Second)
			return nil, errors.New("smtpsink did not say where it listens within 15s")
		case <-ctx.Done():
			b.procs.stop(p, time.Second)
			return nil, ctx.Err()
		}
	}
	return s, nil
}

// pregon is a running bin/pregon serve, api or worker.
type pregon struct {
	*proc
	role      string
	logPath   string
	httpAddr  string // where the API listens (serve, api)
	pprofAddr string
}

// startPregon starts `bin/pregon ROLE` against the bench's Redis, the sink and
// the fake Telegram API, logging to pregon-LABEL.log, and waits until it is
// ready: /readyz answers 200 for serve and api, the pprof endpoint answers
// for a worker.
func (b *bench) startPregon(ctx context.Context, role, label string, s *sink) (*pregon, error) {
	httpAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	pprofAddr, err := freeAddr()
	if err != nil {
		return nil, err
	}
	pg := &pregon{role: role, logPath: b.outPath("pregon-" + label + ".log"), httpAddr: httpAddr, pprofAddr: pprofAddr}
	env := b.pregonEnv(map[string]string{
		"PREGON_HTTP_ADDR":  httpAddr,
		"PREGON_PPROF_ADDR": pprofAddr,
		"PREGON_SMTP_URL":   "smtp://" + s.addr + "?tls=none",
	})
	pg.proc, err = b.procs.start(procSpec{name: "pregon " + label, path: "bin/pregon", args: []string{role}, env: env, logPath: pg.logPath})
	if err != nil {
		return nil, err
	}
	url := "http://" + httpAddr + "/readyz"
	if role == "worker" {
		url = "http://" + pprofAddr + "/debug/pprof/"
	}
	err = waitFor(ctx, "pregon "+label+" to be ready", 30*time.Second, 20*time.Millisecond, func(ctx context.Context) (bool, error) {
		if done, err := pg.exited(); done {
			return false, fmt.Errorf("pregon %s %w: see %s", role, err, pg.logPath)
		}
		resp, err := httpGet(ctx, url)
		if err != nil {
			return false, transient(err)
		}
		resp.Body.Close()
		return resp.StatusCode == http.StatusOK, nil
	})
	if err != nil {
		b.procs.stop(pg.proc, 5*time.Second)
		return nil, err
	}
	b.log.Debug("pregon ready", "role", role, "label", label, "pid", pg.pid(), "http", httpAddr, "pprof", pprofAddr)
	return pg, nil
}

// pregonEnv returns the environment of a pregon process: the bench's own
// without any PREGON_* variable, the bench's configuration, then set, then
// the -env flags.
func (b *bench) pregonEnv(set map[string]string) []string {
	var env []string
	for _, kv := range os.Environ() {
		if !strings.HasPrefix(kv, "PREGON_") {
			env = append(env, kv)
		}
	}
	env = append(env,
		"PREGON_REDIS_URL=redis://"+b.redisAddr+"/0",
		"PREGON_FROM=Pregón Bench <bench@pregon.example.org>",
		"PREGON_TELEGRAM_TOKEN="+telegramToken,
		"PREGON_TELEGRAM_API_URL="+b.tg.URL(),
		"PREGON_LOG_LEVEL=warn",
		"PREGON_SECRET=pregon-bench-secret-0123456789abcdef",
		"PREGON_OUTBOX_DIR="+b.outPath("outbox"),
	)
	if b.opts.concurrency > 0 {
		env = append(env, "PREGON_CONCURRENCY="+itoa(b.opts.concurrency))
	}
	for k, v := range set {
		env = append(env, k+"="+v)
	}
	for k, v := range b.dkim {
		env = append(env, k+"="+v)
	}
	return append(env, b.opts.env...)
}

// createToken runs `bin/pregon token create` and returns the admin token.
func (b *bench) createToken(ctx context.Context) (string, error) {
	cmd := exec.CommandContext(ctx, "bin/pregon", "token", "create", "--name", "bench", "--role", "admin")
	cmd.Env = b.pregonEnv(nil)
	var stderr strings.Builder
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", fmt.Errorf("pregon token create: %w: %s", err, strings.TrimSpace(stderr.String()))
	}
	tok := strings.TrimSpace(string(out))
	if tok == "" || strings.ContainsAny(tok, " \n") {
		return "", fmt.Errorf("pregon token create printed %q, want one token", tok)
	}
	return tok, nil
}

// stack is one run's processes on a flushed Redis: a fresh SMTP sink, the
// pregon processes (the first serves the API), and an API client holding a
// new admin token.
type stack struct {
	b   *bench
	sk  *sink
	pgs []*pregon
	c   *client.Client
	// token is c's admin token.
	token string
}

// startStack flushes Redis and starts a sink and a pregon process per role
// (role, label). Stop it with stop, also when it returns an error.
func (b *bench) startStack(ctx context.Context, sinkLabel string, roles [][2]string) (*stack, error) {
	st := &stack{b: b}
	if err := b.rdb.FlushAll(ctx).Err(); err != nil {
		return st, fmt.Errorf("redis FLUSHALL: %w", err)
	}
	sk, err := b.startSink(ctx, sinkLabel)
	if err != nil {
		return st, err
	}
	st.sk = sk
	for _, r := range roles {
		p, err := b.startPregon(ctx, r[0], r[1], sk)
		if err != nil {
			return st, err
		}
		st.pgs = append(st.pgs, p)
	}
	tok, err := b.createToken(ctx)
	if err != nil {
		return st, err
	}
	st.token = tok
	if st.c, err = newClient(st.pgs[0].httpAddr, tok); err != nil {
		return st, err
	}
	return st, nil
}

// stop stops the pregon processes, then the sink.
func (st *stack) stop() {
	for _, p := range st.pgs {
		st.b.procs.stop(p.proc, 30*time.Second)
	}
	if st.sk != nil {
		st.b.procs.stop(st.sk.proc, 5*time.Second)
	}
}
