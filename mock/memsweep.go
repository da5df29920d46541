package mock

import (
	"context"
	"slices"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// MarkActive puts a release in the set the sweeper watches.
func (m *MemStore) MarkActive(_ context.Context, rid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.active[rid] = true
	return nil
}

// UnmarkActive takes a release out of the set the sweeper watches.
func (m *MemStore) UnmarkActive(_ context.Context, rid string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.active, rid)
	return nil
}

// ActiveReleases returns the ids of the releases marked active, in order.
func (m *MemStore) ActiveReleases(context.Context) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	return sortedKeys(m.active), nil
}

// Activity returns what the sweeper needs to know of a release; Last is
// the later of when its deliveries last changed and when it did.
func (m *MemStore) Activity(_ context.Context, rid string) (dispatcher.Activity, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.releases[rid]
	if r == nil {
		return dispatcher.Activity{}, nil
	}
	a := dispatcher.Activity{Status: r.rel.Status, Last: r.act, Snapshot: r.snap, Pending: r.pending(), Early: r.early, Asked: r.asked}
	if r.rel.Status == dispatcher.ReleaseScheduled {
		a.Snapshot = r.earlySnap
	}
	if r.rel.UpdatedAt.After(a.Last) {
		a.Last = r.rel.UpdatedAt
	}
	return a, nil
}

// Stalled returns a page of a release's deliveries that rule takes as
// stalled (see dispatcher.StallRule).
func (m *MemStore) Stalled(_ context.Context, rid, cursor string, limit int, rule dispatcher.StallRule) ([]dispatcher.Ref, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, ids, next := m.deliveryPage(rid, cursor, limit)
	var out []dispatcher.Ref
	for _, id := range ids {
		d := r.deliveries[id]
		take := false
		switch d.Status {
		case dispatcher.DeliveryQueued:
			take = rule.Queued
		case dispatcher.DeliverySending:
			take = d.ClaimedAt.Before(rule.ClaimedBefore) || d.Worker != "" && slices.Contains(rule.DeadWorkers, d.Worker)
		case dispatcher.DeliveryRetrying:
			if d.Due.IsZero() {
				take = d.UpdatedAt.Before(rule.RetryChangedBefore)
			} else {
				take = d.Due.Before(rule.RetryDueBefore)
			}
		}
		if take {
			out = append(out, dispatcher.Ref{ID: id, Channel: d.Channel})
		}
	}
	return out, next, nil
}

// TryLock takes a named lock for ttl unless it is held.
func (m *MemStore) TryLock(_ context.Context, name string, ttl time.Duration) (bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.now()
	if now.Before(m.locks[name]) {
		return false, nil
	}
	m.locks[name] = now.Add(ttl)
	return true, nil
}

// Heartbeat sets worker's liveness key for ttl and registers the worker.
func (m *MemStore) Heartbeat(_ context.Context, worker string, ttl time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if !m.alive(worker) {
		m.since[worker] = m.now() // an unbroken run of heartbeats begins
	}
	m.live[worker] = m.now().Add(ttl)
	m.ttl[worker] = ttl
	m.workers[worker] = true
	return nil
}

// Leave removes a worker's liveness key and registration.
func (m *MemStore) Leave(_ context.Context, worker string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.live, worker)
	delete(m.workers, worker)
	return nil
}

// Kill removes a worker's liveness key and leaves it registered, as when
// the key expires because the worker died.
func (m *MemStore) Kill(worker string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	delete(m.live, worker)
}

// DeadWorkers returns the registered workers other than self whose
// liveness key has gone, in order, and since when self's heartbeats have
// run unbroken (zero when its key has gone too).
func (m *MemStore) DeadWorkers(_ context.Context, self string) ([]string, time.Time, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var dead []string
	for _, w := range sortedKeys(m.workers) {
		if w != self && !m.alive(w) {
			dead = append(dead, w)
		}
	}
	var since time.Time
	if m.alive(self) {
		since = m.since[self]
	}
	return dead, since, nil
}

// ForgetWorkers unregisters workers.
func (m *MemStore) ForgetWorkers(_ context.Context, workers []string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, w := range workers {
		delete(m.workers, w)
	}
	return nil
}

// alive reports whether worker's liveness key is there.
// mayJudge reports whether worker may take others for dead: its own
// heartbeats have run unbroken for half their TTL (any worker may when it
// names none).
func (m *MemStore) mayJudge(worker string) bool {
	return worker == "" || m.alive(worker) && m.now().Sub(m.since[worker]) >= m.ttl[worker]/2
}

func (m *MemStore) alive(worker string) bool {
	exp, ok := m.live[worker]
	return ok && m.now().Before(exp)
}
