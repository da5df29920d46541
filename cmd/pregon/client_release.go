package main

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

func (c *cli) releaseSend(ctx context.Context, args []string) error {
	cm := c.flags("release send", "release send FILE.md [--list ID]... [--early-list ID]... [--channel ID]... [--followers] [--translation FILE.md]...\n"+
		"                           [--embargo RFC3339] [--at RFC3339] [--draft] [--wait [--timeout 2m]]\n"+
		"       pregon release send RELEASE_ID [--at RFC3339] [--wait [--timeout 2m]]   (send a draft)")
	var lists, channels, translations stringsFlag
	var early stringsFlag
	cm.fs.Var(&lists, "list", "send to this list's members (repeat for more lists)")
	cm.fs.Var(&early, "early-list", "with --embargo, send this press list's members the embargoed copy at once, everyone else at the embargo (repeat for more)")
	cm.fs.Var(&channels, "channel", "post in this Telegram channel, by the id \"channel add\" printed (repeat for more)")
	cm.fs.Var(&translations, "translation", "a translation file with its own front matter (repeat for more languages)")
	followers := cm.fs.Bool("followers", false, "send it to the Telegram bot's followers too, each in its language")
	embargo := cm.fs.String("embargo", "", "the embargo: when the statement becomes public, RFC 3339 like 2026-06-01T09:00:00-06:00 (default: none)")
	atFlag := cm.fs.String("at", "", "send at this time, RFC 3339 (default: now; with an embargo and early lists, when the early lists get it)")
	draft := cm.fs.Bool("draft", false, "create the release without sending it: a draft needs a title, not yet its text nor an audience")
	idemKey := cm.fs.String("idempotency-key", "", "create the release under this Idempotency-Key: running the command again with it returns the release made the first time (default: a random key, the same for the retries of this run)")
	wait := cm.fs.Bool("wait", false, "wait until every delivery is done, printing progress on stderr")
	timeout := cm.fs.Duration("timeout", defaultWait, "with --wait, how long to wait at most")
	pos, err := cm.parse(args, 1, "FILE.md")
	if err != nil {
		return err
	}
	var at time.Time
	if *atFlag != "" {
		if at, err = time.Parse(time.RFC3339, *atFlag); err != nil {
			return usageErr(fmt.Sprintf("release send: --at %q is not an RFC 3339 time like 2026-06-01T09:00:00-06:00", *atFlag), cm.usage)
		}
	}
	if isReleaseID(pos[0]) {
		// A draft made before (release send --draft, or the API): send it.
		if len(lists)+len(early)+len(channels)+len(translations) > 0 || *embargo != "" || *draft || *followers {
			return usageErr("release send: a draft is sent as it is; change it with \"pregon release edit\" first", cm.usage)
		}
		a, err := c.api(cm)
		if err != nil {
			return err
		}
		rel, err := a.GetRelease(ctx, pos[0])
		if err != nil {
			return err
		}
		if rel, err = c.sendChecked(ctx, a, rel, at); err != nil {
			return err
		}
		fmt.Fprintln(c.stdout, rel.ID)
		if !*wait {
			return nil
		}
		return c.wait(ctx, a, rel, *timeout)
	}
	switch {
	case len(lists)+len(early)+len(channels) == 0 && !*followers && !*draft:
		return usageErr("release send: name at least one audience with --list or --channel (or --followers), or save a draft with --draft and choose its audience later", cm.usage)
	case *draft && *wait:
		return usageErr("release send: --wait waits for a sending release; it cannot go with --draft", cm.usage)
	case *timeout <= 0:
		return usageErr("release send: --timeout must be positive", cm.usage)
	}
	if *embargo != "" {
		if _, err := time.Parse(time.RFC3339, *embargo); err != nil {
			return usageErr(fmt.Sprintf("release send: --embargo %q is not an RFC 3339 time like 2026-06-01T09:00:00-06:00", *embargo), cm.usage)
		}
	}
	req, err := c.readRelease(pos[0], translations, *draft)
	if err != nil {
		return err
	}
	req.Audiences = client.Audiences{Lists: lists, EarlyLists: early, TelegramChannels: channels, TelegramFollowers: *followers}
	req.EmbargoUntil = *embargo
	req.IdempotencyKey = strings.TrimSpace(*idemKey)
	if req.IdempotencyKey == "" {
		req.IdempotencyKey = client.NewIdempotencyKey()
	}

	a, err := c.api(cm)
	if err != nil {
		return err
	}
	rel, err := c.createRelease(ctx, a, req)
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, rel.ID)
	c.printWarnings(rel.Warnings)
	if !*draft {
		// Created as a draft, then sent once its checklist shows no error.
		if rel, err = c.sendChecked(ctx, a, rel, at); err != nil {
			return err
		}
	}
	if !*wait {
		return nil
	}
	return c.wait(ctx, a, rel, *timeout)
}

