package mock

import (
	"context"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// CreateDeliveries records the deliveries that do not exist yet and
// returns the ids of the queued ones it created. In a cancelled release,
// those that would be queued are created cancelled.
func (m *MemStore) CreateDeliveries(_ context.Context, rid string, ds []*dispatcher.Delivery) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.release(rid)
	if err != nil || len(ds) == 0 {
		return nil, err
	}
	now := m.clock()
	r.act = now
	var created []string
	for _, d := range ds {
		if r.deliveries[d.ID] != nil {
			continue
		}
		c := *d
		if c.Status == dispatcher.DeliveryQueued && r.rel.Status == dispatcher.ReleaseCancelled {
			c.Status = dispatcher.DeliveryCancelled
		}
		c.ReleaseID, c.Attempts, c.LastError, c.MessageIDs, c.CreatedAt, c.UpdatedAt = rid, 0, "", nil, now, now
		r.deliveries[d.ID] = &Record{Delivery: c}
		if c.Status == dispatcher.DeliveryQueued {
			created = append(created, d.ID)
		}
	}
	return created, nil
}

// DeliveryIDs returns a page of a release's delivery ids in id order.
func (m *MemStore) DeliveryIDs(_ context.Context, rid, cursor string, limit int) ([]string, string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	_, ids, next := m.deliveryPage(rid, cursor, limit)
	return ids, next, nil
}

// deliveryPage returns a release (nil when it does not exist) and a page of
// its delivery ids in id order, with the next cursor.
func (m *MemStore) deliveryPage(rid, cursor string, limit int) (*memRelease, []string, string) {
	r := m.releases[rid]
	if r == nil {
		return nil, nil, ""
	}
	ids, next := page(sortedKeys(r.deliveries), cursor, limit)
	return r, ids, next
}

