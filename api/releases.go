package api

import (
	"errors"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// releaseSummary is a release in a collection without ?fields=full: no
// "body", and its translations without theirs.
type releaseSummary struct {
	*dispatcher.Release
	// Body shadows the release's own field and is always empty, so that
	// "body" is left out of the JSON.
	Body         string               `json:"body,omitempty"`
	Translations []translationSummary `json:"translations"`
}

// translationSummary is a translation without its body.
type translationSummary struct {
	Language string `json:"language"`
	Title    string `json:"title"`
	Summary  string `json:"summary,omitempty"`
}

// present returns a copy of r fit for a response: counts (zeros when nothing
// was sent), translations and audiences are never null.
func present(r *dispatcher.Release) *dispatcher.Release {
	out := *r
	if out.Counts == nil {
		out.Counts = dispatcher.NewCounts()
	}
	if out.Translations == nil {
		out.Translations = []dispatcher.Translation{}
	}
	if out.Attachments == nil {
		out.Attachments = []dispatcher.Attachment{}
	}
	for _, ids := range []*[]string{&out.Audiences.Lists, &out.Audiences.EarlyLists, &out.Audiences.TelegramChannels} {
		if *ids == nil {
			*ids = []string{}
		}
	}
	return &out
}

// summarize returns the summary of a presented release.
func summarize(r *dispatcher.Release) *releaseSummary {
	ts := make([]translationSummary, len(r.Translations))
	for i, t := range r.Translations {
		ts[i] = translationSummary{Language: t.Language, Title: t.Title, Summary: t.Summary}
	}
	return &releaseSummary{Release: r, Translations: ts}
}

// createRelease handles POST /v1/releases → 201 release with "warnings"
// (see Server.warnings). Nothing is written
// unless the whole request is valid. A draft needs a title and a language
// only; with "send": true it needs a text in every version and an audience. With "send": true the new release is
// sent at once (or at its embargo) and returned as Send left it. With an
// Idempotency-Key header, a repeat of the request returns the first one's
// release (see claimIdempotency); once the release exists the key holds it,
// even if sending it then fails.
func (s *Server) createRelease(w http.ResponseWriter, r *http.Request) error {
	var in releaseInput
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	claim, replayed, err := s.claimIdempotency(w, r, &in)
	if err != nil || replayed {
		return err
	}
	defer claim.free(r.Context())
	goesOut := forDraft
	if in.Send {
		goesOut = forSend
	}
	rel, err := s.release(r.Context(), &in, goesOut)
	if err != nil {
		return err
	}
	rel.Author, rel.Version = infoFrom(r.Context()).token, 1
	if err := s.store.CreateRelease(r.Context(), rel); err != nil {
		return err
	}
	claim.finish(r.Context(), rel.ID, http.StatusCreated)
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseCreate, Target: rel.ID, Version: rel.Version}); err != nil {
		return err // not sent either: nothing more happens unrecorded
	}
	w.Header().Set("Location", "/v1/releases/"+rel.ID)
	if in.Send {
		if err := s.refuseSend(r.Context(), rel, true); err != nil {
			return err
		}
		sent, err := s.sender.SendVersion(r.Context(), rel.ID, nil, rel.Version)
		if err != nil {
			p := &Problem{Status: http.StatusInternalServerError, ReleaseID: rel.ID,
				Detail: "The release " + rel.ID + " was saved as a draft but could not be sent; send it again with POST /v1/releases/" + rel.ID + "/send."}
			var ce *dispatcher.ConflictError
			switch {
			case errors.As(err, &ce):
				p.Status = http.StatusConflict
				p.Detail = "The release " + rel.ID + " was saved as a draft but not sent: " + conflictProblem(ce, 0, "sent").Detail
			case errors.Is(err, dispatcher.ErrConflict):
				p.Status = http.StatusConflict
			case unavailable(err):
				p.Status, p.retryAfter = http.StatusServiceUnavailable, retryAfterUnavailable
			}
			infoFrom(r.Context()).err = err
			return p
		}
		if err := s.audit(r, sendEntry(sent, nil)); err != nil {
			return err
		}
		rel = sent
	}
	return s.writeWarned(r.Context(), w, http.StatusCreated, rel)
}

