package store

import (
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// TestFinishGroupBatchesWaitingCalls: while a call is on its way, the calls
// of the same release and worker that come wait, then go together in one
// call, in the order they came, and each gets that call's result; calls of
// another release or worker do not wait for it.
func TestFinishGroupBatchesWaitingCalls(t *testing.T) {
	var g finishGroup
	release := make(chan struct{})
	var mu sync.Mutex
	var runs [][]string
	run := func(st dispatcher.ReleaseStatus, err error) func([]dispatcher.Outcome) (dispatcher.ReleaseStatus, error) {
		return func(outs []dispatcher.Outcome) (dispatcher.ReleaseStatus, error) {
			var ids []string
			for _, o := range outs {
				ids = append(ids, o.ID)
			}
			mu.Lock()
			runs = append(runs, ids)
			first := len(runs) == 1
			mu.Unlock()
			if first {
				<-release
			}
			return st, err
		}
	}
	out := func(id string) []dispatcher.Outcome { return []dispatcher.Outcome{{ID: id}} }
	started := func(want int) {
		t.Helper()
		for range 500 {
			mu.Lock()
			n := len(runs)
			mu.Unlock()
			if n >= want {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Fatalf("fewer than %d runs started", want)
	}
	waiting := func(want int) {
		t.Helper()
		for range 500 {
			g.mu.Lock()
			n := len(g.queues[finishKey{"r1", "w"}].waiting)
			g.mu.Unlock()
			if n >= want {
				return
			}
			time.Sleep(2 * time.Millisecond)
		}
		t.Fatalf("fewer than %d calls waiting", want)
	}

	type result struct {
		st  dispatcher.ReleaseStatus
		err error
	}
	first := make(chan result, 1)
	go func() {
		st, err := g.do("r1", "w", out("a"), run(dispatcher.ReleaseSending, nil))
		first <- result{st, err}
	}()
	started(1)
	later := make([]chan result, 3)
	boom := errors.New("boom")
	for i, id := range []string{"b", "c", "d"} {
		later[i] = make(chan result, 1)
		go func() {
			st, err := g.do("r1", "w", out(id), run(dispatcher.ReleaseCancelled, boom))
			later[i] <- result{st, err}
		}()
		waiting(i + 1) // in this order
	}
	// Another release and another worker go at once, while r1's call is out.
	if st, err := g.do("r2", "w", out("x"), run(dispatcher.ReleaseSent, nil)); st != dispatcher.ReleaseSent || err != nil {
		t.Fatalf("other release = %s, %v", st, err)
	}
	if st, err := g.do("r1", "w2", out("y"), run(dispatcher.ReleaseSent, nil)); st != dispatcher.ReleaseSent || err != nil {
		t.Fatalf("other worker = %s, %v", st, err)
	}
	close(release)
	if r := <-first; r.st != dispatcher.ReleaseSending || r.err != nil {
		t.Fatalf("first call = %v", r)
	}
	for i, ch := range later {
		if r := <-ch; r.st != dispatcher.ReleaseCancelled || !errors.Is(r.err, boom) {
			t.Errorf("call %d = %v; want the batch's result", i, r)
		}
	}
	want := [][]string{{"a"}, {"x"}, {"y"}, {"b", "c", "d"}}
	if !slices.EqualFunc(runs, want, slices.Equal) {
		t.Fatalf("runs = %v, want %v", runs, want)
	}
	if len(g.queues) != 0 {
		t.Errorf("queues left: %v", g.queues)
	}
}
