package newsroom

import (
	"bytes"
	"errors"
	"fmt"
	"html/template"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
)

// pageData is what every page template gets.
type pageData struct {
	Site        *Config
	Lang        string
	L           labels
	Title       string // of the page
	Description string
	Canonical   string // absolute URL of the page ("" for an error page)
	Feeds       []link // the language's feeds
	Alternates  []link // the other language versions of the page
	Status      int    // of an error page
	Home        string // the language's index
	// The index:
	Items []item
	Older string // URL of the next page, or ""
	// A release:
	Release     *templates.Page
	Published   time.Time
	Updated     time.Time // zero when never corrected
	Retracted   bool
	Corrections []correction
	// Its files (attachments.go; issue 10 item 5): the lead image's URL
	// ("" when none), the other files, and their heading.
	LeadImage  string
	Files      []fileLink
	FilesLabel string
}

type link struct {
	Lang, Href, Type, Title string
	// TypeAttr is type="Type", written as is: html/template would escape
	// the "+" of application/rss+xml, which feed finders may not decode.
	TypeAttr template.HTMLAttr
}

type item struct {
	Title, Summary, URL string
	Published           time.Time
	Retracted           bool
}

type correction struct {
	At         time.Time
	Note       string
	Retraction bool
}

var funcs = template.FuncMap{
	"date":     formatDate,
	"isoTime":  func(t time.Time) string { return t.UTC().Format(time.RFC3339) },
	"langName": languageName,
}

// formatDate writes a day as a reader of lang writes it.
func formatDate(t time.Time, lang string) string {
	t = t.UTC()
	if lang == "es" {
		return strconv.Itoa(t.Day()) + " de " + monthNamesES[t.Month()-1] + " de " + strconv.Itoa(t.Year())
	}
	return t.Format("2 January 2006")
}

func (h *Handler) pageData(lang string) *pageData {
	d := &pageData{Site: &h.cfg, Lang: lang, L: labelsFor(lang), Home: h.base + "/news/" + lang + "/"}
	for _, f := range []struct{ file, typ, name string }{
		{"rss.xml", "application/rss+xml", "RSS"},
		{"atom.xml", "application/atom+xml", "Atom"},
		{"feed.json", "application/feed+json", "JSON Feed"},
	} {
		d.Feeds = append(d.Feeds, link{Lang: lang, Href: h.base + "/news/" + lang + "/" + f.file, Type: f.typ,
			TypeAttr: template.HTMLAttr(`type="` + f.typ + `"`), // constants above
			Title:    h.cfg.Name + " (" + f.name + ")"})
	}
	return d
}

// url returns the absolute URL of a release's version at path "yyyy/mm/slug".
func (h *Handler) url(lang, path string) string {
	return h.base + "/news/" + lang + "/" + path
}

// index serves a page of the language's index, newest first.
func (h *Handler) index(w http.ResponseWriter, r *http.Request, lang string) error {
	cursor := r.URL.Query().Get("before")
	es, next, err := h.store.NewsPage(r.Context(), lang, h.now(), cursor, h.cfg.PageSize, false)
	if errors.Is(err, store.ErrNewsCursor) {
		return badRequest("bad page cursor")
	}
	if err != nil {
		return err
	}
	d := h.pageData(lang)
	d.Title = h.cfg.Name
	d.Description = d.L.Latest
	d.Canonical = h.base + "/news/" + lang + "/"
	if cursor != "" {
		d.Canonical += "?before=" + url.QueryEscape(cursor)
	}
	for _, l := range h.cfg.Languages {
		if l != lang {
			d.Alternates = append(d.Alternates, link{Lang: l, Href: h.base + "/news/" + l + "/"})
		}
	}
	var modified time.Time
	for _, e := range es {
		t := e.Release.Text(lang)
		d.Items = append(d.Items, item{Title: t.Title, Summary: t.Summary, URL: h.url(lang, e.Paths[lang]),
			Published: e.PublishedAt, Retracted: e.Retracted})
		if m := e.Modified(); m.After(modified) {
			modified = m
		}
	}
	if next != "" {
		d.Older = "/news/" + lang + "/?before=" + url.QueryEscape(next)
	}
	return h.writePage(w, r, "index.html.tmpl", d, modified)
}

