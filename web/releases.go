package web

import (
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// page of a collection, as the API answers it.
type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// releaseView is a release as the pages show it.
type releaseView struct {
	*dispatcher.Release
	Counts map[string]any `json:"counts"`
}

// releasesPage is GET /app/releases: the latest releases and their status,
// below a dashboard (on the first page) of what needs attention now.
func (a *App) releasesPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	var p page[releaseView]
	q := url.Values{"limit": {"50"}}
	if c := r.URL.Query().Get("cursor"); c != "" {
		q.Set("cursor", c)
	}
	if err := a.call(r, s, "GET", "/v1/releases?"+q.Encode(), nil, &p); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d := &releasesData{page: &p}
	if q.Get("cursor") == "" { // dashboard.go
		var err error
		if d.Dash, err = a.dashboard(r, s); err != nil {
			a.failCall(w, r, s, err)
			return
		}
	}
	a.render(w, r, s, http.StatusOK, "releases", language(w, r).T("releases.title"), d)
}

// composeData fills the compose form.
type composeData struct {
	Release  *dispatcher.Release
	Tr       dispatcher.Translation // the side-by-side language version
	Lists    []*dispatcher.List
	Channels []*dispatcher.TelegramChannel
	// Embargo in the release's zone, for the date and time fields.
	EmbargoDate, EmbargoTime string
	Zones                    []string
	Err                      *Problem

	// compose.go: the lists by kind, the release's files and languages,
	// every IANA zone, the bot's followers, what each audience adds, and
	// the preview asked for without JavaScript.
	Press, Subscribers []*dispatcher.List
	Files              []attachmentView
	Langs              []string
	AllZones           []string
	FollowersKept      bool
	FollowerCount      int
	Count              *audienceCount
	Preview, TrPreview *mdPreview
}

func (d *composeData) problem() *Problem { return d.Err }

// Has reports whether id is in ids (for checked boxes).
func (d *composeData) Has(ids []string, id string) bool { return slices.Contains(ids, id) }

// zones offered for an embargo; any IANA name may be typed.
var zones = []string{"America/Mexico_City", "America/Bogota", "America/Lima", "America/Santiago", "America/Argentina/Buenos_Aires",
	"America/Guatemala", "America/New_York", "Europe/Madrid", "UTC"}

func (a *App) composeData(r *http.Request, s *signedIn, rel *dispatcher.Release) (*composeData, error) {
	d := &composeData{Release: rel, Zones: slices.Clone(zones)}
	if len(rel.Translations) > 0 {
		d.Tr = rel.Translations[0]
	}
	var lists page[*dispatcher.List]
	if err := a.call(r, s, "GET", "/v1/lists?limit=200", nil, &lists); err != nil {
		return nil, err
	}
	var chans page[*dispatcher.TelegramChannel]
	if err := a.call(r, s, "GET", "/v1/telegram/channels?limit=200", nil, &chans); err != nil {
		return nil, err
	}
	d.Lists, d.Channels = lists.Items, chans.Items
	if rel.EmbargoUntil != nil {
		loc, err := time.LoadLocation(rel.Timezone)
		if err != nil {
			loc = time.UTC
		}
		t := rel.EmbargoUntil.In(loc)
		d.EmbargoDate, d.EmbargoTime = t.Format("2006-01-02"), t.Format("15:04")
	}
	if err := a.composeExtras(r, s, d); err != nil {
		return nil, err
	}
	return d, nil
}

// newReleasePage is GET /app/releases/new: an empty compose form.
func (a *App) newReleasePage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d, err := a.composeData(r, s, &dispatcher.Release{Language: language(w, r).Code, Timezone: a.deploymentZone()})
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "compose", language(w, r).T("compose.new"), d)
}

