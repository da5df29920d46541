package dispatcher

import (
	"context"
	"fmt"
	"time"
)

// pageSize is how many list members are read, and deliveries created, per
// Redis round trip while planning a release.
const pageSize = 1000

// dueSlack is how long before its due time a dispatch may be handed over
// and wait for it, rather than enqueue itself again: asynq schedules to the
// second, so a dispatch due at 10:00:00.700 may start at 10:00:00.
const dueSlack = 5 * time.Second

// Dispatch plans a release into deliveries and enqueues them: it resolves the
// audiences, gives each distinct address one delivery, records suppressed
// addresses as such, and enqueues the rest in batches as it goes, so that the
// first emails leave while later recipients are still being planned.
//
// A release under embargo goes in two tiers when it has early lists: at
// its send time only the members of its early lists are planned (their
// emails carry the embargo line, see embargoed), the release stays
// scheduled, and its dispatch is enqueued again for the lift; at the lift
// it moves to sending and every audience is planned, an address that
// already has its early delivery keeping it. Without early lists it is
// dispatched whole at the lift.
//
// A dispatch that runs before the release is due (its embargo was moved
// later, or asynq ran it a little early) enqueues itself for the due time,
// or waits for it when it is a few seconds away, and does nothing else;
// one for a cancelled or finished release does nothing.
//
// It is safe to run again after a crash: deliveries already planned are kept
// (their ids are deterministic), and a re-run enqueues every pending one
// again; delivery tasks skip what is no longer pending.
func (s *Service) Dispatch(ctx context.Context, id string) error {
	for waited := false; ; waited = true {
		wait, err := s.dispatch(ctx, id, !waited)
		if err != nil || wait <= 0 {
			return err
		}
		t := time.NewTimer(wait)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		}
	}
}

// dispatch is one go of Dispatch. When the release is due within dueSlack
// and mayWait, it returns how long to wait before trying again.
func (s *Service) dispatch(ctx context.Context, id string, mayWait bool) (time.Duration, error) {
	rel, err := s.cfg.Store.Release(ctx, id)
	if err != nil {
		return 0, err
	}
	log := s.log.With("release_id", id)
	rerun := false
	switch rel.Status {
	case ReleaseScheduled:
		if rel.CorrectionOf == nil && rel.Audiences.None() {
			// Neither a send nor an edit lets this happen (Send, Edit's
			// DraftOnly); were it to, it would go to no one and still be
			// published: it goes back to draft to be completed instead.
			st, err := s.cfg.Store.SetReleaseStatus(ctx, id, ReleaseDraft, ReleaseScheduled)
			log.Error("dispatch of a release with no audience: back to draft", "status", st, "error", err)
			return 0, err
		}
		a, err := s.cfg.Store.Activity(ctx, id)
		if err != nil {
			return 0, err
		}
		now := s.cfg.Now()
		due := dueTime(rel, a.Asked, a.Early, now)
		// Its early tier may be out but not all planned (a crash, or the
		// sweeper found it stalled): then it is planned again before the
		// lift, whatever the due time.
		replan := a.Early && !a.Snapshot
		switch {
		case now.Before(due) && !replan:
			if wait := due.Sub(now); mayWait && wait <= dueSlack {
				return wait, nil
			}
			// Not due yet: its embargo was moved later. The dispatch for
			// the new time may be enqueued already; then this adds nothing.
			log.Info("dispatch before its time: enqueued again", "due", due)
			return 0, s.cfg.Queue.EnqueueDispatch(ctx, id, due)
		case rel.EmbargoUntil != nil && now.Before(*rel.EmbargoUntil):
			// Before the embargo only the early tier is ever due (see
			// dueTime); at or after it, everything is, early lists too.
			return 0, s.dispatchEarly(ctx, rel, a)
		}
		st, err := s.cfg.Store.SetReleaseStatus(ctx, id, ReleaseSending, ReleaseScheduled)
		if err != nil {
			return 0, err
		}
		if st != ReleaseSending {
			log.Info("dispatch skipped", "status", st)
			return 0, nil
		}
	case ReleaseSending:
		rerun = true
	default:
		log.Info("dispatch skipped", "status", rel.Status)
		return 0, nil
	}
	if err := s.cfg.Store.MarkActive(ctx, id); err != nil {
		return 0, err
	}
	if done, err := s.cfg.Store.SnapshotComplete(ctx, id); err != nil {
		return 0, err
	} else if done {
		return 0, s.resume(ctx, id)
	}
	log.Info("dispatch started", "rerun", rerun)
	p := &planner{s: s, rel: rel}
	if rel.CorrectionOf != nil {
		return 0, p.correction(ctx, rerun) // correct_plan.go
	}
	if err := p.lists(ctx, rel.Audiences.EarlyLists, rel.Audiences.Lists); err != nil {
		return 0, err
	}
	for _, cid := range rel.Audiences.TelegramChannels {
		if err := p.channel(ctx, cid); err != nil {
			return 0, err
		}
	}
	if rel.Audiences.TelegramFollowers { // followers.go
		if err := p.followers(ctx); err != nil {
			return 0, err
		}
	}
	if err := p.flush(ctx); err != nil {
		return 0, err
	}
	if rerun {
		// A planned delivery may not have been enqueued before the crash.
		if err := s.resume(ctx, id); err != nil {
			return 0, err
		}
	}
	st, err := s.cfg.Store.SnapshotDone(ctx, id)
	if err != nil {
		return 0, err
	}
	log.Info("dispatch planned", "deliveries", p.created, "suppressed", p.suppressed, "status", st)
	if st == ReleaseSent || st == ReleaseSentWithFailures { // nothing to send: it ended at once
		s.notifyIfFinal(ctx, id)
	}
	return 0, nil
}

