package client

import (
	"context"
	"net/url"
	"strconv"
	"time"

	"github.com/pregon/pregon/audit"
)

// AuditQuery selects audit entries: those of one release (Release), those
// recorded at or after a time (Since), oldest first (Oldest; the default is
// newest first). The zero value selects all, newest first.
type AuditQuery struct {
	Release string
	Since   time.Time
	Oldest  bool
}

// AuditPage is a page of the audit log, with the log's head (its last
// entry's seq and hash) when the page was read.
type AuditPage struct {
	Items      []*audit.Entry `json:"items"`
	NextCursor string         `json:"next_cursor"`
	Head       AuditHead      `json:"head"`
}

// AuditHead is the end of the audit log.
type AuditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// auditPageLimit is the page size VerifyAudit reads with: the API's most.
const auditPageLimit = 1000

// Audit returns one page of the audit log (GET /v1/audit; an admin token).
func (c *Client) Audit(ctx context.Context, aq AuditQuery, pq PageQuery) (*AuditPage, error) {
	q := url.Values{}
	if aq.Release != "" {
		q.Set("release", aq.Release)
	}
	if !aq.Since.IsZero() {
		q.Set("since", aq.Since.Format(time.RFC3339Nano))
	}
	if aq.Oldest {
		q.Set("order", "oldest")
	}
	if pq.Cursor != "" {
		q.Set("cursor", pq.Cursor)
	}
	if pq.Limit > 0 {
		q.Set("limit", strconv.Itoa(pq.Limit))
	}
	var p AuditPage
	if err := c.get(ctx, "/v1/audit", q, &p); err != nil {
		return nil, err
	}
	return &p, nil
}

// VerifyAudit reads the whole audit log, oldest first, and checks its
// chain: every entry's hash against its contents, every prev_hash against
// the entry before, the numbers for gaps, and the last entry against the
// log's head (see audit.Verifier). It returns an error only when the log
// cannot be read; a broken chain is a report with Breaks.
func (c *Client) VerifyAudit(ctx context.Context) (*audit.Report, error) {
	return audit.Check(ctx, func(ctx context.Context, cursor string) ([]*audit.Entry, string, audit.Head, error) {
		p, err := c.Audit(ctx, AuditQuery{Oldest: true}, PageQuery{Cursor: cursor, Limit: auditPageLimit})
		if err != nil {
			return nil, "", audit.Head{}, err
		}
		if p.NextCursor != "" && p.NextCursor == cursor {
			return nil, "", audit.Head{}, &loopError{cursor: cursor}
		}
		return p.Items, p.NextCursor, audit.Head{Seq: p.Head.Seq, Hash: p.Head.Hash}, nil
	})
}

// loopError is a server that answered the same cursor for the next page.
type loopError struct{ cursor string }

func (e *loopError) Error() string {
	return "GET /v1/audit: the server returned the cursor it was given (" + e.cursor + "); the walk would not end"
}
