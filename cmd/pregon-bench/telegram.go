package main

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/internal/telegramtest"
)

// telegramToken is the bot token of the fake Telegram Bot API.
const telegramToken = "123456:bench-token"

// Telegram's limits, which the fake Bot API enforces in the bench: 30
// messages a second per bot, one a second and 20 a minute per chat.
const (
	telegramRate        = 30
	telegramChatGap     = time.Second
	telegramChatPerMins = 20
)

// tgScenario is one Telegram run: a post of some parts to some channels.
type tgScenario struct {
	name     string // "single", "multi": the chats' prefix
	channels int
	parts    int // the parts each post should have (measured: see tgResult.parts)
}

// tgResult is what the Telegram run measured.
type tgResult struct {
	scenario      tgScenario
	parts         int // parts per post, as the fake received them (the most to one chat)
	channels      int
	releases      int
	perRelease    int // channels per release
	first, last   time.Duration
	accepted      int64
	requests      int64
	violations    int64
	broken        map[telegramtest.Limit]int64
	doneAfter     time.Duration
	status        map[string]int // releases by status
	sent, failed  int64
	other         []string
	failure       string
	pending       []string
	log           logSummary
	chunkedReason string
}

// theoretical is the shortest time Telegram's limits allow for the posts:
// the messages at 30 a second in all, and a post's parts one a second in
// its chat (20 a minute per chat is no limit for up to 20 parts), whichever
// is longer.
func (r *tgResult) theoretical() time.Duration {
	parts := max(r.parts, 1)
	global := time.Duration(float64(r.channels*parts) / telegramRate * float64(time.Second))
	perChat := time.Duration(parts-1) * telegramChatGap
	if parts > telegramChatPerMins {
		perChat = max(perChat, time.Duration((parts-1)/telegramChatPerMins)*time.Minute)
	}
	return max(global, perChat)
}

// multiPartBody is a statement long enough for about three Telegram
// messages (4096 characters each): the demo statement, twice.
func multiPartBody() (string, error) {
	es, err := readStatement("examples/demo-release.md")
	if err != nil {
		return "", err
	}
	return es.body + "\n\n" + es.body, nil
}

// runTelegram registers sc.channels channels, in the fake and in Pregón,
// sends them one post each (one short message, or a long statement in
// parts), and measures how long it takes.
func (b *bench) runTelegram(ctx context.Context, sc tgScenario) (*tgResult, error) {
	res := &tgResult{scenario: sc, channels: sc.channels, status: map[string]int{}}
	log := b.log.With("run", "telegram", "scenario", sc.name, "channels", res.channels)
	body := "Las comunidades de la laguna convocan a una asamblea abierta el domingo a las 10:00 en la explanada del mercado. «Todas y todos están invitados»."
	if sc.parts > 1 {
		var err error
		if body, err = multiPartBody(); err != nil {
			return nil, err
		}
	}
	st, err := b.startStack(ctx, "telegram", [][2]string{{"serve", "telegram"}})
	defer st.stop()
	if err != nil {
		return nil, err
	}
	pg, c := st.pgs[0], st.c

	chats := make([]string, res.channels)
	ids := make([]string, res.channels)
	for i := range chats {
		chats[i] = fmt.Sprintf("@bench_%s_%05d", sc.name, i)
		b.tg.AddChat(chats[i])
		ch, err := c.CreateChannel(ctx, client.NewChannel{ChatID: chats[i], Title: fmt.Sprintf("Bench %d", i), Language: "es"})
		if err != nil {
			return nil, fmt.Errorf("register channel %s: %w", chats[i], err)
		}
		ids[i] = ch.ID
	}
	accepted0, requests0, violations0 := b.tg.Total(), b.tg.Requests(), b.tg.Violations()
	limits := []telegramtest.Limit{telegramtest.LimitGlobal, telegramtest.LimitChatSecond, telegramtest.LimitChatMinute, telegramtest.LimitRetryAfter}
	broken0 := map[telegramtest.Limit]int64{}
	for _, l := range limits {
		broken0[l] = b.tg.ViolationsOf(l)
	}

	in := func(ids []string) *client.NewRelease {
		return &client.NewRelease{
			Title:    "Aviso breve del banco de pruebas",
			Body:     body,
			Language: "es", Audiences: client.Audiences{TelegramChannels: ids}, Send: true,
		}
	}
	log.Info("sending")
	var rels []string
	t0 := time.Now()
	rel, err := c.CreateRelease(ctx, in(ids))
	res.perRelease = len(ids)
	var ae *client.Error
	if errors.As(err, &ae) && client.IsInvalid(err) && ae.Field("audiences.telegram_channels") != "" {
		// The API caps the channels of one release: send several at once.
		res.chunkedReason = problemSummary(ae)
		res.perRelease = 100
		t0 = time.Now()
		for from := 0; from < len(ids); from += res.perRelease {
			r, err := c.CreateRelease(ctx, in(ids[from:min(from+res.perRelease, len(ids))]))
			if err != nil {
				return nil, fmt.Errorf("create release: %w", err)
			}
			rels = append(rels, r.ID)
		}
	} else if err != nil {
		return nil, fmt.Errorf("create release: %w", err)
	} else {
		rels = append(rels, rel.ID)
	}
	res.releases = len(rels)

	finals := map[string]*client.Release{}
	timeout := 2*time.Minute + 3*res.theoretical()
	err = waitFor(ctx, "the Telegram releases to finish", timeout, 100*time.Millisecond, func(ctx context.Context) (bool, error) {
		if done, err := pg.exited(); done {
			return false, fmt.Errorf("pregon %w: see %s", err, pg.logPath)
		}
		for _, id := range rels {
			if finals[id] != nil {
				continue
			}
			r, err := c.GetRelease(ctx, id)
			if err != nil {
				return false, transient(err)
			}
			if !r.Final() {
				return false, nil
			}
			finals[id] = r
		}
		return true, nil
	})
	res.doneAfter = time.Since(t0)
	if err != nil {
		if ctx.Err() != nil {
			return nil, err
		}
		res.failure = err.Error()
		for _, id := range rels {
			if finals[id] == nil {
				res.pending = append(res.pending, pending(context.WithoutCancel(ctx), c, id, 3)...)
			}
		}
	}
	for _, id := range rels {
		r := finals[id]
		if r == nil {
			if r, err = c.GetRelease(ctx, id); err != nil {
				return nil, err
			}
		}
		res.status[string(r.Status)]++
		cs := flatCounts(r)
		res.sent += cs["sent"]
		res.failed += cs["failed"]
		for k, v := range cs {
			if v != 0 && k != "total" && k != "sent" && k != "failed" {
				res.other = append(res.other, fmt.Sprintf("%s %d", k, v))
			}
		}
	}
	res.accepted = b.tg.Total() - accepted0
	res.requests = b.tg.Requests() - requests0
	res.violations = b.tg.Violations() - violations0
	res.broken = map[telegramtest.Limit]int64{}
	for _, l := range limits {
		if n := b.tg.ViolationsOf(l) - broken0[l]; n > 0 {
			res.broken[l] = n
		}
	}
	var first, last time.Time
	for _, chat := range chats {
		msgs := b.tg.Messages(chat)
		res.parts = max(res.parts, len(msgs))
		for _, m := range msgs {
			if first.IsZero() || m.Date.Before(first) {
				first = m.Date
			}
			if m.Date.After(last) {
				last = m.Date
			}
		}
	}
	if !last.IsZero() {
		res.first, res.last = first.Sub(t0), last.Sub(t0)
	}
	res.log = scanLog(pg.logPath)
	log.Info("done", "last", res.last.Round(time.Millisecond), "violations", res.violations)
	return res, nil
}

