// Package mock holds fakes of the interfaces the dispatcher declares, so
// that its logic is tested without Redis, SMTP or Telegram.
//
// Each fake is a struct of function fields, one per method (Store has
// ReleaseFn for Release, and so on): a method records its call and then
// calls its field, which the test sets; a method whose field is nil panics
// with its name. NewStore fills a Store's fields from any dispatcher.Store,
// such as the in-memory one NewMemStore returns, so that a test overrides
// only what it wants to break and still sees every call. The settable
// clock for Config.Now and MemStore is internal/testkit's Clock.
package mock

import (
	"fmt"
	"reflect"
	"slices"
	"sync"
)

// Call is one recorded call: the method's name and its arguments, without
// the context.
type Call struct {
	Method string
	Args   []any
}

// Recorder keeps the calls made to a fake, safe for concurrent use. Every
// fake embeds one.
type Recorder struct {
	mu    sync.Mutex
	calls []Call
}

// Calls returns the calls recorded so far, in order; with names, only the
// calls to those methods.
func (r *Recorder) Calls(names ...string) []Call {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Call
	for _, c := range r.calls {
		if len(names) == 0 || slices.Contains(names, c.Method) {
			out = append(out, c)
		}
	}
	return out
}

// Count returns how many times the named method was called.
func (r *Recorder) Count(name string) int { return len(r.Calls(name)) }

// Reset forgets the calls recorded so far.
func (r *Recorder) Reset() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls = nil
}

// call records a call to method and returns fn, the field that serves it;
// it panics when fn is nil, naming the field to set.
func call[F any](r *Recorder, fn F, method string, args ...any) F {
	r.mu.Lock()
	r.calls = append(r.calls, Call{Method: method, Args: args})
	r.mu.Unlock()
	if v := reflect.ValueOf(fn); !v.IsValid() || v.IsNil() {
		panic(fmt.Sprintf("mock: %s called, but %sFn is not set", method, method))
	}
	return fn
}
