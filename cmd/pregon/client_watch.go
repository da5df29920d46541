package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/logging"
)

// watchRetries is how many times in a row release status --watch
// reconnects when the stream breaks: after c.poll, then twice as long each
// time (500 ms to 8 s by default), so that it outlasts an API restart.
const watchRetries = 5

// watch follows a release's event stream until the release is final,
// showing its progress on c.stdout: one bar per channel on a terminal,
// plain lines otherwise. A broken stream is resumed where it stopped (with
// Last-Event-ID, so no failure is shown twice), saying so on c.stderr. It
// returns nil when the release ends sent, an error when it ends otherwise,
// and at once a *client.NetError naming the address when the server cannot
// be reached at all.
func (c *cli) watch(ctx context.Context, a *client.Client, id string) error {
	v := newWatchView(c.stdout, logging.IsTerminal(c.stdout))
	lastID, tries, connected := "", 0, false
	for {
		rel, err := c.follow(ctx, a, id, &lastID, v, &tries, &connected)
		if err == nil {
			return watchResult(rel)
		}
		var apiErr *client.Error
		var netErr *client.NetError
		if ctx.Err() != nil || (errors.As(err, &apiErr) && apiErr.Status < 500) || tries >= watchRetries {
			return err
		}
		if !connected && errors.As(err, &netErr) {
			// Never reached: a wrong address or a server that is down,
			// which waiting will not mend. The error names both.
			return err
		}
		pause := c.poll << tries
		tries++
		fmt.Fprintf(c.stderr, "note: the event stream broke (%v); reconnecting in %s\n", err, pause)
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(pause):
		}
	}
}

// follow reads one connection of the stream and shows its events. It
// returns the final release, or the error that ended the connection;
// lastID tracks where to resume. A connection that delivered more than the
// counts every connection starts with, or that lasted longer than a
// heartbeat's timeout, was not a failed attempt, and resets tries;
// connected is set once the server answered.
func (c *cli) follow(ctx context.Context, a *client.Client, id string, lastID *string, v *watchView, tries *int, connected *bool) (*client.Release, error) {
	es, err := a.Events(ctx, id, *lastID)
	if err != nil {
		return nil, err
	}
	*connected = true
	defer es.Close()
	start := time.Now()
	var final *client.Release
	for n := 1; ; n++ {
		ev, err := es.Next()
		*lastID = es.LastEventID()
		if time.Since(start) > client.EventIdleTimeout {
			*tries = 0
		}
		if errors.Is(err, io.EOF) && final != nil {
			return final, nil
		}
		if err != nil {
			return nil, err
		}
		if n > 1 {
			*tries = 0
		}
		switch {
		case ev.Progress != nil:
			v.progress(ev.Progress)
		case ev.Failure != nil:
			v.failure(ev.Failure)
		case ev.Truncated != nil:
			v.note(ev.Truncated.Detail)
		case ev.Release != nil:
			final = ev.Release
			v.progress(&client.Progress{ID: final.ID, Status: final.Status, Counts: final.Counts})
		}
	}
}

// watchResult is what release status --watch ends with for a final release.
func watchResult(rel *client.Release) error {
	switch rel.Status {
	case dispatcher.ReleaseSent:
		return nil
	case dispatcher.ReleaseCancelled:
		return fmt.Errorf("release %s was cancelled", rel.ID)
	}
	return fmt.Errorf("release %s ended %s; see: pregon release deliveries %s --status failed", rel.ID, rel.Status, rel.ID)
}

// watchView shows a watched release: on a terminal, a block of bars that
// is redrawn in place, with failures and notes printed above it; elsewhere,
// one line per change.
type watchView struct {
	w     io.Writer
	tty   bool
	drawn int              // lines of the block on screen (tty)
	last  *client.Progress // the progress shown (tty: redrawn after a failure)
}

func newWatchView(w io.Writer, tty bool) *watchView { return &watchView{w: w, tty: tty} }