// String is the Telegram line of the report.
func (r *tgResult) String() string {
	th := r.theoretical()
	var b strings.Builder
	fmt.Fprintf(&b, "Telegram, %d channels × a %d-part post: %d messages accepted by the fake Bot API; send to last message %.2f s "+
		"(minimum the limits allow %.2f s: %d messages at %d/s, a post's parts 1 s apart in its chat; %+.1f %%), first message after %.2f s; "+
		"%d rate-limit violations (429s)%s; %d sendMessage requests; deliveries sent %d / failed %d",
		r.channels, r.parts, r.accepted, r.last.Seconds(), th.Seconds(), r.channels*max(r.parts, 1), telegramRate,
		(r.last.Seconds()/th.Seconds()-1)*100, r.first.Seconds(), r.violations, r.brokenString(), r.requests, r.sent, r.failed)
	if len(r.other) > 0 {
		fmt.Fprintf(&b, " (other: %s)", strings.Join(r.other, ", "))
	}
	var st []string
	for s, n := range r.status {
		st = append(st, fmt.Sprintf("%d %s", n, s))
	}
	fmt.Fprintf(&b, "; releases: %s, final after %.2f s", strings.Join(st, ", "), r.doneAfter.Seconds())
	if r.chunkedReason != "" {
		fmt.Fprintf(&b, "\n  (sent as %d releases of at most %d channels each, created back to back: the API refused one release to all: %s)",
			r.releases, r.perRelease, r.chunkedReason)
	}
	if r.failure != "" {
		fmt.Fprintf(&b, "\n  FAILED: %s", r.failure)
		for _, p := range r.pending {
			fmt.Fprintf(&b, "\n  still pending: %s", p)
		}
	}
	fmt.Fprintf(&b, "\n  %s", r.log)
	return b.String()
}

// brokenString says which limits the violations broke: " (global 3,
// chat_second 1)", or "".
func (r *tgResult) brokenString() string {
	var out []string
	for _, l := range []telegramtest.Limit{telegramtest.LimitGlobal, telegramtest.LimitChatSecond, telegramtest.LimitChatMinute, telegramtest.LimitRetryAfter} {
		if n := r.broken[l]; n > 0 {
			out = append(out, fmt.Sprintf("%s %d", l, n))
		}
	}
	if len(out) == 0 {
		return ""
	}
	return " (" + strings.Join(out, ", ") + ")"
}

// problemSummary returns the field errors of a problem, or its message.
func problemSummary(e *client.Error) string {
	if len(e.Errors) == 0 {
		return e.Error()
	}
	var out []string
	for _, f := range e.Errors {
		out = append(out, f.Field+" "+f.Message)
	}
	return strings.Join(out, "; ")
}