// release serves one release's version in lang.
func (h *Handler) release(w http.ResponseWriter, r *http.Request, lang, yyyy, mm, slug string) error {
	ctx := r.Context()
	var e *store.NewsEntry
	var err error
	byID := false
	if len(slug) > 4 && slug[:4] == "rel_" {
		e, err = h.store.NewsEntry(ctx, slug) // a permalink made before the slug (Permalink)
		byID = true
	} else {
		e, err = h.store.NewsEntryByPath(ctx, lang, yyyy+"/"+mm+"/"+slug)
	}
	if err != nil {
		return err
	}
	if !e.Release.PublicAt(h.now()) || e.Paths[lang] == "" {
		return errNotFound
	}
	if byID || e.Paths[lang] != yyyy+"/"+mm+"/"+slug {
		w.Header().Set("Cache-Control", maxAge)
		http.Redirect(w, r, h.url(lang, e.Paths[lang]), http.StatusMovedPermanently)
		return nil
	}
	page, err := h.render.Page(e.Release, lang)
	if err != nil {
		return err
	}
	d := h.pageData(lang)
	d.Title, d.Description, d.Canonical = page.Title, page.Summary, h.url(lang, e.Paths[lang])
	d.Release, d.Published, d.Updated, d.Retracted = page, e.PublishedAt, e.Updated, e.Retracted
	d.LeadImage, d.Files = h.files(e, lang) // attachments.go
	d.FilesLabel = filesLabel(lang)
	for _, l := range e.Release.Languages() {
		if l != lang && e.Paths[l] != "" && h.hasLanguage(l) {
			d.Alternates = append(d.Alternates, link{Lang: l, Href: h.url(l, e.Paths[l]), Title: e.Release.Text(l).Title})
		}
	}
	if !e.Updated.IsZero() {
		cs, err := h.store.Corrections(ctx, e.Release.ID)
		if err != nil {
			return err
		}
		for _, c := range cs {
			if c.CorrectionOf == nil {
				continue
			}
			d.Corrections = append(d.Corrections, correction{At: c.CreatedAt, Note: c.CorrectionOf.Note, Retraction: c.CorrectionOf.Retraction})
		}
	}
	return h.writePage(w, r, "release.html.tmpl", d, e.Modified())
}

func (h *Handler) writePage(w http.ResponseWriter, r *http.Request, name string, d *pageData, modified time.Time) error {
	var buf bytes.Buffer
	if err := h.pages[name].Execute(&buf, d); err != nil {
		return fmt.Errorf("newsroom: execute %s: %w", name, err)
	}
	writeCached(w, r, "text/html; charset=utf-8", buf.Bytes(), modified, maxAge)
	return nil
}

func (h *Handler) serveStyle(w http.ResponseWriter, r *http.Request) error {
	writeCached(w, r, "text/css; charset=utf-8", h.style, time.Time{}, "public, max-age=3600")
	return nil
}

// robots serves /robots.txt: the newsroom may be crawled, nothing else.
func (h *Handler) robots(w http.ResponseWriter, r *http.Request) error {
	body := "User-agent: *\nAllow: /news/\nDisallow: /\n\nSitemap: " + h.base + "/news/sitemap.xml\n"
	writeCached(w, r, "text/plain; charset=utf-8", []byte(body), time.Time{}, "public, max-age=3600")
	return nil
}

// Permalink returns the permanent link to release rel's version in lang
// under baseURL (PREGON_PUBLIC_URL): baseURL/news/LANG/YYYY/MM/ID, which
// answers with a redirect to the version's page (its slug) once the release
// is public, and 404 before. It needs no storage, so a message can carry it
// before the slug is made; "" when rel is not to be published.
func Permalink(baseURL string, rel *dispatcher.Release, lang string) string {
	at, ok := rel.PublishedAt()
	if !ok || rel.ID == "" {
		return ""
	}
	lang = rel.Text(lang).Language
	return fmt.Sprintf("%s/news/%s/%s/%s", trimSlash(baseURL), url.PathEscape(lang), at.UTC().Format("2006/01"), rel.ID)
}

func trimSlash(s string) string {
	for len(s) > 0 && s[len(s)-1] == '/' {
		s = s[:len(s)-1]
	}
	return s
}
