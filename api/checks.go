package api

import (
	"context"
	"fmt"
	"net/http"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/linkcheck"
)

// The pre-send checks, in the order of the checklist.
const (
	// checkTexts ("text", checks_text.go) comes first.
	checkLanguages   = "languages"
	checkEmbargo     = "embargo"
	checkAudiences   = "audiences"
	checkAttachments = "attachments"
	checkLinks       = "links"
	// checkDNS ("dns", checks_dns.go) follows, when Config.DNS is set.
)

// ProblemChecks is the type of the 409 answer to a send refused because a
// pre-send check is an error; its "checks" member lists those checks.
const ProblemChecks = "urn:pregon:problem:checks-failed"

// LinkChecker asks whether the links of a release answer.
// *linkcheck.Checker implements it.
type LinkChecker interface {
	// Check asks each distinct link (up to its cap) and never fails: a
	// link that cannot be asked has a Result with Err set.
	Check(ctx context.Context, urls []string) linkcheck.Report
}

// getChecks handles GET /v1/releases/{id}/checks → 200 [check]: the
// release's pre-send checklist.
func (s *Server) getChecks(w http.ResponseWriter, r *http.Request) error {
	rel, err := s.store.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	checks, err := s.checklist(r.Context(), rel)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, checks)
}

// checklist runs every check on rel. The links are asked while the
// audiences are read, since asking them is the slow part.
func (s *Server) checklist(ctx context.Context, rel *dispatcher.Release) ([]dispatcher.Check, error) {
	links, dns := make(chan dispatcher.Check, 1), make(chan dispatcher.Check, 1)
	lctx, cancel := context.WithCancel(ctx)
	defer cancel()
	go func() { links <- s.checkLinks(lctx, rel) }()
	if s.dns != nil {
		go func() { dns <- s.dnsCheck(lctx) }()
	}
	scan, err := s.scanAudiences(ctx, rel, scanAll)
	if err != nil {
		return nil, err
	}
	checks := []dispatcher.Check{
		textCheck(rel),
		languagesCheck(rel, scan),
		s.embargoCheck(rel),
		audiencesCheck(rel, scan),
		s.attachmentsCheck(rel),
		<-links,
	}
	if s.dns != nil {
		checks = append(checks, <-dns)
	}
	return checks, nil
}

// sendChecks runs the checks that can be errors, which are the ones that
// can refuse a send: not the links, which are slow and can only warn. It
// stops reading the audiences at the first recipient.
func (s *Server) sendChecks(ctx context.Context, rel *dispatcher.Release) ([]dispatcher.Check, error) {
	scan, err := s.scanAudiences(ctx, rel, scanFirst)
	if err != nil {
		return nil, err
	}
	return []dispatcher.Check{textCheck(rel), s.embargoCheck(rel), audiencesCheck(rel, scan), s.attachmentsCheck(rel)}, nil
}

// refuseSend returns a 409 problem naming the checks that are errors for
// a draft about to be sent, and nil when none is (or when rel is no draft:
// sending a release already on its way changes nothing, and stays
// idempotent). created says that rel was created by this very request.
func (s *Server) refuseSend(ctx context.Context, rel *dispatcher.Release, created bool) error {
	if rel.Status != dispatcher.ReleaseDraft {
		return nil
	}
	checks, err := s.sendChecks(ctx, rel)
	if err != nil && created {
		// The release is saved: say so, whatever went wrong.
		infoFrom(ctx).err = err
		p := &Problem{Status: http.StatusInternalServerError, ReleaseID: rel.ID,
			Detail: "The release " + rel.ID + " was saved as a draft but could not be checked before sending; send it again with POST /v1/releases/" + rel.ID + "/send."}
		if unavailable(err) {
			p.Status, p.retryAfter = http.StatusServiceUnavailable, retryAfterUnavailable
		}
		return p
	}
	if err != nil {
		return err
	}
	var failed []dispatcher.Check
	var why []string
	for _, c := range checks {
		if c.Level == dispatcher.CheckError {
			failed = append(failed, c)
			why = append(why, c.Name+": "+c.Message)
		}
	}
	if len(failed) == 0 {
		return nil
	}
	p := &Problem{Type: ProblemChecks, Title: "A pre-send check failed", Status: http.StatusConflict, Checks: failed,
		Detail: "The release cannot be sent while a pre-send check is an error. " + strings.Join(why, " ")}
	if created {
		p.ReleaseID = rel.ID
		p.Detail = "The release " + rel.ID + " was saved as a draft but not sent, since a pre-send check is an error. " + strings.Join(why, " ")
	} else {
		p.coded("release.checks_failed")
	}
	return p
}

