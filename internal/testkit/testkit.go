// Package testkit holds the helpers that Pregón's tests share: free ports,
// a synchronised log buffer, a settable clock, waiting for a condition with
// a deadline, and JSON requests to a running API.
package testkit

import (
	"bytes"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"
)

// FreeAddr returns a loopback address (127.0.0.1:port) whose port was free
// a moment ago. It fails the test when it cannot listen.
func FreeAddr(tb testing.TB) string {
	tb.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	defer l.Close()
	return l.Addr().String()
}

// FreePort returns a loopback port that was free a moment ago.
func FreePort(tb testing.TB) int {
	tb.Helper()
	_, port, _ := net.SplitHostPort(FreeAddr(tb))
	n, err := strconv.Atoi(port)
	if err != nil {
		tb.Fatalf("free port: %v", err)
	}
	return n
}

// Buffer is a bytes.Buffer that many goroutines may write to (a logger's
// output, a process's stderr) while a test reads it. The zero value is
// ready to use.
//
// It is the one place for the api tests' syncBuffer and cmd/pregon's
// lockedWriter.
type Buffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

// Write appends p.
func (b *Buffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.Write(p)
}

// String returns what was written so far.
func (b *Buffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.b.String()
}

// Clock is a clock a test sets and moves; its Now may be passed wherever a
// func() time.Time is injected. It is safe for concurrent use.
type Clock struct {
	mu sync.Mutex
	t  time.Time
}

// NewClock returns a clock that reads t until it is moved.
func NewClock(t time.Time) *Clock { return &Clock{t: t} }

// Now returns the clock's time.
func (c *Clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock by d (back when d is negative).
func (c *Clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// WaitFor calls cond every interval until it reports true, and fails the
// test when timeout passes first, with what it waited for and cond's last
// description of the state.
func WaitFor(tb testing.TB, what string, timeout, interval time.Duration, cond func() (bool, string)) {
	tb.Helper()
	deadline := time.Now().Add(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	for {
		ok, state := cond()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			tb.Fatalf("waited %s for %s; last: %s", timeout, what, state)
		}
		<-tick.C
	}
}
