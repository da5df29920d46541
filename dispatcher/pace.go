package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TelegramPacer takes turns to send Telegram messages within the bot's
// limits, ahead of time, for every process on one Redis
// (ratelimit.Telegram implements it).
type TelegramPacer interface {
	// Reserve takes the next turn to send one message to chatID, unless
	// the chat's last turn is too recent. It returns the time of the turn
	// taken (taken), or after which a turn may be asked for again (!taken),
	// on the Service's clock (Config.Now). It fails when the turns cannot
	// be read (Redis is away).
	Reserve(ctx context.Context, chatID string) (at time.Time, taken bool, err error)
}

// turnForgoer is a TelegramPacer that can take back a turn that was not
// used (ratelimit.Telegram is one).
type turnForgoer interface {
	Forgo(ctx context.Context, chatID string, at time.Time) error
}

// turnUser is a TelegramPacer told when a turn's message was answered
// (ratelimit.Telegram is one): the chat's next turn is measured from then,
// so that a message that took long to reach Telegram is not followed in the
// same chat less than a chat gap after it reached it.
type turnUser interface {
	Used(ctx context.Context, chatID string, at, done time.Time) error
}

// lateTurn is how late a part may go after its turn. A part whose turn
// came while its process was held up longer (a loaded machine, a pause)
// takes a new turn instead, at most maxRebooks times: sent late, it would
// reach Telegram bunched with the parts after it, and break the limits
// that the pacer's headroom keeps (20 ms a second at 30 messages a second).
const (
	lateTurn   = 8 * time.Millisecond
	maxRebooks = 3
)

// maxMoves bounds how many times one run of a paced post follows its chat
// to a supergroup (a chat migrates once; this stops a loop).
const maxMoves = 2

// errHandBack stops a paced post whose process is stopping (see Drain).
var errHandBack = errors.New("handed back: the worker is stopping")

// paced reports whether claimed delivery c of rel is a Telegram post whose
// parts go one by one at the pacer's turns.
func (s *Service) paced(rel *Release, c *Claimed) bool {
	return c.Channel == ChannelTelegram && rel.CorrectionOf == nil &&
		s.cfg.TelegramPacer != nil && s.cfg.Telegram != nil && s.cfg.Renderer != nil
}

// pacedPost is a Telegram post on its way, one part at a time, each at the
// turn the pacer gave it. While it waits for a turn it holds no worker of
// the queue: it is a goroutine with a timer, and the delivery stays
// claimed by this process (its claim renewed) until its outcome is
// recorded.
type pacedPost struct {
	s     *Service
	ctx   context.Context // the task's, without its cancel: the post outlives the task
	rid   string
	c     *Claimed
	post  *TelegramPost // the parts not yet posted when it started
	total int           // parts in the whole post
	ids   []string      // of the parts posted, before and during this run
	stop  func() time.Time
}

// startPost prepares claimed delivery c's post and sets it going at the
// pacer's turns; its outcome is recorded when it ends, without the caller.
// It returns ok false, and c's outcome (and the delay of a retry), when it
// did not set the post going: c's channel is not active, the post cannot be
// rendered, or every part is posted already.
func (s *Service) startPost(ctx context.Context, rel *Release, c *Claimed) (out Outcome, delay time.Duration, ok bool) {
	stop := s.keepClaim(ctx, rel.ID, c)
	post, total, err := s.telegramRest(ctx, rel, c)
	if err != nil || post == nil {
		out, delay = s.outcome(ctx, rel.ID, c,
			Outcome{ID: c.ID, Status: DeliverySent, MessageIDs: c.MessageIDs, ClaimedAt: stop(), Parts: total}, err)
		return out, delay, false
	}
	post.Paced = true
	p := &pacedPost{s: s, ctx: context.WithoutCancel(ctx), rid: rel.ID, c: c, post: post, total: total,
		ids: append([]string(nil), c.MessageIDs...), stop: stop}
	s.inflight.Add(1)
	go p.run()
	return Outcome{}, 0, true
}

