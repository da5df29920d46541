package api

import (
	"context"
	"fmt"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// EditRelease follows the store's rules: only a draft or scheduled release
// at version e.Base changes (only a draft with e.DraftOnly), and with e.RequireApproval a scheduled one goes
// back to draft. (The fake has no early copies.)
func (m *memStore) EditRelease(ctx context.Context, e *dispatcher.Edit) (*dispatcher.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.release(e.Release.ID)
	if r == nil {
		return nil, dispatcher.ErrNotFound
	}
	ce := &dispatcher.ConflictError{ID: r.ID, Status: r.Status, Version: r.Version}
	switch {
	case r.Status != dispatcher.ReleaseDraft && r.Status != dispatcher.ReleaseScheduled:
		ce.Reason = dispatcher.ConflictStatus
		return nil, ce
	case r.Version != e.Base:
		ce.Reason = dispatcher.ConflictVersion
		return nil, ce
	case e.DraftOnly && r.Status != dispatcher.ReleaseDraft:
		ce.Reason = dispatcher.ConflictIncomplete
		return nil, ce
	}
	next := *e.Release
	next.ID, next.Status, next.Author, next.CreatedAt, next.ScheduledAt = r.ID, r.Status, r.Author, r.CreatedAt, r.ScheduledAt
	next.ApprovedBy, next.ApprovedVersion = r.ApprovedBy, r.ApprovedVersion
	next.Version, next.UpdatedAt = r.Version+1, m.now()
	if next.Status == dispatcher.ReleaseScheduled && e.RequireApproval {
		next.Status, next.ScheduledAt = dispatcher.ReleaseDraft, nil
	}
	*r = next
	m.writes++
	c := *r
	return &c, nil
}

// ApproveRelease follows the store's rules.
func (m *memStore) ApproveRelease(ctx context.Context, id string, version int, approver string) (*dispatcher.Release, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.release(id)
	if r == nil {
		return nil, dispatcher.ErrNotFound
	}
	ce := &dispatcher.ConflictError{ID: r.ID, Status: r.Status, Version: r.Version, Author: r.Author}
	switch {
	case r.Author == approver:
		ce.Reason = dispatcher.ConflictOwnRelease
		return nil, ce
	case r.Status != dispatcher.ReleaseDraft && r.Status != dispatcher.ReleaseScheduled:
		ce.Reason = dispatcher.ConflictStatus
		return nil, ce
	case r.Version != version:
		ce.Reason = dispatcher.ConflictVersion
		return nil, ce
	}
	r.ApprovedBy, r.ApprovedVersion, r.UpdatedAt = approver, version, m.now()
	m.writes++
	c := *r
	return &c, nil
}

// Reschedule records the call and returns the release.
func (f *fakeSender) Reschedule(ctx context.Context, id string) (*dispatcher.Release, error) {
	f.mu.Lock()
	f.sends = append(f.sends, sendCall{ID: "reschedule:" + id})
	f.mu.Unlock()
	return f.store.Release(ctx, id)
}

// approvalSender is a fakeSender that, as the dispatcher does with
// Config.RequireApproval, refuses to send a draft whose current version is
// not approved.
type approvalSender struct{ *fakeSender }

func (a approvalSender) SendVersion(ctx context.Context, id string, at *time.Time, version int) (*dispatcher.Release, error) {
	r, err := a.store.Release(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Status == dispatcher.ReleaseDraft && r.ApprovedVersion != r.Version {
		return nil, fmt.Errorf("send: %w", &dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictUnapproved,
			Status: r.Status, Version: r.Version, Author: r.Author})
	}
	return a.fakeSender.SendVersion(ctx, id, at, version)
}