// FinishAndClaimBy records outs, then claims ids for worker. An outcome is
// recorded only while its delivery is sending and, when it names a claim,
// under that claim or one of the same worker. A claim takes queued and retrying deliveries, and
// sending ones claimed before staleBefore or by another worker whose
// liveness key has gone (or that never beat) once worker's own heartbeats
// have run for half their TTL; it turns the pending deliveries of a
// cancelled release to cancelled (and a gone worker's sending ones to
// uncertain), and those to a suppressed
// address to suppressed; it returns as busy the sending deliveries it
// leaves.
func (m *MemStore) FinishAndClaimBy(_ context.Context, rid, worker string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.release(rid)
	if err != nil {
		return nil, nil, err
	}
	now := m.clock()
	for _, o := range outs {
		d := r.deliveries[o.ID]
		if d == nil || d.Status != dispatcher.DeliverySending ||
			!o.ClaimedAt.IsZero() && !ms(o.ClaimedAt).Equal(d.ClaimedAt) && (worker == "" || d.Worker != worker) {
			continue
		}
		r.act = now
		if o.Status == dispatcher.DeliveryQueued || o.Status == dispatcher.DeliveryCancelled {
			// Handed back unsent: the claim's attempt is undone.
			d.Attempts, d.RoundAttempts = max(d.Attempts-1, 0), max(d.RoundAttempts-1, 0)
		}
		d.Status, d.LastError, d.UpdatedAt, d.Due = o.Status, o.Error, now, ms(o.RetryAt)
		d.MessageIDs = strings.Fields(strings.Join(o.MessageIDs, " "))
		d.ClaimedAt, d.Worker = time.Time{}, ""
		m.finalize(r)
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	r.act = now
	var claimed []*dispatcher.Claimed
	var busy []dispatcher.Busy
	for _, id := range ids {
		d := r.deliveries[id]
		if d == nil {
			continue
		}
		pending := d.Status == dispatcher.DeliveryQueued || d.Status == dispatcher.DeliveryRetrying
		free := d.Status == dispatcher.DeliverySending &&
			(d.ClaimedAt.Before(ms(staleBefore)) || d.Worker != "" && d.Worker != worker && !m.alive(d.Worker) && m.mayJudge(worker))
		switch {
		case r.rel.Status == dispatcher.ReleaseCancelled:
			if pending {
				d.Status, d.UpdatedAt = dispatcher.DeliveryCancelled, now
			} else if free {
				d.Status, d.UpdatedAt = dispatcher.DeliveryUncertain, now
				d.LastError = "the release was cancelled while its worker, since gone, was sending it"
				d.ClaimedAt, d.Worker = time.Time{}, ""
			} else if d.Status == dispatcher.DeliverySending {
				busy = append(busy, dispatcher.Busy{ID: id, Channel: d.Channel, ClaimedAt: d.ClaimedAt, Worker: d.Worker})
			}
		case (pending || free) && d.Channel == dispatcher.ChannelEmail && m.isSuppressed(d.Recipient):
			d.Status, d.LastError, d.UpdatedAt = dispatcher.DeliverySuppressed, "", now
			d.ClaimedAt, d.Worker = time.Time{}, ""
			m.finalize(r)
		case pending || free:
			d.Attempts++
			d.RoundAttempts++
			d.Status, d.ClaimedAt, d.Worker, d.UpdatedAt = dispatcher.DeliverySending, now, worker, now
			c := copyRecord(d)
			claimed = append(claimed, &dispatcher.Claimed{Delivery: c.Delivery, RoundAttempts: c.RoundAttempts, ClaimedAt: now})
		case d.Status == dispatcher.DeliverySending:
			busy = append(busy, dispatcher.Busy{ID: id, Channel: d.Channel, ClaimedAt: d.ClaimedAt, Worker: d.Worker})
		}
	}
	return claimed, busy, nil
}

// FinishBy records outs (as FinishAndClaimBy does) and returns the
// release's status after them.
func (m *MemStore) FinishBy(ctx context.Context, rid, worker string, outs []dispatcher.Outcome) (dispatcher.ReleaseStatus, error) {
	if _, _, err := m.FinishAndClaimBy(ctx, rid, worker, outs, nil, time.Time{}); err != nil {
		return "", err
	}
	m.mu.Lock()
	defer m.mu.Unlock()
	r, err := m.release(rid)
	if err != nil {
		return "", err
	}
	return r.rel.Status, nil
}

func (m *MemStore) isSuppressed(email string) bool {
	_, ok := m.suppressed[email]
	return ok
}

// RenewClaim moves a sending delivery's claim from claimedAt to now; it
// returns ok false when the delivery is no longer under that claim.
func (m *MemStore) RenewClaim(_ context.Context, rid, id string, claimedAt time.Time) (time.Time, bool, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	now := m.clock()
	r := m.releases[rid]
	if r == nil || r.deliveries[id] == nil {
		return now, false, nil
	}
	d := r.deliveries[id]
	if d.Status != dispatcher.DeliverySending || !d.ClaimedAt.Equal(ms(claimedAt)) {
		return now, false, nil
	}
	d.ClaimedAt = now
	return now, true, nil
}

// Transition moves the given deliveries from any of from to to; moved to a
// pending status, a delivery starts a new round of attempts.
func (m *MemStore) Transition(_ context.Context, rid string, ids []string, to dispatcher.DeliveryStatus, from ...dispatcher.DeliveryStatus) ([]string, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.releases[rid]
	if r == nil {
		return nil, nil
	}
	now := m.clock()
	var moved []string
	for _, id := range ids {
		d := r.deliveries[id]
		if d == nil || !slices.Contains(from, d.Status) {
			continue
		}
		d.Status, d.UpdatedAt = to, now
		if !to.Final() {
			d.RoundAttempts, d.LastError = 0, ""
		}
		moved = append(moved, id)
	}
	return moved, nil
}

// RequeueFailed moves the failed ones of ids back to queued and, when it
// moved any, sets the release sending and active; it moves nothing unless
// the release is sending or sent.
func (m *MemStore) RequeueFailed(_ context.Context, rid string, ids []string) ([]dispatcher.Ref, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	r := m.releases[rid]
	if r == nil {
		return nil, nil
	}
	switch r.rel.Status {
	case dispatcher.ReleaseSending, dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures:
	default:
		return nil, nil
	}
	now := m.clock()
	var out []dispatcher.Ref
	for _, id := range ids {
		d := r.deliveries[id]
		if d == nil || d.Status != dispatcher.DeliveryFailed {
			continue
		}
		d.Status, d.UpdatedAt, d.RoundAttempts, d.LastError = dispatcher.DeliveryQueued, now, 0, ""
		out = append(out, dispatcher.Ref{ID: id, Channel: d.Channel})
	}
	if len(out) > 0 {
		r.rel.Status, r.rel.UpdatedAt, r.act = dispatcher.ReleaseSending, now, now
		m.active[rid] = true
	}
	return out, nil
}