// getReleases handles GET /v1/releases?status=&fields=&cursor=&limit= →
// page of releases, newest first: summaries (no bodies) unless fields=full.
// A page also ends once it holds about maxPageBytes of releases.
func (s *Server) getReleases(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var fe fieldErrors
	cursor, limit := pageParams(q, &fe)
	status := dispatcher.ReleaseStatus(q.Get("status"))
	if status != "" && !oneOf(status, dispatcher.ReleaseStatuses) {
		fe.add("status", "must be one of %s", list(dispatcher.ReleaseStatuses))
	}
	full := false
	switch q.Get("fields") {
	case "", "summary":
	case "full":
		full = true
	default:
		fe.add("fields", "must be \"summary\" (the default: no bodies) or \"full\"")
	}
	if err := fe.err(); err != nil {
		return err
	}
	rels, next, err := s.store.Releases(r.Context(), status, cursor, limit, full, s.maxPage)
	if err != nil {
		return err
	}
	if full {
		items := make([]*dispatcher.Release, len(rels))
		for i, rel := range rels {
			items[i] = present(rel)
		}
		return writeJSON(w, http.StatusOK, newPage(items, next))
	}
	items := make([]*releaseSummary, len(rels))
	for i, rel := range rels {
		items[i] = summarize(present(rel))
	}
	return writeJSON(w, http.StatusOK, newPage(items, next))
}

// getRelease handles GET /v1/releases/{id}.
func (s *Server) getRelease(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.store.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, present(rel))
}

type sendInput struct {
	At *string `json:"at"`
}

// sendRelease handles POST /v1/releases/{id}/send {at?} → 202 release. It is
// idempotent: a release already on its way is returned as it is. An "at"
// before the release's embargo is refused (409) when it has no early lists:
// it would give the release to its public audiences before the embargo
// lifts. With early lists it is when they get the embargoed copy.
func (s *Server) sendRelease(w http.ResponseWriter, r *http.Request) error {
	var in sendInput
	if err := s.readJSON(w, r, &in, true); err != nil {
		return err
	}
	var at *time.Time
	if in.At != nil && *in.At != "" {
		t, err := parseTime(*in.At)
		if err != nil {
			return fieldErrors{{Field: "at", Message: err.Error()}}.err()
		}
		if limit := s.now().AddDate(1, 0, 0); t.After(limit) {
			return fieldErrors{{Field: "at", Message: "must be at most one year ahead (before " + limit.UTC().Format(time.RFC3339) + ")"}}.err()
		}
		at = &t
	}
	id := r.PathValue("id")
	if at != nil {
		rel, err := s.store.Release(r.Context(), id)
		if err != nil {
			return err
		}
		if err := embargoConflict(rel, *at); err != nil {
			return err
		}
	}
	checked, err := s.refuseSendOf(r.Context(), id)
	if err != nil {
		return err
	}
	rel, err := s.sender.SendVersion(r.Context(), id, at, checked)
	var ce *dispatcher.ConflictError
	if errors.As(err, &ce) && ce.Reason == dispatcher.ConflictVersion {
		return (&Problem{Status: http.StatusConflict, Errors: []FieldError{{Field: "version", Message: fmt.Sprintf("is %d now; version %d was checked", ce.Version, checked)}},
			Detail: fmt.Sprintf("The release was edited while it was being checked: version %d passed the pre-send checks, but it is at version %d now, so nothing was sent. Send it again to check and send version %d.", checked, ce.Version, ce.Version)}).
			coded("release.changed_while_checked", "current", ce.Version, "checked", checked)
	}
	if errors.As(err, &ce) {
		return conflictProblem(ce, 0, "sent")
	}
	if errors.Is(err, dispatcher.ErrConflict) {
		if cur, gerr := s.store.Release(r.Context(), id); gerr == nil && cur.Status == dispatcher.ReleaseCancelled {
			return (&Problem{Status: http.StatusConflict, Detail: "The release was cancelled; it cannot be sent."}).coded("release.cancelled")
		}
		return &Problem{Status: http.StatusConflict, Detail: err.Error()}
	}
	if err != nil {
		return err
	}
	if err := s.audit(r, sendEntry(rel, at)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, present(rel))
}

