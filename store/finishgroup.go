package store

import (
	"context"
	"sync"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// Group commit of outcomes (issue 12). A worker sending email records each
// outcome before its next send (FinishBy), and a process runs many such
// sends at once (PREGON_CONCURRENCY), most of them for the same release.
// While one FinishBy call of a release and worker is on its way to Redis,
// the calls that come meanwhile wait, and then go together as one script
// call: each caller still returns only once its own outcomes are recorded,
// and gets the release's status read after them, but Redis runs the
// scripts' head, the count updates, the release's activity and status once
// per call instead of once per outcome, and both sides make one round trip
// for all of them. Under load (the calls arriving faster than Redis
// answers) that is a few outcomes per call; alone, a call goes at once.

// finishGroup batches FinishBy calls by release and worker.
type finishGroup struct {
	mu     sync.Mutex
	queues map[finishKey]*finishQueue
}

type finishKey struct{ rid, worker string }

// finishQueue holds the calls of one release and worker waiting for the
// call in flight (busy) to return.
type finishQueue struct {
	busy    bool
	waiting []*finishCall
}

// finishCall is one FinishBy call: its outcomes, and once done is closed,
// its result. lead tells a waiting call, when done is closed, that it is
// to send the calls waiting then (itself first) instead.
type finishCall struct {
	outs []dispatcher.Outcome
	done chan struct{}
	lead bool
	st   dispatcher.ReleaseStatus
	err  error
}

// do records outs through run, together with the outcomes of the other
// calls of the same release and worker that wait meanwhile, and returns the
// release's status after them. run is called with the outcomes of one or
// more calls, in the order they came.
func (g *finishGroup) do(rid, worker string, outs []dispatcher.Outcome,
	run func([]dispatcher.Outcome) (dispatcher.ReleaseStatus, error)) (dispatcher.ReleaseStatus, error) {
	key := finishKey{rid, worker}
	c := &finishCall{outs: outs, done: make(chan struct{})}
	g.mu.Lock()
	if g.queues == nil {
		g.queues = map[finishKey]*finishQueue{}
	}
	q := g.queues[key]
	if q == nil {
		q = &finishQueue{}
		g.queues[key] = q
	}
	q.waiting = append(q.waiting, c)
	if q.busy {
		g.mu.Unlock()
		<-c.done
		if !c.lead {
			return c.st, c.err
		}
		g.mu.Lock()
	}
	// This call leads: it sends every call waiting now, its own among them.
	q.busy = true
	batch := q.waiting
	q.waiting = nil
	g.mu.Unlock()

	var all []dispatcher.Outcome
	if len(batch) == 1 {
		all = batch[0].outs
	} else {
		for _, b := range batch {
			all = append(all, b.outs...)
		}
	}
	st, err := run(all)

	g.mu.Lock()
	if len(q.waiting) > 0 {
		// The calls that came meanwhile go next, led by the first of them.
		q.waiting[0].lead = true
		close(q.waiting[0].done)
	} else {
		q.busy = false
		delete(g.queues, key)
	}
	g.mu.Unlock()
	for _, b := range batch {
		if b != c {
			b.st, b.err = st, err
			close(b.done)
		}
	}
	return st, err
}

// finishOutcomes is FinishBy's work for one or more calls' outcomes.
func (s *Store) finishOutcomes(ctx context.Context, rid, worker string, outs []dispatcher.Outcome) (dispatcher.ReleaseStatus, error) {
	_, _, st, err := s.finishAndClaim(ctx, rid, worker, outs, nil, time.Time{})
	return st, err
}