// progress shows new counts, unless they are those shown (the final
// release repeats the last counts).
func (v *watchView) progress(p *client.Progress) {
	if v.last != nil && progressLine(v.last) == progressLine(p) {
		return
	}
	v.last = p
	if !v.tty {
		fmt.Fprintln(v.w, progressLine(p))
		return
	}
	v.redraw("")
}

// failure shows a failed delivery.
func (v *watchView) failure(f *client.Failure) {
	v.line(fmt.Sprintf("%s: %s %s (%s), attempt %d: %s", f.Status, f.Channel, f.Recipient, f.Language, f.Attempts, f.LastError))
}

// note shows a message about the stream.
func (v *watchView) note(msg string) { v.line("note: " + msg) }

// line prints a line that stays: above the block, on a terminal.
func (v *watchView) line(s string) {
	if !v.tty {
		fmt.Fprintln(v.w, s)
		return
	}
	v.redraw(s + "\n")
}

// redraw replaces the block on screen with above (lines that stay) and the
// current progress.
func (v *watchView) redraw(above string) {
	var b strings.Builder
	if v.drawn > 0 {
		fmt.Fprintf(&b, "\x1b[%dA\x1b[J", v.drawn) // up to the block's first line, clear below
	}
	b.WriteString(above)
	block := ""
	if v.last != nil {
		block = progressBlock(v.last)
	}
	b.WriteString(block)
	v.drawn = strings.Count(block, "\n")
	io.WriteString(v.w, b.String())
}

// progressLine describes a release's progress in one line:
// "release rel_…: sending; email 14 sent, 1 failed, 5 pending of 20; telegram …".
func progressLine(p *client.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "release %s: %s", p.ID, p.Status)
	for _, ch := range slices.Sorted(maps.Keys(p.Counts.ByChannel)) {
		t := tallyOf(&p.Counts, ch)
		fmt.Fprintf(&b, "; %s %s", ch, t)
	}
	return b.String()
}

// barWidth is the width of a progress bar, in characters.
const barWidth = 24

// progressBlock draws a release's progress: its status, then one bar per
// channel, filled by the share of its deliveries that are done.
func progressBlock(p *client.Progress) string {
	var b strings.Builder
	fmt.Fprintf(&b, "release %s: %s\n", p.ID, p.Status)
	chs := slices.Sorted(maps.Keys(p.Counts.ByChannel))
	if len(chs) == 0 {
		b.WriteString("  no deliveries yet\n")
	}
	for _, ch := range chs {
		t := tallyOf(&p.Counts, ch)
		filled := 0
		if t.total > 0 {
			filled = int((t.total - t.pending) * barWidth / t.total)
		}
		fmt.Fprintf(&b, "  %-9s [%s%s] %s\n", ch, strings.Repeat("█", filled), strings.Repeat("░", barWidth-filled), t)
	}
	return b.String()
}

// tally is one channel's counts as a watch shows them.
type tally struct {
	total, sent, failed, pending, other int64
}

func tallyOf(cs *client.Counts, ch dispatcher.ChannelKind) tally {
	by := cs.ByChannel[ch]
	t := tally{total: cs.ChannelTotal[ch]}
	for st, n := range by {
		switch st {
		case dispatcher.DeliverySent:
			t.sent += n
		case dispatcher.DeliveryFailed, dispatcher.DeliveryUncertain:
			t.failed += n
		case dispatcher.DeliveryQueued, dispatcher.DeliveryRetrying, dispatcher.DeliverySending:
			t.pending += n
		default:
			t.other += n
		}
	}
	if t.total == 0 {
		t.total = t.sent + t.failed + t.pending + t.other
	}
	return t
}

// String reads "14 sent, 1 failed, 5 pending of 20", with "2 other"
// (suppressed, skipped, cancelled) when there are any.
func (t tally) String() string {
	s := fmt.Sprintf("%d sent, %d failed, %d pending", t.sent, t.failed, t.pending)
	if t.other > 0 {
		s += fmt.Sprintf(", %d other", t.other)
	}
	return s + fmt.Sprintf(" of %d", t.total)
}
