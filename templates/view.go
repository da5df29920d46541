package templates

import (
	htmltemplate "html/template"
	"net/mail"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// view is one language version of a release, cleaned up for rendering: the
// data every output is made from.
type view struct {
	Lang     string
	Title    string // one line
	Summary  string
	Embargo  string // the embargo line, or ""
	Dateline string // e.g. "MEXICO CITY, 4 February 2026.", or ""
	Contact  *contactView
	Source   string // an http or https URL, or ""
	Online   string // the release's page in the newsroom (WithReadOnline), or ""
	Labels   labels
	body     []byte // Markdown, without its front matter
	about    []byte // the organisation's "About" Markdown, or nil
}

// contactView is the press-contact block; Mailto is "" when Email is not a
// plain address, Tel "" when Phone is not a plain phone number.
type contactView struct {
	Name, Email, Mailto, Phone string
	Tel                        htmltemplate.URL
}

// view picks the version of rel in lang (the translation, or else the
// original) and cleans it up. The labels follow the language of the version
// picked, so that an English text never gets Spanish labels. The embargo
// line is there only when embargoed is set (the copy for an early list) and
// rel has an embargo; times are read in the release's time zone.
func (r *Renderer) view(rel *dispatcher.Release, lang string, embargoed bool) view {
	ver := rel.Text(lang)
	lab := labelsFor(ver.Language)
	fm, body := frontMatter(clean(ver.Body))
	z := r.zone(rel)
	v := view{
		Lang:    baseLanguage(ver.Language),
		Title:   oneLine(ver.Title),
		Summary: strings.TrimSpace(clean(ver.Summary)),
		Labels:  lab,
		body:    []byte(body),
		about:   r.aboutFor(ver.Language),
	}
	if embargoed {
		v.Embargo = lab.embargo(rel.EmbargoUntil, z)
	}
	if fm.place != "" {
		day := r.now().In(z.loc)
		switch {
		case !fm.date.IsZero():
			day = fm.date
		case rel.EmbargoUntil != nil:
			day = rel.EmbargoUntil.In(z.loc)
		}
		v.Dateline = lab.dateline(fm.place, day)
	}
	if u, ok := webURL(clean(rel.SourceURL)); ok {
		v.Source = u
	}
	// The newsroom shows a release from its lift: no link in the copy
	// sent before it.
	if r.readOnline != nil && !embargoed {
		if u, ok := webURL(r.readOnline(rel, lang)); ok {
			v.Online = u
		}
	}
	if c := rel.Contact; c != nil {
		cv := contactView{Name: oneLine(c.Name), Email: oneLine(c.Email), Phone: oneLine(c.Phone)}
		if a, err := mail.ParseAddress(cv.Email); err == nil && a.Name == "" && a.Address == cv.Email {
			cv.Mailto = "mailto:" + cv.Email
		}
		cv.Tel = telURL(cv.Phone)
		if cv != (contactView{}) {
			v.Contact = &cv
		}
	}
	return v
}

// zone is a time zone and the name it is shown by.
type zone struct {
	loc  *time.Location
	name string
}

// zone returns the release's time zone, or the renderer's when the release
// names none (or one this machine does not know: the API refuses those, so
// only a release stored before would have one).
func (r *Renderer) zone(rel *dispatcher.Release) zone {
	if name := strings.TrimSpace(rel.Timezone); name != "" {
		if loc, ok := r.zones.Load(name); ok {
			return zone{loc.(*time.Location), name}
		}
		if loc, err := time.LoadLocation(name); err == nil {
			r.zones.Store(name, loc)
			return zone{loc, name}
		}
	}
	return zone{r.loc, r.loc.String()}
}

// telURL returns a tel: URL for a phone number written with digits, spaces,
// dots, hyphens, parentheses and an optional leading "+", or "" for anything
// else (an extension, letters, too few or too many digits).
func telURL(phone string) htmltemplate.URL {
	var digits strings.Builder
	for i, r := range phone {
		switch {
		case r >= '0' && r <= '9':
			digits.WriteRune(r)
		case r == '+' && i == 0:
			digits.WriteRune(r)
		case r == ' ' || r == '\u00a0' || r == '.' || r == '-' || r == '(' || r == ')' || r == '/':
		default:
			return ""
		}
	}
	n := len(strings.TrimPrefix(digits.String(), "+"))
	if n < 3 || n > 17 {
		return ""
	}
	// Only digits and a "+" are left: nothing that needs escaping.
	return htmltemplate.URL("tel:" + digits.String())
}
