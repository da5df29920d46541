package main

import (
	"context"
	"fmt"
)

// releaseArchive runs `pregon release archive ID`: the release's deliveries
// are compacted into its archive now (retention).
func (c *cli) releaseArchive(ctx context.Context, args []string) error {
	cm := c.flags("release archive", "release archive ID")
	pos, a, err := c.connect(cm, args, 1, "the release ID")
	if err != nil {
		return err
	}
	rel, err := a.Archive(ctx, pos[0])
	if err != nil {
		return err
	}
	when := "now"
	if rel.ArchivedAt != nil {
		when = rel.ArchivedAt.UTC().Format("2006-01-02 15:04 UTC")
	}
	n := rel.Counts.Total
	fmt.Fprintf(c.stdout, "release %s: %s, archived %s (%d %s, read-only)\n", rel.ID, rel.Status, when, n, plural(int(n), "delivery", "deliveries"))
	return nil
}