// run sends the post's parts, each at its turn, and records the outcome.
func (p *pacedPost) run() {
	defer p.s.inflight.Done()
	defer p.s.waiting.release() // the place Deliver took for it (waiting.go)
	var err error
	moves := 0
	reqs := p.post.Requests() // a part, or files (tgmedia.go)
	for i := 0; i < len(reqs); i++ {
		size := reqs[i]
		n := p.post.FirstPart + i // the part's index in the whole post
		part, done, rerr := p.request(i)
		if err = rerr; err != nil {
			break
		}
		var at time.Time
		if at, err = p.turns(n, size); err != nil {
			done()
			break
		}
		var ids []string
		ids, err = p.s.cfg.Telegram.SendTelegram(p.ctx, part)
		done()
		p.usedTurns(part.ChatID, at, size) // tgmedia.go
		if to := p.s.migrated(p.ctx, part.ChatID, err); to != "" && moves < maxMoves {
			// A group upgraded to a supergroup (migrate.go): this request and
			// the ones after it go there, at the supergroup's turns.
			p.post.ChatID, p.post.ReplyTo = to, ""
			moves++
			i--
			continue
		}
		p.ids = append(p.ids, qualifyMessageIDs(p.c.Recipient, part.ChatID, ids)...) // msgid.go
		if err != nil {
			break
		}
	}
	p.finish(err)
}

// used tells the pacer that the turn at in chat was used by a message
// answered now (see turnUser).
func (p *pacedPost) used(chat string, at time.Time) {
	u, ok := p.s.cfg.TelegramPacer.(turnUser)
	if !ok {
		return
	}
	if err := u.Used(p.ctx, chat, at, p.s.cfg.Now()); err != nil {
		p.s.log.Warn("cannot record when a telegram turn was used; the chat's next turn may come early",
			"release_id", p.rid, "delivery_id", p.c.ID, "error", err)
	}
}

// turn takes a turn for part n (from 0), waits for it and returns it. It
// returns errHandBack when the process stops meanwhile.
func (p *pacedPost) turn(n int) (time.Time, error) {
	rebooks := 0
	for {
		at, taken, err := p.s.cfg.TelegramPacer.Reserve(p.ctx, p.post.ChatID)
		if err != nil {
			return time.Time{}, Transient(fmt.Errorf("take a turn to send part %d of %d to %s: %w", n+1, p.total, p.post.ChatID, err), 0)
		}
		if wait := at.Sub(p.s.cfg.Now()); wait > 0 {
			t := time.NewTimer(wait)
			select {
			case <-t.C:
			case <-p.s.stopping:
				t.Stop()
				return time.Time{}, errHandBack
			}
		} else {
			select {
			case <-p.s.stopping:
				return time.Time{}, errHandBack
			default:
			}
		}
		if !taken {
			continue
		}
		f, ok := p.s.cfg.TelegramPacer.(turnForgoer)
		if late := p.s.cfg.Now().Sub(at); !ok || late <= lateTurn || rebooks == maxRebooks {
			return at, nil
		}
		if err := f.Forgo(p.ctx, p.post.ChatID, at); err != nil {
			return at, nil // the turn is still ours: better late than held
		}
		rebooks++
		p.s.log.Debug("telegram turn missed, taking another", "release_id", p.rid, "delivery_id", p.c.ID,
			"part", n+1, "late", p.s.cfg.Now().Sub(at))
	}
}

// finish records the post's outcome, as err makes it (nil: every part
// posted), and does what follows (see Service.recorded).
func (p *pacedPost) finish(err error) {
	s := p.s
	out := Outcome{ID: p.c.ID, Status: DeliverySent, MessageIDs: p.ids, ClaimedAt: p.stop(), Parts: p.total}
	var delay time.Duration
	if errors.Is(err, errHandBack) {
		// Stopped between two parts: the rest goes out from another worker,
		// or this one once restarted, and what went is recorded.
		out.Status, out.Error = DeliveryRetrying, err.Error()
		s.log.Info("delivery handed back", "release_id", p.rid, "delivery_id", p.c.ID, "channel", p.c.Channel,
			"parts_posted", len(p.ids), "parts", p.total)
	} else {
		out, delay = s.outcome(p.ctx, p.rid, p.c, out, err)
	}
	out = s.retryAt(out, delay)
	outs := []Outcome{out}
	if _, _, err := s.finishAndClaim(p.ctx, p.rid, outs, nil); err != nil {
		s.log.Error("cannot record a paced post", "release_id", p.rid, "delivery_id", p.c.ID, "error", err)
		return
	}
	s.held.remove(p.rid, outs)
	if err := s.recorded(p.ctx, p.rid, p.c, out); err != nil {
		s.log.Error("cannot enqueue the retry of a paced post; the sweeper will find it",
			"release_id", p.rid, "delivery_id", p.c.ID, "error", err)
	}
	if out.Status != DeliveryRetrying {
		s.notifyIfFinal(p.ctx, p.rid)
	}
}

// without returns cs without c, in a new slice.
func without(cs []*Claimed, c *Claimed) []*Claimed {
	out := make([]*Claimed, 0, len(cs))
	for _, x := range cs {
		if x != c {
			out = append(out, x)
		}
	}
	return out
}
