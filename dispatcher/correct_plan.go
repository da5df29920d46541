package dispatcher

import (
	"context"
	"fmt"
)

// correction plans a correction (p.rel) into deliveries: one for each
// delivery of the release it corrects that was sent, to the same
// recipient through the same channel in the same language, and none for
// the others (failed, suppressed, skipped, uncertain, cancelled, or still
// pending). An email recipient suppressed since (unsubscribed, bounced) is
// recorded suppressed and not mailed. Then it finishes the plan as Dispatch
// does.
func (p *planner) correction(ctx context.Context, rerun bool) error {
	s, rel := p.s, p.rel
	cs, err := s.correctionStore()
	if err != nil {
		return err
	}
	of := rel.CorrectionOf.ReleaseID
	sent := func(cursor string) ([]*Delivery, string, error) {
		ds, next, err := cs.Deliveries(ctx, of, DeliveryFilter{Status: DeliverySent}, cursor, pageSize)
		if err != nil {
			return nil, "", fmt.Errorf("plan correction of %s: %w", of, err)
		}
		return ds, next, nil
	}
	err = eachPage(sent, func(ds []*Delivery) error {
		var emails []string
		for _, d := range ds {
			if d.Channel == ChannelEmail {
				emails = append(emails, d.Recipient)
			}
		}
		sup, err := s.cfg.Store.Suppressed(ctx, emails)
		if err != nil {
			return err
		}
		var out []*Delivery
		var telegram []string
		for _, d := range ds {
			st := DeliveryQueued
			if d.Channel == ChannelEmail {
				if sup[0] {
					st = DeliverySuppressed
					p.suppressed++
				}
				sup = sup[1:]
			} else {
				telegram = append(telegram, DeliveryID(rel.ID, d.Channel, d.Recipient))
			}
			out = append(out, &Delivery{ID: DeliveryID(rel.ID, d.Channel, d.Recipient), Channel: d.Channel,
				Recipient: d.Recipient, Name: d.Name, Language: d.Language, Status: st})
		}
		ids, err := s.cfg.Store.CreateDeliveries(ctx, rel.ID, out)
		if err != nil {
			return err
		}
		p.created += len(ids)
		created := map[string]bool{}
		for _, id := range ids {
			created[id] = true
		}
		var tg []string
		for _, id := range telegram {
			if created[id] {
				tg = append(tg, id)
				delete(created, id)
			}
		}
		for _, id := range ids {
			if created[id] {
				p.pending = append(p.pending, id)
			}
		}
		if len(tg) > 0 {
			if err := s.cfg.Queue.EnqueueBatches(ctx, []Batch{{ReleaseID: rel.ID, Channel: ChannelTelegram, IDs: tg}}, 0); err != nil {
				return err
			}
		}
		for len(p.pending) >= s.cfg.BatchSize {
			if err := p.enqueue(ctx, s.cfg.BatchSize); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	if err := p.flush(ctx); err != nil {
		return err
	}
	if rerun {
		// A planned delivery may not have been enqueued before the crash.
		if err := s.resume(ctx, rel.ID); err != nil {
			return err
		}
	}
	st, err := s.cfg.Store.SnapshotDone(ctx, rel.ID)
	if err != nil {
		return err
	}
	s.log.Info("dispatch planned", "release_id", rel.ID, "correction_of", of, "deliveries", p.created, "suppressed", p.suppressed, "status", st)
	return nil
}
