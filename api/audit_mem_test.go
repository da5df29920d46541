package api

import (
	"context"
	"slices"
	"sync"

	"github.com/pregon/pregon/audit"
)

// memAudit is an in-memory AuditLog for the harness: it chains entries as
// the store does, and fails every append while err is set. Its pages are
// not paged (the Redis tests cover paging).
type memAudit struct {
	mu      sync.Mutex
	entries []*audit.Entry
	err     error
}

var _ AuditLog = (*memAudit)(nil)

func (m *memAudit) AppendAudit(ctx context.Context, e *audit.Entry) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if m.err != nil {
		return m.err
	}
	var head audit.Head
	if n := len(m.entries); n > 0 {
		head = audit.HeadOf(m.entries[n-1])
	}
	if err := audit.Next(head, e); err != nil {
		return err
	}
	c := *e
	m.entries = append(m.entries, &c)
	return nil
}

func (m *memAudit) AuditEntries(ctx context.Context, q audit.Query) (*audit.Page, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	p := &audit.Page{Entries: []*audit.Entry{}}
	for _, e := range m.entries {
		if (q.Release == "" || e.Release() == q.Release) && !e.At.Before(q.Since) {
			c := *e
			p.Entries = append(p.Entries, &c)
		}
	}
	if !q.Oldest {
		slices.Reverse(p.Entries)
	}
	if n := len(m.entries); n > 0 {
		p.Head = audit.HeadOf(m.entries[n-1])
	}
	return p, nil
}

// actions returns the actions recorded, oldest first.
func (m *memAudit) actions() []audit.Action {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := make([]audit.Action, len(m.entries))
	for i, e := range m.entries {
		out[i] = e.Action
	}
	return out
}
