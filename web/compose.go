package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"html/template"
	"io"
	"mime/multipart"
	"net/http"
	"net/textproto"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/templates"
)

// The compose page (issue 14 item 2): files and the lead image, what each
// audience adds, a live Markdown preview, the embargo's zone, and drafts
// saved as they are written. Everything works without JavaScript (one
// form whose buttons save, upload, remove or preview); compose.js adds the
// live preview and counts and the autosave.

// Pager renders a release as its web page, with the Markdown pipeline of
// the emails and the newsroom (goldmark, then bluemonday), and knows the
// deployment's time zone. *templates.Renderer implements it.
type Pager interface {
	Page(rel *dispatcher.Release, lang string) (*templates.Page, error)
	Location() *time.Location
}

// maxComposeBytes is how large the compose form may be: its text and one
// file (the API holds the file to its own limit, PREGON_ATTACHMENT_MAX_BYTES).
const maxComposeBytes = 64<<20 + maxFormBytes

// composeDefaults fills in the renderer when Config has none.
func (a *App) composeDefaults() error {
	if a.cfg.Renderer != nil {
		return nil
	}
	r, err := templates.New()
	if err != nil {
		return fmt.Errorf("web: default renderer: %w", err)
	}
	a.cfg.Renderer = r
	return nil
}

// composeRoutes registers the compose page's own endpoints.
func (a *App) composeRoutes(mux *http.ServeMux) {
	mux.Handle("POST /app/releases/autosave", a.person(auth.RoleCoordinator, a.autosave))
	mux.Handle("POST /app/releases/{id}/autosave", a.person(auth.RoleCoordinator, a.autosave))
	mux.Handle("POST /app/markdown", a.person(auth.RoleCoordinator, a.markdown))
	mux.Handle("GET /app/audiences/count", a.person(auth.RoleCoordinator, a.audienceCount))
}

// deploymentZone is the zone a new release's embargo is read in.
func (a *App) deploymentZone() string {
	if loc := a.cfg.Renderer.Location(); loc != nil && loc.String() != "" && loc.String() != "Local" {
		return loc.String()
	}
	return "UTC"
}

// audienceItem is what one audience adds, in the API's count.
type audienceItem struct {
	Audience    string `json:"audience"`
	ID          string `json:"id"`
	Adds        int    `json:"adds"`
	Duplicates  int    `json:"duplicates"`
	Suppressed  int    `json:"suppressed"`
	Unavailable bool   `json:"unavailable"`
}

// audienceCount is the API's POST /v1/audiences/count answer.
type audienceCount struct {
	Items      []audienceItem `json:"items"`
	Total      int            `json:"total"`
	Emails     int            `json:"emails"`
	Channels   int            `json:"channels"`
	Followers  int            `json:"followers"`
	Duplicates int            `json:"duplicates"`
	Suppressed int            `json:"suppressed"`
	Capped     bool           `json:"capped"`
}

// countsFor asks the API what aud's audiences add.
func (a *App) countsFor(r *http.Request, s *signedIn, aud dispatcher.Audiences) (*audienceCount, error) {
	var c audienceCount
	if err := a.call(r, s, "POST", "/v1/audiences/count", aud, &c); err != nil {
		return nil, err
	}
	return &c, nil
}