// sendEntry is the audit entry of a send of rel (at: when asked for, nil
// for now or the embargo), with the status the release is in afterwards. A
// send of a release already on its way is recorded too: it was asked for,
// and the status says it changed nothing.
func sendEntry(rel *dispatcher.Release, at *time.Time) audit.Entry {
	d := map[string]any{"status": string(rel.Status)}
	if at != nil {
		d["at"] = at.UTC().Format(time.RFC3339)
	}
	return audit.Entry{Action: audit.ReleaseSend, Target: rel.ID, Version: rel.Version, Detail: d}
}

// embargoConflict returns a 409 problem when sending rel at at would break
// its embargo, nil otherwise. A release with early lists may be sent before
// its embargo: then only they get it, under the embargo line, and everyone
// else at the lift.
func embargoConflict(rel *dispatcher.Release, at time.Time) error {
	if rel.EmbargoUntil == nil || !at.Before(*rel.EmbargoUntil) || len(rel.Audiences.EarlyLists) > 0 {
		return nil
	}
	emb := rel.EmbargoUntil.UTC().Format(time.RFC3339)
	return &Problem{Status: http.StatusConflict,
		Detail: "The release is under embargo until " + emb + "; \"at\" (" + at.UTC().Format(time.RFC3339) +
			") must be at or after it, or omitted to send at the embargo.",
		Errors: []FieldError{{Field: "at", Message: "must be at or after the embargo, " + emb + ", or omitted"}}}
}

// cancelRelease handles POST /v1/releases/{id}/cancel → 200 release.
func (s *Server) cancelRelease(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.sender.Cancel(r.Context(), r.PathValue("id"))
	if errors.Is(err, dispatcher.ErrConflict) {
		return (&Problem{Status: http.StatusConflict, Detail: "The release was already sent; it cannot be cancelled."}).coded("release.sent")
	}
	if err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseCancel, Target: rel.ID, Version: rel.Version}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, present(rel))
}

// retryRelease handles POST /v1/releases/{id}/retry → 202 {"requeued": n}.
func (s *Server) retryRelease(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.store.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if err := archivedConflict(rel); err != nil { // retention
		return err
	}
	n, err := s.sender.Retry(r.Context(), rel.ID)
	if err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseRetry, Target: rel.ID, Version: rel.Version,
		Detail: map[string]any{"requeued": n}}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusAccepted, map[string]int{"requeued": n})
}

// getDeliveries handles GET /v1/releases/{id}/deliveries?status=&channel=&cursor=&limit=,
// a page as JSON, and ?format=csv (with the same filters), every delivery as
// CSV (export_deliveries.go).
func (s *Server) getDeliveries(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	var fe fieldErrors
	cursor, limit := pageParams(q, &fe)
	f := DeliveryFilter{Status: dispatcher.DeliveryStatus(q.Get("status")), Channel: dispatcher.ChannelKind(q.Get("channel"))}
	if f.Status != "" && !f.Status.Valid() {
		fe.add("status", "must be one of %s", list(dispatcher.DeliveryStatuses))
	}
	if f.Channel != "" && !f.Channel.Valid() {
		fe.add("channel", "must be %q or %q", dispatcher.ChannelEmail, dispatcher.ChannelTelegram)
	}
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		fe.add("format", "must be json or csv")
	}
	if err := fe.err(); err != nil {
		return err
	}
	if format == "csv" {
		return s.exportDeliveries(w, r, f) // export_deliveries.go: every delivery, streamed
	}
	ds, next, err := s.store.Deliveries(r.Context(), r.PathValue("id"), f, cursor, limit)
	if err != nil {
		return err
	}
	items := make([]*dispatcher.Delivery, len(ds))
	for i, d := range ds {
		c := *d
		if c.MessageIDs == nil {
			c.MessageIDs = []string{}
		}
		items[i] = &c
	}
	return writeJSON(w, http.StatusOK, newPage(items, next))
}

// list formats values as "a, b or c".
func list[T ~string](vs []T) string {
	ss := make([]string, len(vs))
	for i, v := range vs {
		ss[i] = string(v)
	}
	if len(ss) < 2 {
		return strings.Join(ss, "")
	}
	return strings.Join(ss[:len(ss)-1], ", ") + " or " + ss[len(ss)-1]
}

func oneOf[T comparable](v T, set []T) bool {
	for _, x := range set {
		if v == x {
			return true
		}
	}
	return false
}
