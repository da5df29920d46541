package templates

import (
	"bytes"
	"fmt"
	htmltemplate "html/template"

	"github.com/pregon/pregon/dispatcher"
)

// emailData is what the email templates see. Every field but Body in the
// HTML template is plain text, escaped by the template.
type emailData struct {
	view
	Underline string
	Body      any // htmltemplate.HTML (sanitised) for HTML, string for text
}

// Email renders release rel in language lang (rel.Version(lang) picks the
// translation or the original) for email: a one-line subject, a plain-text
// version and an HTML version. The Markdown body is rendered to HTML and
// sanitised with bluemonday's UGC policy, so raw HTML, scripts and
// javascript: links never reach the output. It fails only when a template
// fails to execute.
func (r *Renderer) Email(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
	v := newView(rel, lang)
	doc := parse(r.md, v.body)

	var body bytes.Buffer
	if err := r.md.Renderer().Render(&body, v.body, doc); err != nil {
		return nil, fmt.Errorf("templates: render body HTML: %w", err)
	}
	safe := bytes.TrimSpace(r.policy.SanitizeBytes(body.Bytes()))

	var html bytes.Buffer
	// The sanitised body is the only HTML the template does not escape.
	if err := r.html.Execute(&html, emailData{view: v, Body: htmltemplate.HTML(safe)}); err != nil {
		return nil, fmt.Errorf("templates: execute email HTML template: %w", err)
	}
	var text bytes.Buffer
	data := emailData{view: v, Underline: underline(v.Title, '='), Body: plainText(doc, v.body)}
	if err := r.text.Execute(&text, data); err != nil {
		return nil, fmt.Errorf("templates: execute email text template: %w", err)
	}
	c := &dispatcher.EmailContent{Subject: v.Title}
	c.Text, c.Unsubscribe.Text = cutUnsubscribe(text.String())
	c.HTML, c.Unsubscribe.HTML = cutUnsubscribe(html.String())
	return c, nil
}
