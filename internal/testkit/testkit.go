// Package testkit holds the helpers that Pregón's tests share: free ports,
// a synchronised log buffer, a settable clock, checking a wanted error,
// waiting for a condition with a deadline, and JSON requests to a running API.
package testkit

import (
	"bytes"
	"fmt"
	"net"
	"strconv"
	"strings"
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
// func() time.Time is injected (dispatcher.Config.Now, mock.NewMemStore,
// store.New). It is safe for concurrent use.
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

// Add moves the clock by d (back when d is negative) and returns the new
// time.
func (c *Clock) Add(d time.Duration) time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// Set sets the clock to t.
func (c *Clock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

// WantErr checks err against want, a text the error must contain, or ""
// when no error is wanted: it fails the test when an error is wanted and
// err is nil or lacks want, and when none is wanted and err is not nil. It
// reports whether an error was wanted, so that a table test stops there.
func WantErr(tb testing.TB, err error, want string) bool {
	tb.Helper()
	if want == "" {
		if err != nil {
			tb.Fatalf("err = %v, want none", err)
		}
		return false
	}
	if err == nil || !strings.Contains(err.Error(), want) {
		tb.Fatalf("err = %v, want one containing %q", err, want)
	}
	return true
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

// fatalTB records a Fatalf instead of ending the test.
type fatalTB struct {
	testing.TB
	msg string
}

func (f *fatalTB) Helper() {}

func (f *fatalTB) Fatalf(format string, args ...any) {
	f.msg = fmt.Sprintf(format, args...)
	panic(f) // stops fn, as runtime.Goexit stops a test
}

// Failure runs fn with a testing.TB whose Fatalf stops fn without failing
// the test, and returns the Fatalf message ("" when fn did not call it), so
// that a test helper's failures can be checked.
func Failure(t *testing.T, fn func(tb testing.TB)) (msg string) {
	t.Helper()
	f := &fatalTB{TB: t}
	defer func() {
		if r := recover(); r != nil && r != any(f) {
			panic(r)
		}
		msg = f.msg
	}()
	fn(f)
	return ""
}
