package main

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// releaseTest sends a test of a release and prints each recipient's result
// once the worker has them all, or fails when they are not in by --timeout.
// It fails too when a recipient's test failed, so that a script notices.
func (c *cli) releaseTest(ctx context.Context, args []string) error {
	cm := c.flags("release test", "release test ID [--email ADDRESS]... [--telegram @name|-100...]... [--language L] [--copy early] [--timeout 2m]")
	var emails, chats stringsFlag
	cm.fs.Var(&emails, "email", fmt.Sprintf("send the test to this address (repeat, at most %d)", dispatcher.MaxTestEmails))
	cm.fs.Var(&chats, "telegram", fmt.Sprintf("post the test in this Telegram chat (repeat, at most %d)", dispatcher.MaxTestChats))
	lang := cm.fs.String("language", "", "the language version to send (default: the release's own)")
	copyOf := cm.fs.String("copy", "", `"early" to send the embargoed email the early lists get (emails only); default: what every audience gets`)
	timeout := cm.fs.Duration("timeout", defaultWait, "how long to wait for the results at most")
	pos, err := cm.parse(args, 1, "the release ID")
	if err != nil {
		return err
	}
	switch {
	case len(emails)+len(chats) == 0:
		return usageErr("release test: name at least one recipient with --email or --telegram", cm.usage)
	case *timeout <= 0:
		return usageErr("release test: --timeout must be positive", cm.usage)
	}
	a, err := c.api(cm)
	if err != nil {
		return err
	}
	t, err := a.TestSend(ctx, pos[0], client.NewTest{Emails: emails, TelegramChatIDs: chats, Language: *lang, Copy: *copyOf})
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "test %s of release %s (version %d, language %s) sent to the queue; waiting for the results\n",
		t.ID, t.ReleaseID, t.Version, t.Language)
	wctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()
	done, err := a.WaitTest(wctx, t.ReleaseID, t.ID, c.poll)
	if done != nil {
		t = done
	}
	if err != nil && !(errors.Is(err, client.ErrTestPending) && ctx.Err() == nil) {
		return err
	}
	tw := newTable(c.stdout, "RECIPIENT", "CHANNEL", "STATUS", "ERROR", "MESSAGE_IDS")
	failed := 0
	for _, r := range t.Results {
		row(tw, r.Recipient, string(r.Channel), string(r.Status), r.Error, strings.Join(r.MessageIDs, " "))
		if r.Status == dispatcher.TestFailed {
			failed++
		}
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	switch {
	case t.Status == dispatcher.TestPending:
		return fmt.Errorf("test %s still has pending results after %s (is a worker running?); its results stay at GET /v1/releases/%s/tests/%s for 7 days",
			t.ID, *timeout, t.ReleaseID, t.ID)
	case failed > 0:
		return fmt.Errorf("test %s: %d of %d %s failed", t.ID, failed, len(t.Results), plural(len(t.Results), "recipient", "recipients"))
	}
	return nil
}