// createRetries is how many times release send tries again a create whose
// answer was lost (the connection broke, or the server was briefly
// unavailable); its Idempotency-Key makes a repeat return the release the
// first try made, if it made one.
const createRetries = 2

// createRelease creates req's release, trying again when the answer is
// lost. When it gives up, the error says how to try again with the same
// key, so that the release is not made twice.
func (c *cli) createRelease(ctx context.Context, a *client.Client, req *client.NewRelease) (*client.Release, error) {
	for try := 0; ; try++ {
		rel, err := a.CreateRelease(ctx, req)
		if err == nil {
			return rel, nil
		}
		var netErr *client.NetError
		var apiErr *client.Error
		if errors.As(err, &apiErr) && apiErr.Status == 501 && req.IdempotencyKey != "" {
			// A server that keeps no idempotency keys refuses them.
			fmt.Fprintln(c.stderr, "note: the server keeps no idempotency keys; creating the release without one")
			req.IdempotencyKey = ""
			continue
		}
		lost := errors.As(err, &netErr) || (errors.As(err, &apiErr) && apiErr.Status == 503)
		if !lost || ctx.Err() != nil {
			return nil, err
		}
		if try >= createRetries {
			return nil, fmt.Errorf("%w\nthe release may have been created; to try again without making it twice, run the same command with --idempotency-key %s", err, req.IdempotencyKey)
		}
		fmt.Fprintf(c.stderr, "note: %v; trying again\n", err)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(c.poll << try):
		}
	}
}

// isReleaseID reports whether arg names a release rather than a file: a
// release id ("rel_" and letters and digits) that is not a file here.
func isReleaseID(arg string) bool {
	id, ok := strings.CutPrefix(arg, "rel_")
	if !ok || id == "" || strings.ContainsAny(id, "./\\") {
		return false
	}
	_, err := os.Stat(arg)
	return err != nil
}

// readRelease reads a release file and its translations into a request,
// their bodies optional for a draft.
func (c *cli) readRelease(file string, translations []string, draft bool) (*client.NewRelease, error) {
	f, err := readReleaseFile(file, draft)
	if err != nil {
		return nil, err
	}
	req := &client.NewRelease{Title: f.Title, Summary: f.Summary, Body: f.Body, Language: f.Language, SourceURL: f.SourceURL, Timezone: f.Timezone}
	if pc := (dispatcher.PressContact{Name: f.ContactName, Email: f.ContactEmail, Phone: f.ContactPhone}); pc != (dispatcher.PressContact{}) {
		req.Contact = &pc
	}
	for _, name := range translations {
		t, err := readReleaseFile(name, draft)
		if err != nil {
			return nil, err
		}
		if t.ContactName != "" || t.ContactEmail != "" || t.ContactPhone != "" || t.SourceURL != "" {
			fmt.Fprintf(c.stderr, "note: %s: the press contact and source_url come from %s; those in a translation are not used\n", name, file)
		}
		req.Translations = append(req.Translations, dispatcher.Translation{Language: t.Language, Title: t.Title, Summary: t.Summary, Body: t.Body})
	}
	return req, nil
}

// readReleaseFile reads a release file. Its body may be empty only when
// draft says that it is saved as a draft, whose text may come later: what
// is sent needs one.
func readReleaseFile(name string, draft bool) (*releaseFile, error) {
	data, err := os.ReadFile(name)
	if err != nil {
		return nil, err
	}
	f, err := parseReleaseFile(name, string(data))
	if err == nil && !draft && strings.TrimSpace(f.Body) == "" {
		return nil, fmt.Errorf("%s: the body after the front matter is empty (only a draft, saved with --draft, may have no text yet)", name)
	}
	return f, err
}

