package main

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"os"
	"os/exec"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// proc is a child process running in its own process group, so that stopping
// it also stops anything it started.
type proc struct {
	name string
	cmd  *exec.Cmd
	log  *os.File
	done chan struct{} // closed when the process has exited
	err  error         // Wait's result, once done is closed
}

// procs keeps every child that is running, so that all of them can be
// stopped on the way out, whatever the way.
type procs struct {
	log *slog.Logger
	mu  sync.Mutex
	set map[*proc]struct{}
}

func newProcs(log *slog.Logger) *procs { return &procs{log: log, set: map[*proc]struct{}{}} }

// procSpec says how to start a child.
type procSpec struct {
	name    string
	path    string
	args    []string
	env     []string // nil: the bench's own environment
	logPath string   // stdout and stderr go here
	// stdout, when set, receives stdout as well as the log file.
	stdout io.Writer
}

// start starts a child described by sp. It returns an error when the log
// file cannot be created or the program cannot start.
func (ps *procs) start(sp procSpec) (*proc, error) {
	f, err := os.Create(sp.logPath)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", sp.name, err)
	}
	cmd := exec.Command(sp.path, sp.args...)
	cmd.Env = sp.env
	cmd.Stderr = f
	cmd.Stdout = f
	if sp.stdout != nil {
		cmd.Stdout = io.MultiWriter(f, sp.stdout)
	}
	// Its own process group, killed with the bench if the bench dies first.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true, Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		f.Close()
		return nil, fmt.Errorf("start %s: %w", sp.name, err)
	}
	p := &proc{name: sp.name, cmd: cmd, log: f, done: make(chan struct{})}
	ps.mu.Lock()
	ps.set[p] = struct{}{}
	ps.mu.Unlock()
	go func() {
		p.err = cmd.Wait()
		f.Close()
		close(p.done)
	}()
	ps.log.Debug("started", "proc", sp.name, "pid", cmd.Process.Pid)
	return p, nil
}

// pid returns the child's process id.
func (p *proc) pid() int { return p.cmd.Process.Pid }

// exited reports whether the child has exited, and how.
func (p *proc) exited() (bool, error) {
	select {
	case <-p.done:
		if p.err == nil {
			return true, errors.New("exited with status 0 (as it does on SIGTERM or SIGINT: did something else signal it?)")
		}
		return true, fmt.Errorf("exited: %w", p.err)
	default:
		return false, nil
	}
}

// stop sends SIGTERM to the child's process group and, when it has not exited
// after grace, SIGKILL. It returns once the child has exited.
func (ps *procs) stop(p *proc, grace time.Duration) {
	ps.mu.Lock()
	delete(ps.set, p)
	ps.mu.Unlock()
	if done, _ := p.exited(); done {
		return
	}
	_ = syscall.Kill(-p.pid(), syscall.SIGTERM)
	select {
	case <-p.done:
		return
	case <-time.After(grace):
	}
	ps.log.Warn("did not stop after SIGTERM: killing it", "proc", p.name, "grace", grace)
	_ = syscall.Kill(-p.pid(), syscall.SIGKILL)
	<-p.done
}

// stopAll stops every child still running, the last started first.
func (ps *procs) stopAll(grace time.Duration) {
	ps.mu.Lock()
	all := make([]*proc, 0, len(ps.set))
	for p := range ps.set {
		all = append(all, p)
	}
	ps.mu.Unlock()
	var wg sync.WaitGroup
	for _, p := range all {
		wg.Go(func() { ps.stop(p, grace) })
	}
	wg.Wait()
}

// freeAddr returns a loopback address with a port that was free a moment ago.
func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("find a free port: %w", err)
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// lineWatcher is a writer that calls fn with each complete line written to it.
type lineWatcher struct {
	buf bytes.Buffer
	fn  func(line string)
}

func (w *lineWatcher) Write(p []byte) (int, error) {
	w.buf.Write(p)
	for {
		i := bytes.IndexByte(w.buf.Bytes(), '\n')
		if i < 0 {
			return len(p), nil
		}
		line := string(w.buf.Next(i + 1))
		w.fn(line[:len(line)-1])
	}
}

// transientError is a check's error that waitFor tolerates: it keeps
// waiting, and reports the last one if it gives up.
type transientError struct{ err error }

func (e transientError) Error() string { return e.err.Error() }
func (e transientError) Unwrap() error { return e.err }

// transient marks err as one that waitFor should wait past.
func transient(err error) error { return transientError{err} }

// waitFor calls check every interval until it returns true, ctx ends, or
// timeout passes. An error from check ends the wait at once, unless it is
// transient. what names the wait in its error.
func waitFor(ctx context.Context, what string, timeout, interval time.Duration, check func(context.Context) (bool, error)) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	t := time.NewTicker(interval)
	defer t.Stop()
	var last error
	for {
		ok, err := check(wctx)
		if ok {
			return nil
		}
		var te transientError
		switch {
		case errors.As(err, &te):
			if wctx.Err() == nil {
				last = te.err
			}
		case err != nil && wctx.Err() == nil:
			return fmt.Errorf("%s: %w", what, err)
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return fmt.Errorf("%s: %w", what, ctx.Err())
			}
			if last != nil {
				return fmt.Errorf("%s: gave up after %s: %w", what, timeout, last)
			}
			return fmt.Errorf("%s: gave up after %s", what, timeout)
		case <-t.C:
		}
	}
}

// itoa is strconv.Itoa, shorter.
func itoa(n int) string { return strconv.Itoa(n) }