// refuseSendOf is refuseSend for the release with id; it returns the
// version it checked, which is the only one that may then be sent (see
// Sender.SendVersion).
func (s *Server) refuseSendOf(ctx context.Context, id string) (int, error) {
	rel, err := s.store.Release(ctx, id)
	if err != nil {
		return 0, err
	}
	if err := s.refuseSend(ctx, rel, false); err != nil {
		return 0, err
	}
	return rel.Version, nil
}

// embargoCheck: an embargo, when there is one, is still ahead for a
// release not sent yet. It is shown in the release's time zone.
func (s *Server) embargoCheck(rel *dispatcher.Release) dispatcher.Check {
	c := dispatcher.Check{Name: checkEmbargo, Level: dispatcher.CheckOK}
	var at []any
	if rel.EmbargoUntil != nil {
		t := rel.EmbargoUntil.In(s.releaseLocation(rel))
		at = []any{"at", t.Format(time.RFC3339), "zone", t.Location().String()}
	}
	switch {
	case rel.EmbargoUntil == nil:
		c.Message = "No embargo: every audience gets the release as soon as it is sent."
		c.Notes = []dispatcher.Note{note("embargo.none")}
	case rel.EmbargoUntil.After(s.now()):
		c.Message = "Embargoed until " + s.showTime(rel, *rel.EmbargoUntil) + "."
		c.Notes = []dispatcher.Note{note("embargo.until", at...)}
	case rel.Status == dispatcher.ReleaseDraft:
		c.Level = dispatcher.CheckError
		c.Message = "The embargo, " + s.showTime(rel, *rel.EmbargoUntil) +
			", has already passed: move it to a later time, or remove it, before sending."
		c.Notes = []dispatcher.Note{note("embargo.passed", at...)}
	default:
		c.Message = "The embargo lifted on " + s.showTime(rel, *rel.EmbargoUntil) + "."
		c.Notes = []dispatcher.Note{note("embargo.lifted", at...)}
	}
	return c
}

// releaseLocation is the release's time zone (the server's when it has
// none, or one this server does not know).
func (s *Server) releaseLocation(rel *dispatcher.Release) *time.Location {
	if rel.Timezone != "" {
		if l, err := time.LoadLocation(rel.Timezone); err == nil {
			return l
		}
	}
	return s.location
}

// showTime formats t for a press officer, in the release's time zone (the
// server's when it has none): "4 February 2026, 10:00 (America/Mexico_City)".
func (s *Server) showTime(rel *dispatcher.Release, t time.Time) string {
	loc := s.releaseLocation(rel)
	return t.In(loc).Format("2 January 2006, 15:04") + " (" + loc.String() + ")"
}