// wait polls the release every c.poll until it is final or timeout passes,
// printing a line on stderr whenever its progress changes. It returns an
// error unless the release ends sent.
func (c *cli) wait(ctx context.Context, a *client.Client, rel *client.Release, timeout time.Duration) error {
	wctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(c.poll)
	defer tick.Stop()
	last := ""
	for {
		if line := progress(rel); line != last {
			fmt.Fprintln(c.stderr, line)
			last = line
		}
		if rel.Final() {
			break
		}
		select {
		case <-wctx.Done():
			if ctx.Err() != nil {
				return ctx.Err()
			}
			return fmt.Errorf("release %s is still %s after %s; follow it with: pregon release status %s", rel.ID, rel.Status, timeout, rel.ID)
		case <-tick.C:
		}
		next, err := a.GetRelease(wctx, rel.ID)
		if err != nil {
			if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
				continue // the timeout is reported above
			}
			return err
		}
		rel = next
	}
	if rel.Status != "sent" {
		return fmt.Errorf("release %s ended %s; see: pregon release deliveries %s --status failed", rel.ID, rel.Status, rel.ID)
	}
	return nil
}

// progress describes a release's status and counts in one line.
func progress(rel *client.Release) string {
	var b strings.Builder
	fmt.Fprintf(&b, "release %s: %s", rel.ID, rel.Status)
	if rel.Status == "scheduled" && rel.EmbargoUntil != nil {
		fmt.Fprintf(&b, " for %s", inZone(&rel.Release, *rel.EmbargoUntil))
	}
	cs := rel.Counts
	if cs.Total == 0 {
		return b.String()
	}
	fmt.Fprintf(&b, ", %d of %d done", cs.Total-cs.Pending(), cs.Total)
	var parts []string
	for _, s := range cs.Statuses() {
		if n := cs.ByStatus[s]; n > 0 {
			parts = append(parts, fmt.Sprintf("%s %d", s, n))
		}
	}
	if len(parts) > 0 {
		fmt.Fprintf(&b, " (%s)", strings.Join(parts, ", "))
	}
	return b.String()
}

func (c *cli) releaseStatus(ctx context.Context, args []string) error {
	cm := c.flags("release status", "release status ID [--watch]")
	watch := cm.fs.Bool("watch", false, "follow the release until it is final (exit status 0 only if it ends sent)")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	if *watch {
		return c.watch(ctx, a, pos[0])
	}
	rel, err := a.GetRelease(ctx, pos[0])
	if err != nil {
		return err
	}
	langs := rel.Language
	for _, t := range rel.Translations {
		langs += ", " + t.Language
	}
	embargo := "none"
	if rel.EmbargoUntil != nil {
		embargo = inZone(&rel.Release, *rel.EmbargoUntil)
	}
	tw := newTable(c.stdout, "release:", rel.ID)
	row(tw, "title:", rel.Title)
	row(tw, "status:", string(rel.Status))
	row(tw, "languages:", langs)
	row(tw, "time zone:", zoneName(&rel.Release))
	row(tw, "embargo:", embargo)
	if rel.ScheduledAt != nil {
		row(tw, "scheduled:", inZone(&rel.Release, *rel.ScheduledAt))
	}
	row(tw, "updated:", inZone(&rel.Release, rel.UpdatedAt))
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintln(c.stdout)
	return c.countsTable(&rel.Counts)
}

