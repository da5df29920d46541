package templates

import (
	"strings"
	"time"

	"github.com/yuin/goldmark/ast"
)

// matter is what a release's front matter may say.
type matter struct {
	place string    // where the release is dated, for the dateline
	date  time.Time // the date of the dateline, or zero
}

// frontMatter reads the front matter at the start of a Markdown body: a line
// "---", lines "place: Ciudad de México" and "date: 2026-02-04" (each
// optional), and a closing "---". It returns what it says and the body
// without it. A block with any other line, or a date that is not a date,
// is not front matter: the body comes back whole, as typed.
func frontMatter(body string) (matter, string) {
	rest, ok := strings.CutPrefix(body, "---\n")
	if !ok {
		return matter{}, body
	}
	var m matter
	for {
		line, after, found := strings.Cut(rest, "\n")
		if strings.TrimSpace(line) == "---" {
			return m, strings.TrimLeft(after, "\n")
		}
		if !found {
			return matter{}, body
		}
		key, value, ok := strings.Cut(line, ":")
		value = oneLine(value)
		switch strings.ToLower(strings.TrimSpace(key)) {
		case "place":
			m.place = value
		case "date":
			d, err := time.Parse(time.DateOnly, value)
			if err != nil {
				return matter{}, body
			}
			m.date = d
		default:
			ok = false
		}
		if !ok {
			return matter{}, body
		}
		rest = after
	}
}

// document parses the body of v and puts its dateline, in bold and followed
// by a dash, at the start of the first paragraph, or in a paragraph of its
// own when the body starts with something else.
func (r *Renderer) document(v view) ast.Node {
	doc := parse(r.md, v.body)
	if v.Dateline == "" {
		return doc
	}
	bold := ast.NewEmphasis(2)
	s := ast.NewString([]byte(v.Dateline))
	s.SetRaw(true) // taken as typed, escaped for HTML by the renderers
	bold.AppendChild(bold, s)
	if p, ok := doc.FirstChild().(*ast.Paragraph); ok {
		dash := ast.NewString([]byte(" — "))
		p.InsertBefore(p, p.FirstChild(), dash)
		p.InsertBefore(p, dash, bold)
		return doc
	}
	p := ast.NewParagraph()
	p.AppendChild(p, bold)
	if first := doc.FirstChild(); first != nil {
		doc.InsertBefore(doc, first, p)
	} else {
		doc.AppendChild(doc, p)
	}
	return doc
}