// dispatchEarly plans the early tier of a scheduled release under embargo:
// the members of its early lists, and no one else. It first marks the tier
// out and moves the release's due time to the lift, in one step that does
// nothing to a release cancelled meanwhile, and enqueues the dispatch at
// the lift (a scheduled task, so it outlives restarts) before planning, so
// that a crash while planning cannot lose it.
func (s *Service) dispatchEarly(ctx context.Context, rel *Release, a Activity) error {
	log := s.log.With("release_id", rel.ID)
	lift := *rel.EmbargoUntil
	st, err := s.cfg.Store.SetSchedule(ctx, rel.ID, lift, true)
	if err != nil {
		return err
	}
	if st != ReleaseScheduled {
		log.Info("early dispatch skipped", "status", st)
		return nil
	}
	if err := s.cfg.Store.MarkActive(ctx, rel.ID); err != nil {
		return err
	}
	if err := s.cfg.Queue.EnqueueDispatch(ctx, rel.ID, lift); err != nil {
		return err
	}
	if a.Snapshot {
		return s.resume(ctx, rel.ID)
	}
	log.Info("early dispatch started", "lift", lift, "rerun", a.Early)
	p := &planner{s: s, rel: rel}
	if err := p.lists(ctx, rel.Audiences.EarlyLists); err != nil {
		return err
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	if a.Early {
		if err := s.resume(ctx, rel.ID); err != nil {
			return err
		}
	}
	if err := s.cfg.Store.EarlyPlanned(ctx, rel.ID); err != nil {
		return err
	}
	log.Info("early dispatch planned", "deliveries", p.created, "suppressed", p.suppressed, "lift", lift)
	return nil
}

// dueTime returns when the dispatch of rel is due, from the time Send was
// asked to send it at (zero: none) and whether its early tier is out:
//
//   - without an embargo: at the time asked, or now;
//   - once its early tier is out: at the embargo, the lift;
//   - at the time asked, when there is one; but never before the embargo
//     for a release without early lists (for one with early lists, a time
//     before the embargo is when its early tier goes);
//   - otherwise, now for a release with early lists whose embargo is still
//     ahead (its early tier goes at once), and the embargo for the others.
func dueTime(rel *Release, asked time.Time, early bool, now time.Time) time.Time {
	emb := rel.EmbargoUntil
	hasEarly := len(rel.Audiences.EarlyLists) > 0
	switch {
	case emb == nil:
		if !asked.IsZero() {
			return asked
		}
		return now
	case early:
		return *emb
	case !asked.IsZero():
		if !hasEarly && asked.Before(*emb) {
			return *emb
		}
		return asked
	case hasEarly && now.Before(*emb):
		return now
	default:
		return *emb
	}
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

// lists plans each list of the groups once, in order.
func (p *planner) lists(ctx context.Context, groups ...[]string) error {
	seen := map[string]bool{}
	for _, lists := range groups {
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
	return nil
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
	st, reason := DeliveryQueued, ""
	if c.Status != "" && c.Status != ChannelActive {
		st, reason = DeliverySkipped, unavailableReason(c)
	}
	d := &Delivery{
		ID: DeliveryID(p.rel.ID, ChannelTelegram, c.ChatID), Channel: ChannelTelegram, Recipient: c.ChatID,
		Name: c.Title, Language: p.rel.Text(c.Language).Language, Status: st, LastError: reason,
	}
	return p.telegram(ctx, []*Delivery{d})
}

// telegram records Telegram deliveries ds (a channel's, or followers') and
// enqueues each one that was new as a task of its own: a post is paced and
// retried on its own.
func (p *planner) telegram(ctx context.Context, ds []*Delivery) error {
	ids, err := p.s.cfg.Store.CreateDeliveries(ctx, p.rel.ID, ds)
	if err != nil {
		return err
	}
	p.created += len(ids)
	if len(ids) == 0 {
		return nil
	}
	bs := make([]Batch, len(ids))
	for i, id := range ids {
		bs[i] = Batch{ReleaseID: p.rel.ID, Channel: ChannelTelegram, IDs: []string{id}}
	}
	return p.s.cfg.Queue.EnqueueBatches(ctx, bs, 0)
}
