package templates

import (
	"embed"
	"fmt"
	htmltemplate "html/template"
	texttemplate "text/template"

	"github.com/microcosm-cc/bluemonday"
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
}

// New returns a Renderer using the embedded default templates. It fails only
// when those templates do not parse.
func New() (*Renderer, error) {
	h, err := htmltemplate.New("email.html.tmpl").Funcs(templateFuncs()).ParseFS(defaultFS, "default/email.html.tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: parse email HTML template: %w", err)
	}
	t, err := texttemplate.New("email.txt.tmpl").Funcs(templateFuncs()).ParseFS(defaultFS, "default/email.txt.tmpl")
	if err != nil {
		return nil, fmt.Errorf("templates: parse email text template: %w", err)
	}
	return &Renderer{
		md:     newMarkdown(),
		policy: bluemonday.UGCPolicy(),
		html:   h,
		text:   t,
	}, nil
}
