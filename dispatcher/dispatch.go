package dispatcher

import (
	"context"
	"fmt"
)

// pageSize is how many list members are read, and deliveries created, per
// Redis round trip while planning a release.
const pageSize = 1000

// Dispatch plans a release into deliveries and enqueues them: it resolves the
// audiences, gives each distinct address one delivery, records suppressed
// addresses as such, and enqueues the rest in batches as it goes, so that the
// first emails leave while later recipients are still being planned.
//
// It is safe to run again after a crash: deliveries already planned are kept
// (their ids are deterministic), and a re-run enqueues every pending one
// again; delivery tasks skip what is no longer pending.
func (s *Service) Dispatch(ctx context.Context, id string) error {
	rel, err := s.cfg.Store.Release(ctx, id)
	if err != nil {
		return err
	}
	log := s.log.With("release_id", id)
	rerun := false
	switch rel.Status {
	case ReleaseScheduled:
		st, err := s.cfg.Store.SetReleaseStatus(ctx, id, ReleaseSending, ReleaseScheduled)
		if err != nil {
			return err
		}
		if st != ReleaseSending {
			log.Info("dispatch skipped", "status", st)
			return nil
		}
	case ReleaseSending:
		rerun = true
	default:
		log.Info("dispatch skipped", "status", rel.Status)
		return nil
	}
	if err := s.cfg.Store.MarkActive(ctx, id); err != nil {
		return err
	}
	if done, err := s.cfg.Store.SnapshotComplete(ctx, id); err != nil {
		return err
	} else if done {
		return s.resume(ctx, id)
	}
	log.Info("dispatch started", "rerun", rerun)
	p := &planner{s: s, rel: rel}
	if rel.CorrectionOf != nil {
		return p.correction(ctx, rerun) // correct_plan.go
	}
	seen := map[string]bool{}
	for _, lists := range [][]string{rel.Audiences.EarlyLists, rel.Audiences.Lists} {
		for _, lid := range lists {
			if seen[lid] {
				continue
			}
			seen[lid] = true
			if err := p.list(ctx, lid); err != nil {
				return err
			}
		}
	}
	for _, cid := range rel.Audiences.TelegramChannels {
		if err := p.channel(ctx, cid); err != nil {
			return err
		}
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	if rerun {
		// A planned delivery may not have been enqueued before the crash.
		if err := s.resume(ctx, id); err != nil {
			return err
		}
	}
	st, err := s.cfg.Store.SnapshotDone(ctx, id)
	if err != nil {
		return err
	}
	log.Info("dispatch planned", "deliveries", p.created, "suppressed", p.suppressed, "status", st)
	return nil
}

// resume enqueues again the deliveries of a release that a crash may have
// left without a task: queued ones, stale claims, and retries already due.
func (s *Service) resume(ctx context.Context, id string) error {
	now := s.cfg.Now()
	rule := StallRule{Queued: true, ClaimedBefore: now.Add(-s.cfg.ClaimTimeout), RetryDueBefore: now, RetryChangedBefore: now.Add(-retryStaleAfter)}
	return s.eachStalled(ctx, id, rule, func(refs []Ref) error { return s.enqueueRefs(ctx, id, refs, 0) })
}

type planner struct {
	s          *Service
	rel        *Release
	pending    []string // created email deliveries not yet enqueued
	created    int
	suppressed int
}

func (p *planner) list(ctx context.Context, listID string) error {
	members := func(cursor string) ([]Member, string, error) {
		ms, next, err := p.s.cfg.Store.Members(ctx, listID, cursor, pageSize)
		if err != nil {
			return nil, "", fmt.Errorf("plan list %s: %w", listID, err)
		}
		return ms, next, nil
	}
	return eachPage(members, func(ms []Member) error {
		emails := make([]string, len(ms))
		for i, m := range ms {
			emails[i] = m.Email
		}
		sup, err := p.s.cfg.Store.Suppressed(ctx, emails)
		if err != nil {
			return err
		}
		ds := make([]*Delivery, len(ms))
		for i, m := range ms {
			st := DeliveryQueued
			if sup[i] {
				st = DeliverySuppressed
				p.suppressed++
			}
			ds[i] = &Delivery{
				ID: DeliveryID(p.rel.ID, ChannelEmail, m.Email), Channel: ChannelEmail,
				Recipient: m.Email, Name: m.Name, Language: p.rel.Text(m.Language).Language, Status: st,
			}
		}
		ids, err := p.s.cfg.Store.CreateDeliveries(ctx, p.rel.ID, ds)
		if err != nil {
			return err
		}
		p.created += len(ids)
		p.pending = append(p.pending, ids...)
		for len(p.pending) >= p.s.cfg.BatchSize {
			if err := p.enqueue(ctx, p.s.cfg.BatchSize); err != nil {
				return err
			}
		}
		return nil
	})
}

func (p *planner) enqueue(ctx context.Context, n int) error {
	b := Batch{ReleaseID: p.rel.ID, Channel: ChannelEmail, IDs: append([]string(nil), p.pending[:n]...)}
	if err := p.s.cfg.Queue.EnqueueBatches(ctx, []Batch{b}, 0); err != nil {
		return err
	}
	p.pending = p.pending[n:]
	return nil
}

func (p *planner) flush(ctx context.Context) error {
	if len(p.pending) == 0 {
		return nil
	}
	return p.enqueue(ctx, len(p.pending))
}

func (p *planner) channel(ctx context.Context, channelID string) error {
	c, err := p.s.cfg.Store.Channel(ctx, channelID)
	if err != nil {
		return fmt.Errorf("plan telegram channel %s: %w", channelID, err)
	}
	st := DeliveryQueued
	if c.Status != "" && c.Status != "active" {
		st = DeliverySkipped
	}
	d := &Delivery{
		ID: DeliveryID(p.rel.ID, ChannelTelegram, c.ChatID), Channel: ChannelTelegram, Recipient: c.ChatID,
		Name: c.Title, Language: p.rel.Text(c.Language).Language, Status: st,
	}
	ids, err := p.s.cfg.Store.CreateDeliveries(ctx, p.rel.ID, []*Delivery{d})
	if err != nil {
		return err
	}
	p.created += len(ids)
	if len(ids) == 0 {
		return nil
	}
	return p.s.cfg.Queue.EnqueueBatches(ctx, []Batch{{ReleaseID: p.rel.ID, Channel: ChannelTelegram, IDs: ids}}, 0)
}
