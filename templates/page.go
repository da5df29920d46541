package templates

import (
	htmltemplate "html/template"

	"github.com/pregon/pregon/dispatcher"
)

// Page is one language version of a release, rendered for a web page (the
// newsroom): the body as sanitised HTML, with its dateline, and the rest
// as plain text for the page's template to escape.
type Page struct {
	Lang    string // the version's base language
	Title   string // one line
	Summary string
	Body    htmltemplate.HTML // sanitised; images are links, raw HTML dropped
	Contact *PageContact      // nil when the release has none
	Source  string            // an http or https URL, or ""
	// ContactLabel and SourceLabel head the press contact block and the
	// source line, in the version's language.
	ContactLabel, SourceLabel string
}

// PageContact is the press contact block of a Page. Mailto is "" when
// Email is not a plain address, Tel "" when Phone is not a plain number.
type PageContact struct {
	Name, Email, Mailto, Phone string
	Tel                        htmltemplate.URL
}

// Page renders the version of rel in lang (the translation, or else the
// original) for a web page: never with the embargo line. It fails only
// when the Markdown renderer fails.
func (r *Renderer) Page(rel *dispatcher.Release, lang string) (*Page, error) {
	v := r.view(rel, lang, false)
	body, err := r.bodyHTML(r.document(v), v.body)
	if err != nil {
		return nil, err
	}
	p := &Page{Lang: v.Lang, Title: v.Title, Summary: v.Summary, Body: body, Source: v.Source,
		ContactLabel: v.Labels.Contact, SourceLabel: v.Labels.Source}
	if c := v.Contact; c != nil {
		p.Contact = &PageContact{Name: c.Name, Email: c.Email, Mailto: c.Mailto, Phone: c.Phone, Tel: c.Tel}
	}
	return p, nil
}
