package main

import (
	"context"
	"fmt"
	"strconv"
	"text/tabwriter"
	"time"

	"github.com/pregon/pregon/client"
)

const auditUsage = `  pregon audit verify            check the audit log's hash chain (an admin token);
                                  exits 1 and names the first broken entry when it does not hold
  pregon audit list [--release ID] [--since RFC3339] [--oldest] [--limit N]
                                  print audit entries, newest first (an admin token)
`

// auditVerify runs "pregon audit verify": it reads the whole audit log
// through the API and checks its chain. A broken chain prints every break
// found and is an error (exit status 1).
func (c *cli) auditVerify(ctx context.Context, args []string) error {
	cm := c.flags("audit verify", "audit verify")
	_, a, err := c.connect(cm, args, 0, "")
	if err != nil {
		return err
	}
	rep, err := a.VerifyAudit(ctx)
	if err != nil {
		return err
	}
	if len(rep.Breaks) == 0 {
		fmt.Fprintf(c.stdout, "audit chain intact: %d entries\n", rep.Entries)
		if rep.Head.Seq > 0 {
			// Kept somewhere else, the head's hash shows a later rewrite of
			// the whole chain, which the chain alone cannot.
			fmt.Fprintf(c.stdout, "head: entry %d, hash %s\n", rep.Head.Seq, rep.Head.Hash)
		}
		return nil
	}
	first := rep.Breaks[0]
	fmt.Fprintf(c.stdout, "audit chain broken at entry %d: %s\n", first.Seq, first.Error())
	for _, b := range rep.Breaks[1:] {
		fmt.Fprintf(c.stdout, "also: %s\n", b.Error())
	}
	if rep.Omitted > 0 {
		fmt.Fprintf(c.stdout, "and %d more breaks\n", rep.Omitted)
	}
	fmt.Fprintf(c.stdout, "%d entries read; the log's head is entry %d\n", rep.Entries, rep.Head.Seq)
	return fmt.Errorf("audit chain broken at entry %d", first.Seq)
}

// auditList runs "pregon audit list": one line per entry.
func (c *cli) auditList(ctx context.Context, args []string) error {
	cm := c.flags("audit list", "audit list [--release ID] [--since RFC3339] [--oldest] [--limit N]")
	release := cm.fs.String("release", "", "only the entries of this release")
	since := cm.fs.String("since", "", "only the entries recorded at or after this time (RFC 3339)")
	oldest := cm.fs.Bool("oldest", false, "oldest first (default: newest first)")
	limit := cm.fs.Int("limit", 100, "how many entries at most (0: all)")
	_, a, err := c.connect(cm, args, 0, "")
	if err != nil {
		return err
	}
	q := client.AuditQuery{Release: *release, Oldest: *oldest}
	if *since != "" {
		t, err := time.Parse(time.RFC3339, *since)
		if err != nil {
			return usageErr(fmt.Sprintf("audit list: --since must be an RFC 3339 time like 2026-02-04T10:00:00-06:00, got %q", *since), cm.usage)
		}
		q.Since = t
	}
	if *limit < 0 {
		return usageErr("audit list: --limit must be 0 or more", cm.usage)
	}
	tw := tabwriter.NewWriter(c.stdout, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "SEQ\tAT\tACTOR\tACTION\tTARGET\tVERSION\tCLIENT")
	n, cursor := 0, ""
	for {
		pq := client.PageQuery{Cursor: cursor, Limit: 1000}
		if *limit > 0 {
			pq.Limit = min(1000, *limit-n)
		}
		p, err := a.Audit(ctx, q, pq)
		if err != nil {
			return err
		}
		for _, e := range p.Items {
			version := "-"
			if e.Version > 0 {
				version = strconv.Itoa(e.Version)
			}
			fmt.Fprintf(tw, "%d\t%s\t%s\t%s\t%s\t%s\t%s\n", e.Seq, e.At.UTC().Format(time.RFC3339), e.Actor, e.Action, e.Target, version, e.Client)
			n++
		}
		if p.NextCursor == "" || (*limit > 0 && n >= *limit) {
			break
		}
		cursor = p.NextCursor
	}
	return tw.Flush()
}
