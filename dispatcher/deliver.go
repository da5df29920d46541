package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Deliver sends one batch of deliveries, one at a time. It claims
// deliveries before sending them (so that a task run twice, or two tasks
// holding the same delivery, never send it twice), a few email ones at a
// time (Config.ClaimAhead), sends each through its channel, and records
// its outcome before the next send (so that a crash leaves at most the
// delivery in flight unrecorded), together with the next claims when it
// holds none ahead, in one round trip. A
// delivery that fails transiently is retried on its own, after the
// provider's retry-after or an exponential backoff; one that fails
// permanently, or runs out of attempts, fails. Deliveries that another worker
// holds are checked again once their claim could have gone stale.
//
// It returns an error only when the batch could not be handled at all (e.g.
// Redis is unreachable); the task is then retried, and deliveries already
// recorded are not sent again.
func (s *Service) Deliver(ctx context.Context, b Batch) error {
	s.inflight.Add(1)
	defer s.inflight.Done()
	if b.NotBefore > 0 {
		if wait := time.UnixMilli(b.NotBefore).Sub(s.cfg.Now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-ctx.Done():
				t.Stop()
				return ctx.Err()
			}
		}
	}
	rel, err := s.cfg.Store.Release(ctx, b.ReleaseID)
	if err != nil {
		return err
	}
	// Record with a context that outlives a shutdown's cancel: a message
	// that has gone must not lose its record.
	rec := context.WithoutCancel(ctx)
	var busy []Ref
	var outs []Outcome
	claims := map[string]*Claimed{} // of the deliveries in outs
	var holding []*Claimed          // claimed and not yet recorded nor paced
	var ahead []aheadClaim          // claimed ahead, not yet sent
	ended := false                  // an outcome recorded may have ended the release
	defer func() {
		// Whatever this call claimed and did not record (it returns early) is
		// no longer held by this process: a stale claim may be taken.
		for _, a := range ahead {
			a.stop()
		}
		for _, c := range holding {
			s.held.remove(b.ReleaseID, []Outcome{{ID: c.ID}})
		}
	}()
	var later []Ref // put off: as many posts as MaxWaiting are on their way (waiting.go)
	paced := s.pacedBatch(rel, b)
	k := 1 // deliveries claimed in one call
	if b.Channel == ChannelEmail {
		k = s.cfg.ClaimAhead
	}
	// send sends the first delivery claimed ahead; its outcome is recorded
	// by the next round trip.
	send := func() {
		a := ahead[0]
		ahead = ahead[1:]
		out, delay := s.deliverClaimed(ctx, rel, a.c, a.stop)
		outs = append(outs, s.retryAt(out, delay))
		claims[a.c.ID] = a.c
	}
	for i := 0; ; {
		var next []string
		placed := false // a waiting place is taken for next
		for len(ahead) == 0 && len(next) < k && i < len(b.IDs) && ctx.Err() == nil {
			id := b.IDs[i]
			i++
			if s.held.has(b.ReleaseID, id) {
				continue
			}
			if paced && !s.waiting.take() {
				for _, id := range b.IDs[i-1:] {
					later = append(later, Ref{ID: id, Channel: b.Channel})
				}
				i = len(b.IDs) // record what is done, claim no more
				break
			}
			next, placed = append(next, id), paced
		}
		if len(outs) == 0 && len(next) == 0 && len(ahead) == 0 {
			if i >= len(b.IDs) || ctx.Err() != nil {
				break
			}
			continue
		}
		if len(ahead) > 0 {
			// The outcome of the delivery just sent is recorded before the
			// next goes, alone; the release's status comes back with it.
			st, err := s.finish(ctx, b.ReleaseID, outs)
			s.held.remove(b.ReleaseID, outs)
			if err != nil {
				return err
			}
			for _, o := range outs {
				holding = without(holding, claims[o.ID])
				ended = ended || o.Status != DeliveryRetrying
				if err := s.recorded(rec, b.ReleaseID, claims[o.ID], o); err != nil {
					return err
				}
			}
			outs = outs[:0]
			clear(claims)
			if st == ReleaseCancelled || ctx.Err() != nil {
				if err := s.handBack(ctx, b.ReleaseID, ahead, st == ReleaseCancelled); err != nil {
					return err
				}
				ahead, holding = nil, nil
				continue
			}
			send()
			continue
		}
		claimed, held, err := s.finishAndClaim(ctx, b.ReleaseID, outs, next)
		s.held.remove(b.ReleaseID, outs)
		if err != nil {
			if placed {
				s.waiting.release()
			}
			return err
		}
		s.held.add(b.ReleaseID, claimed)
		holding = claimed
		// A retry is enqueued as soon as it is recorded, so that a worker
		// that dies later in the batch does not take it along.
		for _, o := range outs {
			ended = ended || o.Status != DeliveryRetrying
			if err := s.recorded(rec, b.ReleaseID, claims[o.ID], o); err != nil {
				return err
			}
		}
		outs = outs[:0]
		clear(claims)
		for _, h := range held {
			busy = append(busy, Ref{ID: h.ID, Channel: h.Channel})
		}
		for _, c := range claimed {
			if s.paced(rel, c) {
				// Its parts go at their turns, and its outcome is recorded
				// then, without this task (pace.go).
				if out, delay, ok := s.startPost(ctx, rel, c); !ok {
					outs = append(outs, s.retryAt(out, delay))
					claims[c.ID] = c
					continue
				}
				holding = without(holding, c)
				placed = false // the post's until it ends (pacedPost.run)
				continue
			}
			// Each claim is renewed from now until its outcome, sent or
			// handed back.
			ahead = append(ahead, aheadClaim{c: c, stop: s.keepClaim(ctx, b.ReleaseID, c)})
		}
		if len(ahead) > 0 {
			send()
		}
		if placed {
			s.waiting.release()
		}
	}
	if len(later) > 0 {
		s.deferred(len(later))
		if err := s.enqueueRefs(rec, b.ReleaseID, later, s.deferDelay()); err != nil {
			return err
		}
	}
	// Held by live workers: check again once their claims could have gone
	// stale (a worker that dies before is found by the sweeper).
	if err := s.enqueueRefs(rec, b.ReleaseID, busy, s.cfg.ClaimTimeout+time.Second); err != nil {
		return err
	}
	if ended {
		s.notifyIfFinal(rec, b.ReleaseID)
	}
	if err := ctx.Err(); err != nil {
		// Stopped part way (shutdown): the task is retried, and the
		// deliveries not yet claimed go out then.
		return err
	}
	return nil
}