// attachmentsCheck: every attachment is within the limits in force now
// (they may have been lowered since a file was attached) and goes to a
// language the release has. A file over a limit is an error, which refuses
// the send; a file for a language the release no longer has goes to
// nobody, a warning.
func (s *Server) attachmentsCheck(rel *dispatcher.Release) dispatcher.Check {
	c := dispatcher.Check{Name: checkAttachments, Level: dispatcher.CheckOK}
	if len(rel.Attachments) == 0 {
		c.Message = "No attachments."
		c.Notes = []dispatcher.Note{note("attachments.none")}
		return c
	}
	langs := map[string]bool{rel.Language: true}
	for _, t := range rel.Translations {
		langs[t.Language] = true
	}
	var total int64
	var errs, warns []string
	var errNotes, warnNotes []dispatcher.Note
	for _, a := range rel.Attachments {
		total += a.Size
		if a.Size > s.attach.MaxFileBytes {
			errs = append(errs, fmt.Sprintf("%s is %s, over the limit of %s per file.", a.Filename, sizeText(a.Size), sizeText(s.attach.MaxFileBytes)))
			errNotes = append(errNotes, note("attachments.file_too_big", "file", a.Filename, "size", a.Size, "max", s.attach.MaxFileBytes))
		}
		if a.Language != "" && !langs[a.Language] {
			warns = append(warns, fmt.Sprintf("%s is for %s, a language the release has no version in: nobody will get it.", a.Filename, a.Language))
			warnNotes = append(warnNotes, note("attachments.no_language", "file", a.Filename, "lang", a.Language))
		}
	}
	if total > s.attach.MaxReleaseBytes {
		errs = append(errs, fmt.Sprintf("The files add up to %s, over the limit of %s per release.", sizeText(total), sizeText(s.attach.MaxReleaseBytes)))
		errNotes = append(errNotes, note("attachments.too_big", "size", total, "max", s.attach.MaxReleaseBytes))
	}
	files := "files"
	if len(rel.Attachments) == 1 {
		files = "file"
	}
	msg := []string{fmt.Sprintf("%d %s, %s in all.", len(rel.Attachments), files, sizeText(total))}
	c.Notes = []dispatcher.Note{note("attachments.total", "n", len(rel.Attachments), "size", total)}
	switch {
	case len(errs) > 0:
		c.Level = dispatcher.CheckError
		msg = append(msg, errs...)
		c.Notes = append(c.Notes, errNotes...)
	case len(warns) > 0:
		c.Level = dispatcher.CheckWarning
	}
	c.Message = strings.Join(append(msg, warns...), " ")
	c.Notes = append(c.Notes, warnNotes...)
	return c
}

// checkLinks: every web link of every version, and the source URL,
// answers. A link that does not is a warning, never an error: the server
// may have no route to the internet.
func (s *Server) checkLinks(ctx context.Context, rel *dispatcher.Release) dispatcher.Check {
	c := dispatcher.Check{Name: checkLinks, Level: dispatcher.CheckOK}
	var links []string
	texts := []string{rel.Summary, rel.Body}
	for _, t := range rel.Translations {
		texts = append(texts, t.Summary, t.Body)
	}
	for _, t := range texts {
		for _, l := range linkcheck.Links(t) {
			if linkcheck.Web(l) {
				links = append(links, l)
			}
		}
	}
	if rel.SourceURL != "" {
		links = append(links, rel.SourceURL)
	}
	if len(links) == 0 {
		c.Message = "No links in the text."
		c.Notes = []dispatcher.Note{note("links.none")}
		return c
	}
	rep := s.linkChecker.Check(ctx, links)
	var bad []string
	var badNotes []dispatcher.Note
	for _, r := range rep.Results {
		if !r.OK() {
			bad = append(bad, r.URL+" ("+r.Problem()+")")
			badNotes = append(badNotes, linkNote(r))
		}
	}
	checked := len(rep.Results)
	switch {
	case len(bad) > 0:
		c.Level = dispatcher.CheckWarning
		c.Message = fmt.Sprintf("%d of %d %s may be broken: %s. Check %s before sending.",
			len(bad), checked, plural(checked, "link", "links"), strings.Join(bad, "; "), plural(len(bad), "it", "them"))
		c.Notes = []dispatcher.Note{note("links.broken", "n", len(bad), "checked", checked, "links", badNotes)}
	case checked == 1:
		c.Message = "The one link answers."
		c.Notes = []dispatcher.Note{note("links.one_ok")}
	default:
		c.Message = fmt.Sprintf("All %d links answer.", checked)
		c.Notes = []dispatcher.Note{note("links.all_ok", "n", checked)}
	}
	if n := len(rep.Unchecked); n > 0 {
		c.Message += fmt.Sprintf(" %d more %s not checked: only the first %d are.", n, plural(n, "link was", "links were"), checked)
		c.Notes = append(c.Notes, note("links.unchecked", "n", n, "checked", checked))
	}
	return c
}

// linkNote is the note of a link that did not answer well.
func linkNote(r linkcheck.Result) dispatcher.Note {
	if k := r.ProblemKind(); k != "status" {
		return note("links.link_"+k, "url", r.URL)
	}
	return note("links.link_status", "url", r.URL, "status", r.Status)
}

// plural returns one when n is 1, else many.
func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}
