package templates

import (
	"net/mail"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// view is one language version of a release, cleaned up for rendering: the
// data every output is made from.
type view struct {
	Lang    string
	Title   string // one line
	Summary string
	Embargo string // the embargo line, or ""
	Contact *contactView
	Source  string // an http or https URL, or ""
	Labels  labels
	body    []byte // Markdown
}

// contactView is the press-contact block; Mailto is "" when Email is not a
// plain address.
type contactView struct {
	Name, Email, Mailto, Phone string
}

// newView picks the version of rel in lang (the translation, or else the
// original) and cleans it up. The labels follow the language of the version
// picked, so that an English text never gets Spanish labels.
func newView(rel *dispatcher.Release, lang string) view {
	ver := rel.Version(lang)
	lab := labelsFor(ver.Language)
	v := view{
		Lang:    baseLanguage(ver.Language),
		Title:   oneLine(ver.Title),
		Summary: strings.TrimSpace(clean(ver.Summary)),
		Embargo: lab.embargo(rel.EmbargoUntil),
		Labels:  lab,
		body:    []byte(clean(ver.Body)),
	}
	if u, ok := webURL(clean(rel.SourceURL)); ok {
		v.Source = u
	}
	if c := rel.Contact; c != nil {
		cv := contactView{Name: oneLine(c.Name), Email: oneLine(c.Email), Phone: oneLine(c.Phone)}
		if a, err := mail.ParseAddress(cv.Email); err == nil && a.Name == "" && a.Address == cv.Email {
			cv.Mailto = "mailto:" + cv.Email
		}
		if cv != (contactView{}) {
			v.Contact = &cv
		}
	}
	return v
}
