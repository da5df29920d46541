package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/logging"
)

func (c *cli) releaseChecks(ctx context.Context, args []string) error {
	cm := c.flags("release checks", "release checks ID")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	checks, err := a.Checks(ctx, pos[0])
	if err != nil {
		return err
	}
	if err := printChecks(c.stdout, checks, logging.IsTerminal(c.stdout)); err != nil {
		return err
	}
	if failed := client.Failed(checks); len(failed) > 0 {
		return fmt.Errorf("release %s cannot be sent: %s", pos[0], failedNames(failed))
	}
	return nil
}

// sendChecked sends the draft rel after printing its checklist on stderr;
// it sends nothing while a check is an error. A server without checks is
// sent to all the same: it refuses what it must itself.
func (c *cli) sendChecked(ctx context.Context, a *client.Client, rel *client.Release, at time.Time) (*client.Release, error) {
	checks, err := a.Checks(ctx, rel.ID)
	switch {
	case errors.Is(err, client.ErrNotFound) || errors.Is(err, client.ErrForbidden):
		fmt.Fprintf(c.stderr, "note: the server gave no pre-send checklist (%v)\n", err)
	case err != nil:
		return nil, fmt.Errorf("release %s was saved as a draft and not sent: %w", rel.ID, err)
	default:
		if err := printChecks(c.stderr, checks, logging.IsTerminal(c.stderr)); err != nil {
			return nil, err
		}
		if failed := client.Failed(checks); len(failed) > 0 {
			return nil, fmt.Errorf("release %s was saved as a draft and not sent: %s", rel.ID, failedNames(failed))
		}
	}
	return a.Send(ctx, rel.ID, at)
}

// failedNames says which checks failed: "the embargo and audiences checks
// are errors".
func failedNames(failed []dispatcher.Check) string {
	names := make([]string, len(failed))
	for i, f := range failed {
		names[i] = f.Name
	}
	if len(names) == 1 {
		return "the " + names[0] + " check is an error"
	}
	return "the " + joinAnd(names) + " checks are errors"
}

// joinAnd formats names as "a, b and c".
func joinAnd(names []string) string {
	if len(names) < 2 {
		return strings.Join(names, "")
	}
	return strings.Join(names[:len(names)-1], ", ") + " and " + names[len(names)-1]
}

// printChecks writes a checklist, one check a line: its mark (✓ ! ✗ on a
// terminal; ok, warning, error otherwise, for scripts and logs), its name
// and its message.
func printChecks(w io.Writer, checks []dispatcher.Check, terminal bool) error {
	marks := map[dispatcher.CheckLevel]string{dispatcher.CheckOK: "ok", dispatcher.CheckWarning: "warning", dispatcher.CheckError: "error"}
	if terminal {
		marks = map[dispatcher.CheckLevel]string{dispatcher.CheckOK: "✓", dispatcher.CheckWarning: "!", dispatcher.CheckError: "✗"}
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	for _, ch := range checks {
		mark, ok := marks[ch.Level]
		if !ok {
			mark = string(ch.Level)
		}
		row(tw, mark, ch.Name, ch.Message)
	}
	return tw.Flush()
}

// printWarnings writes the warnings the server gave with a release it
// created or edited on stderr, one a line: "warning: languages: ...".
func (c *cli) printWarnings(ws []dispatcher.Check) {
	for _, w := range ws {
		fmt.Fprintf(c.stderr, "%s: %s: %s\n", w.Level, w.Name, w.Message)
	}
}
