package templates

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"

	"github.com/pregon/pregon/dispatcher"
	"github.com/yuin/goldmark/ast"
)

// emailData is what the email templates see. Every field but Body and About
// in the HTML template is plain text, escaped by the template.
type emailData struct {
	view
	Heading string // the text's title, wrapped and underlined
	Body    any    // htmltemplate.HTML (sanitised) for HTML, string for text
	About   any    // the same, or nil
	Refs    string // the text's numbered list of link URLs, or ""
	// Lead is the release's lead image, shown inline at the top of the
	// HTML (issue 10 item 5); nil when it has none.
	Lead *leadImage
}

// leadImage is an image of the email itself: Src is "cid:" and its
// Content-ID (dispatcher.Attachment.ContentID), which the email channel
// gives the image's MIME part.
type leadImage struct {
	Src htmltemplate.URL
	Alt string
}

// Email renders release rel in language lang (rel.Text(lang) picks the
// translation or the original) for email, as everyone but an early list
// gets it: without an embargo line, whatever rel's embargo. It is a
// one-line subject, a plain-text
// version and an HTML version. The Markdown body is rendered to HTML and
// sanitised with bluemonday's UGC policy, so raw HTML, scripts and
// javascript: links never reach the output; images become links, so the HTML
// loads nothing from other hosts. The plain text is wrapped at 72 columns,
// with links as numbered references. It fails only when a template fails to
// execute.
func (r *Renderer) Email(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
	if rel.CorrectionOf != nil {
		return r.correctionEmail(rel, lang) // correction.go
	}
	return r.email(rel, lang, false)
}

// EmbargoedEmail renders rel as Email does, for an early list: under its
// embargo line (in lang, in the release's time zone), which prefixes the
// subject and stands at the top of the plain text and the HTML. For a
// release without an embargo it is Email.
func (r *Renderer) EmbargoedEmail(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
	return r.email(rel, lang, true)
}

func (r *Renderer) email(rel *dispatcher.Release, lang string, embargoed bool) (*dispatcher.EmailContent, error) {
	v := r.view(rel, lang, embargoed)
	doc := r.document(v)
	var about ast.Node
	if v.about != nil {
		about = parse(r.md, v.about)
	}

	hd := emailData{view: v}
	if a := rel.LeadImage(lang); a != nil {
		// The id is ours (letters and digits), so the URL needs no escaping.
		hd.Lead = &leadImage{Src: htmltemplate.URL("cid:" + a.ContentID()), Alt: v.Title}
	}
	var err error
	if hd.Body, err = r.bodyHTML(doc, v.body); err != nil {
		return nil, err
	}
	if about != nil {
		if hd.About, err = r.bodyHTML(about, v.about); err != nil {
			return nil, err
		}
	}
	var html bytes.Buffer
	if err := r.html.Execute(&html, hd); err != nil {
		return nil, fmt.Errorf("templates: execute email HTML template: %w", err)
	}

	var tw textWalker
	td := emailData{view: v, Heading: underlined(v.Title, '=', textWidth), Body: tw.render(doc, v.body)}
	if about != nil {
		td.About = tw.render(about, v.about)
	}
	td.Refs = tw.refs()
	var text bytes.Buffer
	if err := r.text.Execute(&text, td); err != nil {
		return nil, fmt.Errorf("templates: execute email text template: %w", err)
	}
	c := &dispatcher.EmailContent{Subject: v.Title}
	if v.Embargo != "" {
		c.Subject = v.Embargo + ": " + v.Title
	}
	c.Text, c.Unsubscribe.Text = cutUnsubscribe(text.String())
	c.HTML, c.Unsubscribe.HTML = cutUnsubscribe(html.String())
	return c, nil
}

// bodyHTML renders doc, parsed from src, as sanitised HTML: the only HTML
// the template does not escape.
func (r *Renderer) bodyHTML(doc ast.Node, src []byte) (htmltemplate.HTML, error) {
	var body bytes.Buffer
	if err := r.md.Renderer().Render(&body, src, doc); err != nil {
		return "", fmt.Errorf("templates: render body HTML: %w", err)
	}
	return htmltemplate.HTML(bytes.TrimSpace(r.policy.SanitizeBytes(body.Bytes()))), nil
}
