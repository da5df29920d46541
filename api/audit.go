package api

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
	"unicode"

	"github.com/pregon/pregon/audit"
)

// AuditLog is the append-only log in which the API records every change,
// and which admins read (store.Store implements it).
type AuditLog interface {
	// AppendAudit appends e, setting its Seq, PrevHash, Hash and, when zero,
	// At; it is safe for many processes at once.
	AppendAudit(ctx context.Context, e *audit.Entry) error
	// AuditEntries returns a page of entries selected by q.
	AuditEntries(ctx context.Context, q audit.Query) (*audit.Page, error)
}

// ProblemAuditUnavailable is the type of the 503 answer to a change that was
// made but could not be recorded in the audit log.
const ProblemAuditUnavailable = "urn:pregon:problem:audit-unavailable"

// auditTimeout bounds the recording of one entry.
const auditTimeout = 5 * time.Second

// audit records a change the request r made, before the answer is written.
// It fills in e's Actor (the token's name), Client (the client's address,
// past trusted proxies) and At; the caller gives the Action, the Target,
// the release's Version when the target is a release, and any Detail:
//
//	if err := s.audit(r, audit.Entry{Action: audit.ReleaseApprove, Target: rel.ID, Version: rel.Version}); err != nil {
//		return err
//	}
//
// A change is recorded after it is made, so that the log never claims a
// change that then failed; and the answer waits for the record, so that a
// change is never reported done without one. When the log cannot be
// written, audit logs the whole entry as an error (the operator's log then
// holds it) and returns a 503 problem that says the change was made: the
// handler returns it instead of its answer. The change cannot be undone in
// general (a release on its way, a token revoked), and it cannot share a
// transaction with the log, whose keys live in a hash slot of their own so
// that its chain is appended atomically. The write ignores the request's
// cancellation: a client that went away after the change still leaves a
// record.
func (s *Server) audit(r *http.Request, e audit.Entry) error {
	info := infoFrom(r.Context())
	if e.Actor == "" { // "public" for the public pages' changes
		e.Actor = info.token
	}
	e.Client = "unknown"
	if addr, ok := clientAddr(r, s.proxies); ok {
		e.Client = addr.String()
	}
	e.At = s.now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), auditTimeout)
	defer cancel()
	err := s.auditLog.AppendAudit(ctx, &e)
	if err == nil {
		return nil
	}
	info.err = err
	s.log.ErrorContext(r.Context(), "change made but not recorded in the audit log",
		"action", string(e.Action), "target", e.Target, "version", e.Version, "actor", e.Actor,
		"client", e.Client, "at", e.At, "detail", e.Detail, "error", err)
	return &Problem{Type: ProblemAuditUnavailable, Title: "Change not recorded in the audit log",
		Status: http.StatusServiceUnavailable, ReleaseID: e.Release(), retryAfter: retryAfterUnavailable,
		Detail: fmt.Sprintf("The change (%s %s) was made, but it could not be recorded in the audit log; "+
			"the server's log holds it. Check that the change took effect before you try it again.", e.Action, e.Target)}
}

// auditPage is the answer to GET /v1/audit: a page of entries, and the
// log's head when the page was read (the last entry's seq and hash).
type auditPage struct {
	Page[*audit.Entry]
	Head auditHead `json:"head"`
}

type auditHead struct {
	Seq  int64  `json:"seq"`
	Hash string `json:"hash"`
}

// maxReleaseParam bounds ?release=: release ids are 30 characters.
const maxReleaseParam = 100

// getAudit handles GET /v1/audit?release=&since=&order=&cursor=&limit=
// (admin) → a page of audit entries, newest first (order=oldest: oldest
// first), of one release (release=) and since a time (since=, RFC 3339),
// with the log's head.
func (s *Server) getAudit(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var fe fieldErrors
	cursor, limit := pageParams(q, &fe)
	aq := audit.Query{Release: q.Get("release"), Limit: limit}
	if cursor != "" {
		n, err := strconv.ParseInt(cursor, 10, 64)
		if err != nil || n < 1 {
			fe.add("cursor", "is not a cursor this API returned (pass next_cursor from the previous page)")
		}
		aq.Cursor = n
	}
	if len(aq.Release) > maxReleaseParam || strings.IndexFunc(aq.Release, func(c rune) bool { return !unicode.IsPrint(c) || c == ' ' }) >= 0 {
		fe.add("release", "must be a release id")
	}
	if v := q.Get("since"); v != "" {
		t, err := parseTime(v)
		if err != nil {
			fe.add("since", "%s", err.Error())
		}
		aq.Since = t
	}
	switch q.Get("order") {
	case "", "newest":
	case "oldest":
		aq.Oldest = true
	default:
		fe.add("order", "must be \"newest\" (the default) or \"oldest\"")
	}
	if err := fe.err(); err != nil {
		return err
	}
	p, err := s.auditLog.AuditEntries(r.Context(), aq)
	if err != nil {
		return err
	}
	next := ""
	if p.Next > 0 {
		next = strconv.FormatInt(p.Next, 10)
	}
	return writeJSON(w, http.StatusOK, auditPage{Page: newPage(p.Entries, next), Head: auditHead{Seq: p.Head.Seq, Hash: p.Head.Hash}})
}

// emailDetail returns the audit detail that names an address: only its
// keyed hash, "email_hmac" (the log is never edited, so it must hold
// nothing that an erasure would have to remove); none without a hasher.
func (s *Server) emailDetail(email string) map[string]any {
	if s.emailHasher == nil {
		return map[string]any{}
	}
	return map[string]any{"email_hmac": s.emailHasher.HashEmail(email)}
}
