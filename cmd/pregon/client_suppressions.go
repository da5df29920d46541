package main

import (
	"context"
	"fmt"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

const suppressionsUsage = `  pregon suppressions list        print the addresses never mailed again: reason
                                  (unsubscribed, hard_bounce, complaint, erased), when,
                                  and where from (an admin token)
  pregon suppressions lift EMAIL  let an address be mailed again (an admin token)
`

// suppressionsList runs "pregon suppressions list": one line per address.
func (c *cli) suppressionsList(ctx context.Context, args []string) error {
	cm := c.flags("suppressions list", "suppressions list")
	_, a, err := c.connect(cm, args, 0, "")
	if err != nil {
		return err
	}
	tw := newTable(c.stdout, "EMAIL", "REASON", "AT", "SOURCE")
	n := 0
	page := func(ctx context.Context, pq client.PageQuery) (*client.Page[dispatcher.Suppression], error) {
		return a.Suppressions(ctx, pq)
	}
	err = client.EachPage(ctx, pageSize, page, func(ss []dispatcher.Suppression) error {
		for _, s := range ss {
			row(tw, s.Email, string(s.Reason), suppressionTime(s.At), s.Source)
		}
		n += len(ss)
		return nil
	})
	if err != nil {
		return err
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(c.stderr, "%d %s\n", n, plural(n, "suppressed address", "suppressed addresses"))
	return nil
}

// suppressionsLift runs "pregon suppressions lift EMAIL".
func (c *cli) suppressionsLift(ctx context.Context, args []string) error {
	cm := c.flags("suppressions lift", "suppressions lift EMAIL")
	pos, a, err := c.connect(cm, args, 1, "EMAIL")
	if err != nil {
		return err
	}
	s, err := a.LiftSuppression(ctx, pos[0])
	if err != nil {
		return err
	}
	fmt.Fprintf(c.stdout, "lifted: %s (was %s since %s, from %s)\n", s.Email, s.Reason, suppressionTime(s.At), orDash(s.Source))
	return nil
}

func suppressionTime(t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	return t.UTC().Format(time.RFC3339)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}