// releaseForm reads the compose form into the API's release input (which
// the API validates) and the release to show again when it is refused.
func releaseForm(r *http.Request) (map[string]any, *dispatcher.Release, *Problem) {
	f := func(k string) string { return strings.TrimSpace(r.PostFormValue(k)) }
	rel := &dispatcher.Release{Title: f("title"), Summary: f("summary"), Body: r.PostFormValue("body"), Language: f("language"),
		SourceURL: f("source_url"), Timezone: f("timezone"),
		Audiences: dispatcher.Audiences{Lists: r.PostForm["lists"], EarlyLists: r.PostForm["early_lists"], TelegramChannels: r.PostForm["channels"],
			TelegramFollowers: f("followers") != ""}}
	in := map[string]any{"title": rel.Title, "summary": rel.Summary, "body": rel.Body, "language": rel.Language,
		"source_url": rel.SourceURL, "timezone": rel.Timezone}
	trs := []dispatcher.Translation{}
	if tr := (dispatcher.Translation{Language: f("tr_language"), Title: f("tr_title"), Summary: f("tr_summary"), Body: r.PostFormValue("tr_body")}); tr.Language != "" || tr.Title != "" || strings.TrimSpace(tr.Body) != "" {
		trs = append(trs, tr)
	}
	rel.Translations, in["translations"] = trs, trs
	if c := (dispatcher.PressContact{Name: f("contact_name"), Email: f("contact_email"), Phone: f("contact_phone")}); c != (dispatcher.PressContact{}) {
		rel.Contact, in["contact"] = &c, c
	} else {
		in["contact"] = nil
	}
	aud := rel.Audiences
	for _, p := range []*[]string{&aud.Lists, &aud.EarlyLists, &aud.TelegramChannels} {
		if *p == nil {
			*p = []string{}
		}
	}
	rel.Audiences, in["audiences"] = aud, aud
	in["embargo_until"] = nil
	if date, clock := f("embargo_date"), f("embargo_time"); date != "" || clock != "" {
		if clock == "" {
			clock = "00:00"
		}
		loc, err := time.LoadLocation(rel.Timezone)
		if rel.Timezone == "" || err != nil {
			return nil, rel, &Problem{Status: http.StatusBadRequest, Detail: "timezone", Errors: nil}
		}
		t, err := time.ParseInLocation("2006-01-02 15:04", date+" "+clock, loc)
		if err == nil && t.IsZero() {
			err = fmt.Errorf("zero time")
		}
		if err != nil {
			return nil, rel, &Problem{Status: http.StatusBadRequest, Detail: "embargo"}
		}
		rel.EmbargoUntil, in["embargo_until"] = &t, t.UTC().Format(time.RFC3339)
	}
	return in, rel, nil
}

// formProblem turns releaseForm's own refusals into words.
func formProblem(l *Lang, p *Problem) *Problem {
	switch p.Detail {
	case "timezone":
		return &Problem{Status: p.Status, Detail: l.T("compose.bad_zone")}
	case "embargo":
		return &Problem{Status: p.Status, Detail: l.T("compose.bad_embargo")}
	}
	return p
}

// createRelease is POST /app/releases: it saves a draft (POST /v1/releases).
func (a *App) createRelease(w http.ResponseWriter, r *http.Request, s *signedIn) {
	defer removeForm(r)
	in, rel, p := releaseForm(r)
	if action, _ := composeAction(r); action == "preview" && p == nil {
		a.previewAgain(w, r, s, rel, "compose.new")
		return
	}
	var created dispatcher.Release
	if p == nil {
		if err := a.call(r, s, "POST", "/v1/releases", in, &created); err != nil {
			var ok bool
			if p, ok = err.(*Problem); !ok {
				a.failCall(w, r, s, err)
				return
			}
		}
	}
	if p != nil {
		a.composeAgain(w, r, s, rel, formProblem(language(w, r), p), "compose.new")
		return
	}
	a.afterSave(w, r, s, created.ID)
}

func (a *App) composeAgain(w http.ResponseWriter, r *http.Request, s *signedIn, rel *dispatcher.Release, p *Problem, title string) {
	d, err := a.composeData(r, s, rel)
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d.Err = p
	a.render(w, r, s, http.StatusUnprocessableEntity, "compose", language(w, r).T(title), d)
}