// audienceCount is GET /app/audiences/count?lists=&early_lists=&channels=&followers=:
// the API's count for the boxes ticked, for compose.js.
func (a *App) audienceCount(w http.ResponseWriter, r *http.Request, s *signedIn) {
	q := r.URL.Query()
	aud := dispatcher.Audiences{Lists: nonNil(q["lists"]), EarlyLists: nonNil(q["early_lists"]),
		TelegramChannels: nonNil(q["channels"]), TelegramFollowers: q.Get("followers") != ""}
	c, err := a.countsFor(r, s, aud)
	if err != nil {
		writeProblemJSON(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(c)
}

func nonNil(s []string) []string {
	if s == nil {
		return []string{}
	}
	return s
}

// writeProblemJSON answers compose.js with the API's problem (or a 500).
func writeProblemJSON(w http.ResponseWriter, r *http.Request, err error) {
	p, ok := err.(*Problem)
	if !ok {
		p = &Problem{Status: http.StatusInternalServerError, Detail: language(w, r).T("error.500")}
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(p.Status)
	json.NewEncoder(w).Encode(p)
}

// mdPreview is one language version's preview.
type mdPreview struct {
	Lang, Title, Summary string
	Body                 template.HTML
}

// renderPreview renders a version's Markdown as the newsroom page shows it.
func (a *App) renderPreview(lang, title, summary, body, zone string) (*mdPreview, error) {
	rel := &dispatcher.Release{Language: lang, Title: title, Summary: summary, Body: body, Timezone: zone}
	p, err := a.cfg.Renderer.Page(rel, lang)
	if err != nil {
		return nil, err
	}
	return &mdPreview{Lang: lang, Title: p.Title, Summary: p.Summary, Body: p.Body}, nil
}

// markdown is POST /app/markdown (title, summary, body, language): the
// version rendered, as an HTML fragment for compose.js's live preview.
func (a *App) markdown(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f := func(k string) string { return formValue(r, k) }
	p, err := a.renderPreview(strings.TrimSpace(f("language")), strings.TrimSpace(f("title")), strings.TrimSpace(f("summary")), f("body"), "")
	if err != nil {
		a.log.ErrorContext(r.Context(), "markdown preview", "error", err)
		http.Error(w, language(w, r).T("error.500"), http.StatusInternalServerError)
		return
	}
	var buf bytes.Buffer
	if err := a.pages["compose"].ExecuteTemplate(&buf, "mdpreview", p); err != nil {
		a.log.ErrorContext(r.Context(), "markdown preview", "error", err)
		http.Error(w, language(w, r).T("error.500"), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Write(buf.Bytes())
}

// saved is the autosave's answer.
type saved struct {
	ID      string `json:"id"`
	Version int    `json:"version"`
	Edit    string `json:"edit"`
}

// autosave is POST /app/releases/autosave and POST /app/releases/{id}/autosave:
// the compose form saved as it is written (compose.js), a new draft the
// first time, then PATCH of the version the page holds: when someone else
// saved another version meanwhile, the API's 409 is answered and nothing
// is overwritten. It answers JSON: saved, or the problem.
func (a *App) autosave(w http.ResponseWriter, r *http.Request, s *signedIn) {
	in, _, p := releaseForm(r)
	if p != nil {
		writeProblemJSON(w, r, formProblem(language(w, r), p))
		return
	}
	id := r.PathValue("id")
	var rel dispatcher.Release
	var err error
	if id == "" {
		err = a.call(r, s, "POST", "/v1/releases", in, &rel)
	} else {
		var version int
		if _, perr := parseInt(formValue(r, "version"), &version); perr != nil {
			writeProblemJSON(w, r, &Problem{Status: http.StatusBadRequest, Detail: "version"})
			return
		}
		in["version"] = version
		err = a.call(r, s, "PATCH", "/v1/releases/"+url.PathEscape(id), in, &rel)
	}
	if err != nil {
		if pr, ok := err.(*Problem); ok && pr.Status == http.StatusConflict {
			pr.Detail = language(w, r).T("compose.conflict") + " " + pr.Detail
		}
		writeProblemJSON(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	json.NewEncoder(w).Encode(saved{ID: rel.ID, Version: rel.Version, Edit: "/app/releases/" + url.PathEscape(rel.ID) + "/edit"})
}

// composeAction is what a button of the compose form asked for, besides
// saving: "preview" (nothing saved), "upload", "remove" or "" (save).
func composeAction(r *http.Request) (action, arg string) {
	if id := formValue(r, "remove"); id != "" {
		return "remove", id
	}
	return formValue(r, "action"), ""
}

// uploaded is the file chosen in the compose form, if any.
func uploaded(r *http.Request) *multipart.FileHeader {
	if r.MultipartForm == nil {
		return nil
	}
	for _, fh := range r.MultipartForm.File["file"] {
		if fh.Size > 0 && fh.Filename != "" {
			return fh
		}
	}
	return nil
}

// attach sends the file chosen to the API's attachments endpoint, with
// the role and language chosen.
func (a *App) attach(r *http.Request, s *signedIn, id string, fh *multipart.FileHeader) error {
	f, err := fh.Open()
	if err != nil {
		return fmt.Errorf("open the upload: %w", err)
	}
	defer f.Close()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for _, k := range []string{"role", "language"} {
		if v := strings.TrimSpace(formValue(r, "file_"+k)); v != "" {
			if err := mw.WriteField(k, v); err != nil {
				return err
			}
		}
	}
	h := textproto.MIMEHeader{}
	h.Set("Content-Disposition", fileDisposition("file", fh.Filename))
	h.Set("Content-Type", "application/octet-stream")
	part, err := mw.CreatePart(h)
	if err != nil {
		return err
	}
	if _, err := io.Copy(part, f); err != nil {
		return fmt.Errorf("read the upload: %w", err)
	}
	if err := mw.Close(); err != nil {
		return err
	}
	return a.callRaw(r, s, "POST", "/v1/releases/"+url.PathEscape(id)+"/attachments", mw.FormDataContentType(), &body, nil)
}

// fileDisposition is a form-data Content-Disposition for a file, its name quoted as
// mime/multipart quotes it.
func fileDisposition(field, filename string) string {
	q := strings.NewReplacer("\\", "\\\\", `"`, "\\\"", "\r", "", "\n", "")
	return fmt.Sprintf(`form-data; name="%s"; filename="%s"`, field, q.Replace(filename))
}

// afterSave does what the button asked for once the draft is saved as
// release id: upload the file chosen, remove a file; then the release page
// (Save) or the compose page again (the others). A refusal shows the
// compose page of the release as saved, with the problem.
func (a *App) afterSave(w http.ResponseWriter, r *http.Request, s *signedIn, id string) {
	action, arg := composeAction(r)
	done := "saved"
	var err error
	if fh := uploaded(r); fh != nil {
		err, done = a.attach(r, s, id, fh), "uploaded"
	} else if action == "upload" {
		err = &Problem{Status: http.StatusBadRequest, Detail: language(w, r).T("compose.nofile")}
	}
	if err == nil && action == "remove" {
		err, done = a.call(r, s, "DELETE", "/v1/releases/"+url.PathEscape(id)+"/attachments/"+url.PathEscape(arg), nil, nil), "file_removed"
	}
	edit := "/app/releases/" + url.PathEscape(id) + "/edit"
	if err != nil {
		p, ok := err.(*Problem)
		if !ok {
			a.failCall(w, r, s, err)
			return
		}
		var rel releaseView
		if err := a.call(r, s, "GET", "/v1/releases/"+url.PathEscape(id), nil, &rel); err != nil {
			a.failCall(w, r, s, err)
			return
		}
		a.composeAgain(w, r, s, rel.Release, p, "compose.edit")
		return
	}
	if action == "" || action == "save" {
		http.Redirect(w, r, "/app/releases/"+url.PathEscape(id)+"?done="+done, http.StatusSeeOther)
		return
	}
	http.Redirect(w, r, edit+"?done="+done+"#files", http.StatusSeeOther)
}

// previewAgain shows the compose form as sent, with each version's text
// rendered beside it: the Preview button without JavaScript. Nothing is
// saved.
func (a *App) previewAgain(w http.ResponseWriter, r *http.Request, s *signedIn, rel *dispatcher.Release, title string) {
	d, err := a.composeData(r, s, rel)
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	if d.Preview, err = a.renderPreview(rel.Language, rel.Title, rel.Summary, rel.Body, rel.Timezone); err == nil && d.Tr.Language != "" {
		d.TrPreview, err = a.renderPreview(d.Tr.Language, d.Tr.Title, d.Tr.Summary, d.Tr.Body, rel.Timezone)
	}
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "compose", language(w, r).T(title), d)
}

// attachmentView is a file of the release as the compose page lists it.
type attachmentView struct {
	dispatcher.Attachment
	Size string
	Type string
}

// fileSize writes n bytes for people.
func fileSize(n int64) string {
	switch {
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.0f kB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}

// fileType names a file's type for people.
func fileType(ctype string) string {
	switch ctype {
	case "application/pdf":
		return "PDF"
	case "image/jpeg":
		return "JPEG"
	case "image/png":
		return "PNG"
	case "image/webp":
		return "WebP"
	}
	return ctype
}

// composeExtras fills what the compose page shows besides the release:
// the lists by kind, the files, the zones, what each audience adds.
func (a *App) composeExtras(r *http.Request, s *signedIn, d *composeData) error {
	rel := d.Release
	for _, l := range d.Lists {
		if l.Kind == dispatcher.ListPress {
			d.Press = append(d.Press, l)
		} else {
			d.Subscribers = append(d.Subscribers, l)
		}
	}
	for _, at := range rel.Attachments {
		d.Files = append(d.Files, attachmentView{Attachment: at, Size: fileSize(at.Size), Type: fileType(at.ContentType)})
	}
	d.Langs = []string{rel.Language}
	for _, t := range rel.Translations {
		d.Langs = append(d.Langs, t.Language)
	}
	if rel.Timezone == "" {
		rel.Timezone = a.deploymentZone()
	}
	d.AllZones = ianaZones
	if !slices.Contains(d.Zones, rel.Timezone) && !slices.Contains(ianaZones, rel.Timezone) {
		d.Zones = append([]string{rel.Timezone}, d.Zones...)
	}
	var f struct {
		Count int `json:"count"`
	}
	if err := a.call(r, s, "GET", "/v1/telegram/followers?limit=1", nil, &f); err == nil {
		d.FollowersKept, d.FollowerCount = true, f.Count
	}
	aud := rel.Audiences
	if aud.None() { // a draft saved before its audience: nobody yet
		d.Count = &audienceCount{Items: []audienceItem{}}
	} else {
		c, err := a.countsFor(r, s, aud)
		if err != nil {
			if _, ok := err.(*Problem); !ok {
				return err
			}
		}
		d.Count = c
	}
	return nil
}

// AddsText says what the audience (lists, early_lists, telegram_channels,
// telegram_followers) id adds, for the template: "" when not counted.
func (d *composeData) AddsText(l *Lang, audience, id string) string {
	if d.Count == nil {
		return ""
	}
	for _, it := range d.Count.Items {
		if it.Audience == audience && it.ID == id {
			if it.Unavailable {
				return l.T("compose.inactive")
			}
			return l.T("compose.adds", it.Adds)
		}
	}
	return ""
}