// recordBackoff is the first wait before trying again to record outcomes
// while Redis is unreachable; the waits double, up to 15s.
const recordBackoff = 250 * time.Millisecond

// finishAndClaim records outs and claims next. While there are outcomes to
// record it retries through a Redis outage for as long as it lasts, even
// after ctx ends: a message that has gone must not be left "sending", or it
// is sent again. (Its claim stays this worker's as long as the worker lives:
// other workers take it only once this worker's liveness key has gone, or
// once the claim timeout has passed without a renewal.)
func (s *Service) finishAndClaim(ctx context.Context, rid string, outs []Outcome, next []string) ([]*Claimed, []Busy, error) {
	rec := context.WithoutCancel(ctx)
	claimed, held, err := s.cfg.Store.FinishAndClaimBy(rec, rid, s.cfg.WorkerID, outs, next, s.cfg.Now().Add(-s.cfg.ClaimTimeout))
	if err == nil || len(outs) == 0 {
		return claimed, held, err
	}
	wait := recordBackoff
	for try := 2; ; try++ {
		s.log.Warn("cannot record outcomes; trying again", "release_id", rid, "error", err, "attempt", try)
		time.Sleep(wait)
		wait = min(wait*2, 15*time.Second)
		if _, _, err = s.cfg.Store.FinishAndClaimBy(rec, rid, s.cfg.WorkerID, outs, nil, time.Time{}); err == nil {
			break
		}
	}
	// Recorded; now the claim, unless the task is stopping.
	if len(next) == 0 || ctx.Err() != nil {
		return nil, nil, ctx.Err()
	}
	return s.cfg.Store.FinishAndClaimBy(ctx, rid, s.cfg.WorkerID, nil, next, s.cfg.Now().Add(-s.cfg.ClaimTimeout))
}

// aheadClaim is a delivery claimed ahead of its send, with its claim
// renewed until stop.
type aheadClaim struct {
	c    *Claimed
	stop func() time.Time
}