// release reads the release of the request's {id}.
func (a *App) release(r *http.Request, s *signedIn) (*releaseView, error) {
	var rel releaseView
	err := a.call(r, s, "GET", "/v1/releases/"+url.PathEscape(r.PathValue("id")), nil, &rel)
	return &rel, err
}

// editReleasePage is GET /app/releases/{id}/edit: the compose form, filled.
func (a *App) editReleasePage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	rel, err := a.release(r, s)
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d, err := a.composeData(r, s, rel.Release)
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "compose", language(w, r).T("compose.edit"), d)
}

// editRelease is POST /app/releases/{id}/edit: PATCH of the version the
// form was made from, so that an edit made meanwhile is never overwritten.
func (a *App) editRelease(w http.ResponseWriter, r *http.Request, s *signedIn) {
	defer removeForm(r)
	id := r.PathValue("id")
	in, rel, p := releaseForm(r)
	rel.ID = id
	fmt.Sscan(formValue(r, "version"), &rel.Version)
	if cur, err := a.release(r, s); err == nil { // the files, which the form does not carry
		rel.Attachments = cur.Attachments
	}
	if action, _ := composeAction(r); action == "preview" && p == nil {
		a.previewAgain(w, r, s, rel, "compose.edit")
		return
	}
	if p == nil {
		var version int
		fmt.Sscan(formValue(r, "version"), &version)
		in["version"] = version
		if err := a.call(r, s, "PATCH", "/v1/releases/"+url.PathEscape(id), in, nil); err != nil {
			var ok bool
			if p, ok = err.(*Problem); !ok {
				a.failCall(w, r, s, err)
				return
			}
		}
	}
	if p != nil {
		a.composeAgain(w, r, s, rel, formProblem(language(w, r), p), "compose.edit")
		return
	}
	a.afterSave(w, r, s, id)
}

// removeForm deletes the temporary files of a multipart form (the server
// does it only for the request it made, not for this one's copies).
func removeForm(r *http.Request) {
	if r.MultipartForm != nil {
		r.MultipartForm.RemoveAll()
	}
}

// releaseData is the release page's.
type releaseData struct {
	Rel             *releaseView
	Checks          []dispatcher.Check
	CanEdit         bool
	RequireApproval bool
	Approved        bool
	Mine            bool
	Coordinator     bool
	// Draft: the checks that block a send are what remains to do, not
	// errors (a draft may lack its text or audience until it is sent).
	Draft bool
	ToDo  bool // a draft with something left to do before it can be sent
	// Test is the test-send form, as typed when it was refused.
	Test *testForm
	Err  *Problem
}

func (d *releaseData) problem() *Problem { return d.Err }

// releasePage is GET /app/releases/{id}: the release, its pre-send checks
// and what can be done with it next.
func (a *App) releasePage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	a.releaseAgain(w, r, s, http.StatusOK, nil, nil)
}

// releaseAgain shows the release page with status; tf, when not nil, is
// the test-send form as typed (with what is wrong in it), and p a refusal
// to show above the page.
func (a *App) releaseAgain(w http.ResponseWriter, r *http.Request, s *signedIn, status int, tf *testForm, p *Problem) {
	rel, err := a.release(r, s)
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	if tf == nil {
		tf = &testForm{Emails: s.user.Email, Language: rel.Language}
	}
	d := &releaseData{Rel: rel, RequireApproval: a.cfg.RequireApproval, Coordinator: s.user.Role.Allows("coordinator"),
		Draft: rel.Status == dispatcher.ReleaseDraft, Test: tf, Err: p}
	d.CanEdit = rel.Status == dispatcher.ReleaseDraft || rel.Status == dispatcher.ReleaseScheduled
	d.Approved = rel.ApprovedBy != "" && rel.ApprovedVersion == rel.Version
	d.Mine = rel.Author == s.user.Actor()
	if d.CanEdit {
		if err := a.call(r, s, "GET", "/v1/releases/"+url.PathEscape(rel.ID)+"/checks", nil, &d.Checks); err != nil {
			a.failCall(w, r, s, err)
			return
		}
	}
	for _, c := range d.Checks {
		d.ToDo = d.ToDo || (d.Draft && c.Level == dispatcher.CheckError)
	}
	a.render(w, r, s, status, "release", rel.Title, d)
}