// countsTable prints the counts per channel: total, the usual statuses, and
// any other status that some delivery is in.
func (c *cli) countsTable(cs *client.Counts) error {
	cols := []dispatcher.DeliveryStatus{dispatcher.DeliveryQueued, dispatcher.DeliveryRetrying, dispatcher.DeliverySent, dispatcher.DeliveryFailed}
	for _, s := range cs.Statuses() {
		if cs.ByStatus[s] > 0 && !slices.Contains(cols, s) {
			cols = append(cols, s)
		}
	}
	header := []string{"CHANNEL", "TOTAL"}
	for _, s := range cols {
		header = append(header, strings.ToUpper(string(s)))
	}
	tw := newTable(c.stdout, header...)
	line := func(name string, total int64, by map[dispatcher.DeliveryStatus]int64) {
		cells := []string{name, fmt.Sprint(total)}
		for _, s := range cols {
			cells = append(cells, fmt.Sprint(by[s]))
		}
		row(tw, cells...)
	}
	for _, ch := range slices.Sorted(maps.Keys(cs.ByChannel)) {
		by := cs.ByChannel[ch]
		total, ok := cs.ChannelTotal[ch]
		if !ok {
			for _, n := range by {
				total += n
			}
		}
		line(string(ch), total, by)
	}
	line("all", cs.Total, cs.ByStatus)
	return tw.Flush()
}

func (c *cli) releaseDeliveries(ctx context.Context, args []string) error {
	cm := c.flags("release deliveries", "release deliveries ID [--status S] [--channel email|telegram] [--csv]")
	status := cm.fs.String("status", "", "only deliveries in this status (queued, retrying, sent, failed, suppressed, skipped, uncertain, cancelled)")
	channel := cm.fs.String("channel", "", "only deliveries through this channel: email or telegram")
	asCSV := cm.fs.Bool("csv", false, "print every delivery as CSV, as GET /v1/releases/{id}/deliveries?format=csv gives it")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	f := client.DeliveryFilter{Status: dispatcher.DeliveryStatus(*status), Channel: dispatcher.ChannelKind(*channel)}
	if *asCSV {
		_, err := a.DeliveriesCSV(ctx, pos[0], f, c.stdout)
		return err
	}
	deliveries := func(ctx context.Context, pq client.PageQuery) (*client.Page[dispatcher.Delivery], error) {
		return a.Deliveries(ctx, pos[0], f, pq)
	}
	tw := newTable(c.stdout, "RECIPIENT", "CHANNEL", "LANGUAGE", "STATUS", "ATTEMPTS", "LAST_ERROR", "MESSAGE_IDS")
	n := 0
	err = client.EachPage(ctx, pageSize, deliveries, func(ds []dispatcher.Delivery) error {
		for _, d := range ds {
			row(tw, d.Recipient, string(d.Channel), d.Language, string(d.Status), fmt.Sprint(d.Attempts), d.LastError, strings.Join(d.MessageIDs, " "))
		}
		n += len(ds)
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "%d %s\n", n, plural(n, "delivery", "deliveries"))
	return nil
}

func (c *cli) releasePreview(ctx context.Context, args []string) error {
	cm := c.flags("release preview", "release preview ID [--channel email|telegram] [--language L] [--copy early]")
	channel := cm.fs.String("channel", "email", "email or telegram")
	lang := cm.fs.String("language", "", "the language to preview (default: the release's own)")
	copyOf := cm.fs.String("copy", "", `"early" for the embargoed email the early lists get; default: what every audience gets`)
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	p, err := a.PreviewCopy(ctx, pos[0], dispatcher.ChannelKind(*channel), *lang, *copyOf)
	if err != nil {
		return err
	}
	if *channel == "telegram" {
		for i, m := range p.Messages {
			fmt.Fprintf(c.stdout, "--- message %d of %d (%s, %d characters) ---\n%s\n", i+1, len(p.Messages), p.Language, len([]rune(m)), m)
		}
		return nil
	}
	fmt.Fprintf(c.stdout, "Subject: %s\nLanguage: %s\n\n%s\n", p.Subject, p.Language, strings.TrimRight(p.Text, "\n"))
	return nil
}

func (c *cli) releaseCancel(ctx context.Context, args []string) error {
	cm := c.flags("release cancel", "release cancel ID")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	rel, err := a.Cancel(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintln(c.stdout, progress(rel))
	return nil
}

func (c *cli) releaseRetry(ctx context.Context, args []string) error {
	cm := c.flags("release retry", "release retry ID")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	n, err := a.Retry(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "release %s: %d %s queued again\n", pos[0], n, plural(n, "delivery", "deliveries"))
	return nil
}
