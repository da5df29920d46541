// Package newsroom serves the public newsroom: every published release on
// its own page in each of its languages, an index per language, RSS 2.0,
// Atom and JSON Feed 1.1 feeds, a sitemap and robots.txt. Pages are
// server-rendered with html/template from embedded templates (which an
// operator may override from a folder) and need no JavaScript, fonts or
// anything else from another host.
//
// A release is public from its publication time (see
// dispatcher.Release.PublishedAt): before it, and for a draft or a
// cancelled release, every URL answers 404 as for a release that does not
// exist.
package newsroom

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
)

//go:embed assets
var assetsFS embed.FS

// Store is what the newsroom reads: the index of published releases
// (store.Store implements it).
type Store interface {
	NewsPage(ctx context.Context, lang string, now time.Time, cursor string, limit int, full bool) ([]*store.NewsEntry, string, error)
	NewsEntryByPath(ctx context.Context, lang, path string) (*store.NewsEntry, error)
	NewsEntry(ctx context.Context, id string) (*store.NewsEntry, error)
	Corrections(ctx context.Context, rid string) ([]*dispatcher.Release, error)
}

// Renderer renders a release's text for a page (templates.Renderer).
type Renderer interface {
	Page(rel *dispatcher.Release, lang string) (*templates.Page, error)
}

// Handler serves /news/ and /robots.txt. It is safe for concurrent use.
type Handler struct {
	cfg    Config
	base   string // public base URL, without a trailing slash
	store  Store
	render Renderer
	now    func() time.Time
	log    *slog.Logger
	pages  map[string]*template.Template // by page template name
	style  []byte                        // style.css and the configured colours
}

// New returns the newsroom's handler, with absolute links under baseURL
// (PREGON_PUBLIC_URL). now may be nil (time.Now), log nil (discard). It
// fails when a template does not parse or cfg has no language.
func New(cfg Config, baseURL string, st Store, r Renderer, now func() time.Time, log *slog.Logger) (*Handler, error) {
	if st == nil || r == nil {
		return nil, errors.New("newsroom: a Store and a Renderer are required")
	}
	if len(cfg.Languages) == 0 {
		return nil, errors.New("newsroom: no language configured")
	}
	if cfg.PageSize <= 0 {
		cfg.PageSize = 20
	}
	if cfg.Name == "" {
		cfg.Name = "Newsroom"
	}
	if now == nil {
		now = time.Now
	}
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	h := &Handler{cfg: cfg, base: strings.TrimRight(baseURL, "/"), store: st, render: r, now: now, log: log,
		pages: map[string]*template.Template{}}
	base, err := fs.Sub(assetsFS, "assets")
	if err != nil {
		return nil, fmt.Errorf("newsroom: %w", err)
	}
	fsys := base
	if cfg.TemplatesDir != "" {
		fsys = overlay{top: os.DirFS(cfg.TemplatesDir), base: base}
	}
	for _, name := range []string{"index.html.tmpl", "release.html.tmpl", "notfound.html.tmpl"} {
		t, err := template.New("layout.html.tmpl").Funcs(funcs).ParseFS(fsys, "layout.html.tmpl", name)
		if err != nil {
			return nil, fmt.Errorf("newsroom: parse %s: %w", name, err)
		}
		h.pages[name] = t
	}
	if h.style, err = fs.ReadFile(fsys, "style.css"); err != nil {
		return nil, fmt.Errorf("newsroom: read style.css: %w", err)
	}
	// Validated colours (FromEnv), or the defaults: nothing to escape.
	if colorRe.MatchString(cfg.Accent) && colorRe.MatchString(cfg.Background) {
		h.style = append(h.style, fmt.Sprintf(":root { --accent: %s; --bg: %s; }\n", cfg.Accent, cfg.Background)...)
	}
	return h, nil
}

// overlay is a file system whose files in top replace those in base.
type overlay struct{ top, base fs.FS }

func (o overlay) Open(name string) (fs.File, error) {
	if f, err := o.top.Open(name); err == nil {
		return f, nil
	}
	return o.base.Open(name)
}

// ServeHTTP serves GET and HEAD requests under /news/, and /robots.txt.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	hd := w.Header()
	hd.Set("X-Content-Type-Options", "nosniff")
	hd.Set("Referrer-Policy", "strict-origin-when-cross-origin")
	// No script anywhere; styles from this host (and the sanitised body's
	// centred end mark, its only style attribute); images (the logo) from
	// anywhere.
	hd.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; style-src-attr 'unsafe-inline'; img-src 'self' https: http: data:; base-uri 'none'; form-action 'none'; frame-ancestors 'none'")
	if err := h.serve(w, r); err != nil {
		h.fail(w, r, err)
	}
}