// finish records outs, retrying through a Redis outage as finishAndClaim
// does, and returns the release's status after them.
func (s *Service) finish(ctx context.Context, rid string, outs []Outcome) (ReleaseStatus, error) {
	rec := context.WithoutCancel(ctx)
	wait := recordBackoff
	for try := 1; ; try++ {
		st, err := s.cfg.Store.FinishBy(rec, rid, s.cfg.WorkerID, outs)
		if err == nil || len(outs) == 0 {
			return st, err
		}
		s.log.Warn("cannot record outcomes; trying again", "release_id", rid, "error", err, "attempt", try+1)
		time.Sleep(wait)
		wait = min(wait*2, 15*time.Second)
	}
}

// handBack lets go of deliveries claimed ahead and not sent: back to
// queued, for the task's next run (a shutdown), or cancelled (the release
// was); either way the attempt their claim counted is undone.
func (s *Service) handBack(ctx context.Context, rid string, ahead []aheadClaim, cancelled bool) error {
	st := DeliveryQueued
	if cancelled {
		st = DeliveryCancelled
	}
	outs := make([]Outcome, len(ahead))
	for i, a := range ahead {
		outs[i] = Outcome{ID: a.c.ID, Status: st, ClaimedAt: a.stop()}
	}
	_, err := s.finish(ctx, rid, outs)
	s.held.remove(rid, outs)
	if err == nil && !cancelled {
		s.log.Info("deliveries handed back unsent", "release_id", rid, "deliveries", len(outs))
	}
	return err
}

// retryAt sets the time of a retry on out.
func (s *Service) retryAt(out Outcome, delay time.Duration) Outcome {
	if out.Status == DeliveryRetrying {
		out.RetryAt = s.cfg.Now().Add(delay)
	}
	return out
}

// recorded does what follows the record of o, the outcome of claimed
// delivery c: it is counted, a failure is notified, and a retry enqueued.
func (s *Service) recorded(ctx context.Context, rid string, c *Claimed, o Outcome) error {
	s.observer().DeliveryRecorded(c.Channel, o.Status)
	if o.Status == DeliveryFailed {
		s.notifyFailed(ctx, rid, c, o)
	}
	if o.Status == DeliveryRetrying {
		refs := []Ref{{ID: o.ID, Channel: c.Channel}}
		if err := s.enqueueRefs(ctx, rid, refs, max(o.RetryAt.Sub(s.cfg.Now()), 0)); err != nil {
			return err
		}
	}
	return nil
}

// deliverClaimed sends one claimed delivery and returns its outcome, and
// for a retry, the delay before it. The claim's renewals are running (see
// keepClaim): stop ends them and returns the claim's time.
func (s *Service) deliverClaimed(ctx context.Context, rel *Release, c *Claimed, stop func() time.Time) (Outcome, time.Duration) {
	var ids []string
	var err error
	parts := 0 // of a Telegram post
	switch c.Channel {
	case ChannelEmail:
		var id string
		id, err = s.sendEmail(ctx, rel, c)
		if err == nil {
			ids = []string{id}
		}
	case ChannelTelegram:
		ids, parts, err = s.sendTelegram(ctx, rel, c)
	default:
		err = Permanent(fmt.Errorf("unknown channel %q", c.Channel))
	}
	return s.outcome(ctx, rel.ID, c, Outcome{ID: c.ID, Status: DeliverySent, MessageIDs: ids, ClaimedAt: stop(), Parts: parts}, err)
}