// previewData is the preview page's.
type previewData struct {
	Rel      *releaseView
	Lang     string
	Langs    []string
	Copy     string
	Early    bool
	Email    struct{ Subject, Text, HTML string }
	Telegram struct{ Messages []string }
	// ToTelegram: a Telegram channel (or the bot's followers) is among
	// the audiences; else the preview says that nothing goes to Telegram.
	ToTelegram bool
	EmailLink  string
	CanEdit    bool // the audiences may still be changed, by this person
}

// previewPage is GET /app/releases/{id}/preview?language=&copy=: the email
// (HTML in a sandboxed frame, and the text) and the Telegram posts, as each
// audience gets them.
func (a *App) previewPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	rel, err := a.release(r, s)
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d := &previewData{Rel: rel, Lang: r.URL.Query().Get("language"), Copy: r.URL.Query().Get("copy")}
	if d.Lang == "" {
		d.Lang = rel.Language
	}
	d.Langs = append(d.Langs, rel.Language)
	for _, t := range rel.Translations {
		d.Langs = append(d.Langs, t.Language)
	}
	d.Early = rel.EmbargoUntil != nil && len(rel.Audiences.EarlyLists) > 0
	if d.Copy != "early" || !d.Early {
		d.Copy = "public"
	}
	q := url.Values{"channel": {"email"}, "language": {d.Lang}, "copy": {d.Copy}}
	base := "/v1/releases/" + url.PathEscape(rel.ID) + "/preview?"
	if err := a.call(r, s, "GET", base+q.Encode(), nil, &d.Email); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d.CanEdit = (rel.Status == dispatcher.ReleaseDraft || rel.Status == dispatcher.ReleaseScheduled) && s.user.Role.Allows("coordinator")
	d.ToTelegram = len(rel.Audiences.TelegramChannels) > 0 || rel.Audiences.TelegramFollowers
	if d.Copy == "public" && d.ToTelegram {
		q.Set("channel", "telegram")
		q.Del("copy")
		if err := a.call(r, s, "GET", base+q.Encode(), nil, &d.Telegram); err != nil {
			a.failCall(w, r, s, err)
			return
		}
	}
	d.EmailLink = "/app/releases/" + url.PathEscape(rel.ID) + "/preview/email?" + url.Values{"language": {d.Lang}, "copy": {d.Copy}}.Encode()
	a.render(w, r, s, http.StatusOK, "preview", language(w, r).T("preview.title"), d)
}

// previewEmail is the email's HTML alone, for the preview's frame: no
// scripts, no forms, its own inline styles, framed only by the app.
func (a *App) previewEmail(w http.ResponseWriter, r *http.Request, s *signedIn) {
	q := url.Values{"channel": {"email"}, "language": {r.URL.Query().Get("language")}, "copy": {r.URL.Query().Get("copy")}}
	var e struct{ HTML string }
	if err := a.call(r, s, "GET", "/v1/releases/"+url.PathEscape(r.PathValue("id"))+"/preview?"+q.Encode(), nil, &e); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	h := w.Header()
	h.Set("Content-Security-Policy", "default-src 'none'; img-src 'self' data: https:; style-src 'unsafe-inline'; frame-ancestors 'self'; sandbox")
	h.Set("X-Frame-Options", "SAMEORIGIN")
	h.Set("Content-Type", "text/html; charset=utf-8")
	fmt.Fprint(w, e.HTML)
}
