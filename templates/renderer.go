package templates

import (
	"embed"
	"errors"
	"fmt"
	htmltemplate "html/template"
	"regexp"
	"sync"
	texttemplate "text/template"
	"time"

	"github.com/microcosm-cc/bluemonday"
	"github.com/pregon/pregon/dispatcher"
	"github.com/yuin/goldmark"
)

//go:embed default/*.tmpl
var defaultFS embed.FS

// Renderer renders releases for email and Telegram. It holds parsed templates
// and is safe for concurrent use.
type Renderer struct {
	md     goldmark.Markdown
	policy *bluemonday.Policy
	html   *htmltemplate.Template
	text   *texttemplate.Template
	now    func() time.Time
	loc    *time.Location
	about  map[string]string // Markdown by base language; "" for the others
	zones  sync.Map          // time zones loaded, by IANA name
	// readOnline returns the link to a release's page in the newsroom
	// (WithReadOnline), or nil.
	readOnline func(rel *dispatcher.Release, lang string) string
}

// Option configures a Renderer made by New.
type Option func(*Renderer) error

// WithClock sets the clock that dates a dateline when a release has neither
// a date of its own nor an embargo. The default is time.Now. It fails on nil.
func WithClock(now func() time.Time) Option {
	return func(r *Renderer) error {
		if now == nil {
			return errors.New("templates: nil clock")
		}
		r.now = now
		return nil
	}
}

// WithLocation sets the time zone a release's times (its dateline's date,
// its embargo line) are read in when the release names none of its own.
// The default is UTC. It fails on nil.
func WithLocation(loc *time.Location) Option {
	return func(r *Renderer) error {
		if loc == nil {
			return errors.New("templates: nil location")
		}
		r.loc = loc
		return nil
	}
}

// WithAbout sets the organisation's "About" text, in Markdown, for versions
// of a release in lang ("es", "en"; "" for every language without a text of
// its own). It is rendered after the body of every email and Telegram post.
// It fails on a language tag that is not one to three letters.
func WithAbout(lang, markdown string) Option {
	return func(r *Renderer) error {
		if lang != "" && !langTag.MatchString(lang) {
			return fmt.Errorf("templates: about text: bad language %q", lang)
		}
		r.about[baseLanguage(lang)] = clean(markdown)
		return nil
	}
}

// WithReadOnline gives every email (but the embargoed copy, sent before
// the newsroom shows the release) a "read online" link, to link(rel,
// lang): the release's page in the newsroom (newsroom.Permalink). A link
// that is not an http(s) URL is left out. It fails on nil.
func WithReadOnline(link func(rel *dispatcher.Release, lang string) string) Option {
	return func(r *Renderer) error {
		if link == nil {
			return errors.New("templates: nil read-online link")
		}
		r.readOnline = link
		return nil
	}
}

// langTag is a primary language subtag.
var langTag = regexp.MustCompile(`^[A-Za-z]{1,3}$`)

// New returns a Renderer using the embedded default templates. It fails when
// an option fails or those templates do not parse.
func New(opts ...Option) (*Renderer, error) {
	h, err := htmltemplate.New("email.html.tmpl").Funcs(templateFuncs()).ParseFS(defaultFS, "default/email.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: parse email HTML template: %w", err)
	}
	t, err := texttemplate.New("email.txt.tmpl").Funcs(templateFuncs()).ParseFS(defaultFS, "default/email.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: parse email text template: %w", err)
	}
	policy := bluemonday.UGCPolicy()
	// The end mark is the only centred paragraph (raw HTML never reaches
	// the sanitiser).
	policy.AllowStyles("text-align").MatchingEnum("center").OnElements("p")
	r := &Renderer{
		md:     newMarkdown(),
		policy: policy,
		html:   h,
		text:   t,
		now:    time.Now,
		loc:    time.UTC,
		about:  map[string]string{},
	}
	for _, o := range opts {
		if err := o(r); err != nil {
			return nil, err
		}
	}
	return r, nil
}

// Location returns the time zone a release's times are read in when it
// names none of its own (see WithLocation).
func (r *Renderer) Location() *time.Location { return r.loc }

// aboutFor returns the "About" Markdown for a version in lang, or nil.
func (r *Renderer) aboutFor(lang string) []byte {
	s, ok := r.about[baseLanguage(lang)]
	if !ok {
		s = r.about[""]
	}
	if s == "" {
		return nil
	}
	return []byte(s)
}