// outcome returns out, the outcome of claimed delivery c when it was sent,
// as err makes it (nil: sent), and for a retry, the delay before it.
func (s *Service) outcome(ctx context.Context, rid string, c *Claimed, out Outcome, err error) (Outcome, time.Duration) {
	log := s.log.With("release_id", rid, "delivery_id", c.ID, "channel", c.Channel, "attempt", c.Attempts)
	if err == nil {
		log.Debug("delivered")
		return out, 0
	}
	out.Error = err.Error()
	var skip *skipError
	switch {
	case errors.As(err, &skip):
		out.Status = DeliverySkipped
	case IsUncertain(err):
		// Checked first: a send cut after its data went out (even by a
		// shutdown) may have been delivered, and is not repeated.
		out.Status = DeliveryUncertain
	case IsPermanent(err):
		out.Status = DeliveryFailed
		if b, ok := BounceOf(err); ok {
			out.Bounce = &Bounce{Kind: b.Kind, Source: b.Source}
		}
		if c.Channel == ChannelTelegram {
			s.channelGone(context.WithoutCancel(ctx), c.Recipient, err) // health.go
		}
	case errors.Is(err, context.Canceled) && ctx.Err() != nil:
		// Stopped before the message went out (shutdown): hand the
		// delivery back untried.
		out.Status = DeliveryRetrying
		log.Info("delivery handed back", "error", err)
		return out, 0
	case c.RoundAttempts >= s.cfg.MaxAttempts:
		out.Status = DeliveryFailed
		out.Error = fmt.Sprintf("gave up after %d attempts: %s", c.RoundAttempts, err)
	default:
		out.Status = DeliveryRetrying
		delay, ok := RetryAfter(err)
		if !ok {
			delay = s.cfg.Backoff(s.cfg.RetryBase, c.RoundAttempts)
		}
		log.Warn("delivery will be retried", "error", err, "delay", delay)
		s.observer().DeliveryRetrying(c.Channel, err)
		return out, delay
	}
	log.Log(ctx, levelFor(out.Status), "delivery "+string(out.Status), "error", out.Error)
	return out, 0
}

// keepClaim renews c's claim while it is being sent, every third of the
// claim timeout, so that a slow send is not taken for a dead worker's and
// sent again. It returns a func that stops the renewals and returns the
// claim's time, which the outcome must match to be recorded. A send quicker
// than a third of the claim timeout costs one timer and no Redis call.
func (s *Service) keepClaim(ctx context.Context, rid string, c *Claimed) (stop func() time.Time) {
	var mu sync.Mutex
	stopped := false
	claimedAt := c.ClaimedAt
	every := s.cfg.ClaimTimeout / 3
	var t *time.Timer
	mu.Lock() // the first run waits until t is set
	defer mu.Unlock()
	t = time.AfterFunc(every, func() {
		mu.Lock()
		defer mu.Unlock()
		if stopped {
			return
		}
		at, ok, err := s.cfg.Store.RenewClaim(context.WithoutCancel(ctx), rid, c.ID, claimedAt)
		switch {
		case err != nil:
			s.log.Warn("cannot renew claim", "release_id", rid, "delivery_id", c.ID, "error", err)
		case !ok:
			return
		default:
			claimedAt = at
		}
		t.Reset(every)
	})
	return func() time.Time {
		t.Stop()
		mu.Lock()
		defer mu.Unlock()
		stopped = true
		return claimedAt
	}
}

// Drain hands back the Telegram posts waiting for their next part's turn
// (their parts posted are recorded, and the rest goes out later), then
// waits until the Deliver calls and posts running have returned, or timeout
// passes, and reports whether they all returned. Call it after the queue
// server's shutdown, so that outcomes are recorded before the process exits.
func (s *Service) Drain(timeout time.Duration) bool {
	s.stopOnce.Do(func() { close(s.stopping) })
	done := make(chan struct{})
	go func() { s.inflight.Wait(); close(done) }()
	select {
	case <-done:
		return true
	case <-time.After(timeout):
		return false
	}
}

func levelFor(s DeliveryStatus) slog.Level {
	if s == DeliveryFailed || s == DeliveryUncertain {
		return slog.LevelWarn
	}
	return slog.LevelInfo
}

func (s *Service) sendEmail(ctx context.Context, rel *Release, c *Claimed) (string, error) {
	if s.cfg.Email == nil || s.cfg.Renderer == nil {
		return "", Permanent(errors.New("no email channel configured"))
	}
	content, err := s.content.email(rel, c.Language, s.embargoed(rel), s.cfg.Renderer)
	if err != nil {
		return "", Permanent(fmt.Errorf("render email: %w", err))
	}
	if content, err = s.attachments(ctx, rel, c.Language, s.embargoed(rel), content); err != nil { // attach.go
		return "", err
	}
	msg := s.emailMessage(rel, content, c.ID, Address{Name: c.Name, Email: c.Recipient})
	return s.cfg.Email.SendEmail(ctx, msg)
}