// errNotFound answers 404.
var errNotFound = errors.New("not found")

// badRequest is an error shown to the reader with status 400.
type badRequest string

func (e badRequest) Error() string { return string(e) }

func (h *Handler) serve(w http.ResponseWriter, r *http.Request) error {
	p := r.URL.Path
	if p == "/robots.txt" {
		return h.robots(w, r)
	}
	rest, ok := strings.CutPrefix(p, "/news/")
	if !ok {
		if p == "/news" {
			http.Redirect(w, r, "/news/", http.StatusMovedPermanently)
			return nil
		}
		return errNotFound
	}
	parts := strings.Split(rest, "/")
	switch {
	case rest == "":
		return h.chooseLanguage(w, r)
	case rest == "sitemap.xml":
		return h.sitemap(w, r)
	case rest == "style.css":
		return h.serveStyle(w, r)
	}
	lang := parts[0]
	if !h.hasLanguage(lang) {
		return errNotFound
	}
	switch {
	case len(parts) == 1:
		http.Redirect(w, r, "/news/"+lang+"/", http.StatusMovedPermanently)
		return nil
	case len(parts) == 2 && parts[1] == "":
		return h.index(w, r, lang)
	case len(parts) == 2 && parts[1] == "rss.xml":
		return h.feed(w, r, lang, rssFeed)
	case len(parts) == 2 && parts[1] == "atom.xml":
		return h.feed(w, r, lang, atomFeed)
	case len(parts) == 2 && parts[1] == "feed.json":
		return h.feed(w, r, lang, jsonFeed)
	case len(parts) == 7 && isDigits(parts[1], 4) && isDigits(parts[2], 2) && parts[4] == "files": // attachments.go (issue 10 item 5)
		return h.serveFile(w, r, lang, parts[1]+"/"+parts[2]+"/"+parts[3], parts[5], parts[6])
	case len(parts) == 4 && isDigits(parts[1], 4) && isDigits(parts[2], 2) && parts[3] != "":
		return h.release(w, r, lang, parts[1], parts[2], parts[3])
	}
	return errNotFound
}

func isDigits(s string, n int) bool {
	if len(s) != n {
		return false
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

func (h *Handler) hasLanguage(lang string) bool {
	for _, l := range h.cfg.Languages {
		if l == lang {
			return true
		}
	}
	return false
}

// chooseLanguage sends the reader to the section in the language their
// browser prefers among the configured ones, else the first configured.
func (h *Handler) chooseLanguage(w http.ResponseWriter, r *http.Request) error {
	lang := pickLanguage(r.Header.Get("Accept-Language"), h.cfg.Languages)
	w.Header().Set("Vary", "Accept-Language")
	w.Header().Set("Cache-Control", "public, max-age=300")
	http.Redirect(w, r, "/news/"+lang+"/", http.StatusFound)
	return nil
}

// fail answers err: 404 and 400 as pages, anything else as a 500 page,
// logged.
func (h *Handler) fail(w http.ResponseWriter, r *http.Request, err error) {
	status := http.StatusInternalServerError
	var br badRequest
	switch {
	case errors.Is(err, errNotFound), errors.Is(err, dispatcher.ErrNotFound):
		status = http.StatusNotFound
	case errors.As(err, &br):
		status = http.StatusBadRequest
	default:
		h.log.ErrorContext(r.Context(), "newsroom request failed", "path", r.URL.Path, "error", err)
	}
	w.Header().Set("Cache-Control", "no-cache")
	lang := h.cfg.Languages[0]
	if parts := strings.Split(strings.TrimPrefix(r.URL.Path, "/news/"), "/"); h.hasLanguage(parts[0]) {
		lang = parts[0]
	}
	d := h.pageData(lang)
	d.Status = status
	d.Title = http.StatusText(status)
	var buf strings.Builder
	if err := h.pages["notfound.html.tmpl"].Execute(&buf, d); err != nil {
		h.log.ErrorContext(r.Context(), "newsroom error page failed", "error", err)
		http.Error(w, http.StatusText(status), status)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	if r.Method != http.MethodHead {
		_, _ = w.Write([]byte(buf.String()))
	}
}