// emailMessage returns the email of rel to one recipient, with its content
// rendered, as every delivery (and every test send, see RunTest) builds it:
// the Reply-To of the press contact, a Message-ID made of id, and the
// recipient's own one-click unsubscribe link.
func (s *Service) emailMessage(rel *Release, content *EmailContent, id string, to Address) *EmailMessage {
	msg := &EmailMessage{
		DeliveryID: id,
		To:         to,
		MessageID:  id + "." + rel.ID + "@" + s.cfg.MessageIDDomain,
		Content:    content,
	}
	if rel.Contact != nil && rel.Contact.Email != "" {
		msg.ReplyTo = &Address{Name: rel.Contact.Name, Email: rel.Contact.Email}
	}
	if s.cfg.Links != nil {
		u := s.cfg.Links.UnsubscribeURL(to.Email, rel.ID)
		msg.UnsubscribeURL = u
		msg.Headers = map[string]string{
			"List-Unsubscribe":      "<" + u + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		}
	}
	return msg
}

// embargoed reports whether an email of rel, read for the batch being
// sent, goes under the embargo line: only while rel is still scheduled,
// and before its embargo by this worker's clock.
//
// This cannot give the embargoed copy to a public audience: a release is
// scheduled only until the dispatch at the lift moves it to sending, and
// that dispatch is the only one that plans the public lists and the
// Telegram channels, after the move; so every delivery sent while the
// release reads scheduled is an early list's. (Telegram posts never carry
// the line, whatever this says.) And it cannot give the embargoed copy
// after the lift: an early delivery sent once the release is sending, or
// once the embargo time has passed, goes plain.
func (s *Service) embargoed(rel *Release) bool {
	return rel.Status == ReleaseScheduled && rel.EmbargoUntil != nil && s.cfg.Now().Before(*rel.EmbargoUntil)
}

// sendTelegram posts the parts of rel's post that c has not posted yet, and
// returns the ids of all its parts posted, and how many parts it has (0:
// not known).
func (s *Service) sendTelegram(ctx context.Context, rel *Release, c *Claimed) ([]string, int, error) {
	if s.cfg.Telegram == nil || s.cfg.Renderer == nil {
		return nil, 0, Permanent(errors.New("no telegram channel configured"))
	}
	if rel.CorrectionOf != nil {
		parts, err := s.content.telegram(rel, c.Language, s.cfg.Renderer)
		if err != nil {
			return nil, 0, Permanent(fmt.Errorf("render telegram: %w", err))
		}
		ids, err := s.correctTelegram(ctx, rel, c, parts) // correct_deliver.go
		return ids, 0, err
	}
	post, total, err := s.telegramRest(ctx, rel, c)
	if err != nil || post == nil {
		return c.MessageIDs, total, err
	}
	sent := c.MessageIDs
	done, err := s.telegramFiles(ctx, rel.ID, s.cfg.WorkerID+"/"+c.ID, post) // tgmedia.go
	if err != nil {
		return sent, total, err
	}
	ids, err := s.cfg.Telegram.SendTelegram(ctx, post)
	done()
	ids, err = s.followMigration(ctx, post, c.Recipient, ids, err) // migrate.go; qualifies ids
	return append(append([]string(nil), sent...), ids...), total, err
}

// telegramRest returns the post of the parts of rel's post to c's chat that
// c has not posted yet (nil when there are none left), and how many parts
// the whole post has (0: not known). The rest goes to the chat of the last
// part posted: the supergroup that c's group became part way, if it did
// (msgid.go).
func (s *Service) telegramRest(ctx context.Context, rel *Release, c *Claimed) (*TelegramPost, int, error) {
	sent := c.MessageIDs
	chat := lastChat(c.Recipient, sent)
	ch, err := s.checkChannel(ctx, chat) // health.go
	if err != nil {
		return nil, 0, err
	}
	post, err := s.telegramPost(ctx, rel, c, ch) // tgmode.go
	if err != nil {
		return nil, 0, Permanent(fmt.Errorf("render telegram: %w", err))
	}
	post.ChatID = chat
	total := post.Messages() // one a part, one a file (tgpost.go)
	if len(sent) >= total {
		return nil, total, nil
	}
	post = post.Rest(len(sent))
	// The rest of a post interrupted: a thread under its first message in
	// the chat (none when no message is there yet).
	post.ReplyTo = firstIn(c.Recipient, chat, sent)
	return post, total, nil
}
