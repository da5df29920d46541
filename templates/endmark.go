package templates

import (
	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/parser"
	"github.com/yuin/goldmark/renderer"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// endMarkText is the press-release end mark. Typed alone on a line, Markdown
// reads it as an empty third-level heading; the renderers keep it as the end
// mark instead.
const endMarkText = "###"

// endMark is the node that takes the place of an empty third-level heading.
type endMark struct{ ast.BaseBlock }

// kindEndMark is the node kind of endMark.
var kindEndMark = ast.NewNodeKind("PregonEndMark")

// Kind implements ast.Node.
func (*endMark) Kind() ast.NodeKind { return kindEndMark }

// Dump implements ast.Node.
func (n *endMark) Dump(src []byte, level int) { ast.DumpHelper(n, src, level, nil, nil) }

// endMarks replaces every empty third-level heading with an endMark, and
// every image with a link to it, so that an email loads nothing from other
// hosts (and a photo is offered at full size, not shrunk into the text).
type endMarks struct{}

// Transform implements parser.ASTTransformer.
func (endMarks) Transform(doc *ast.Document, _ text.Reader, _ parser.Context) {
	var marks, images []ast.Node
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Heading:
			if n.Level == 3 && !n.HasChildren() {
				marks = append(marks, n)
			}
		case *ast.Image:
			images = append(images, n)
		}
		return ast.WalkContinue, nil
	})
	for _, h := range marks {
		h.Parent().ReplaceChild(h.Parent(), h, &endMark{})
	}
	for _, n := range images {
		img := n.(*ast.Image)
		if insideLink(img) {
			// A linked image becomes its description: links do not nest.
			for c := img.FirstChild(); c != nil; {
				next := c.NextSibling()
				img.Parent().InsertBefore(img.Parent(), img, c)
				c = next
			}
			img.Parent().RemoveChild(img.Parent(), img)
			continue
		}
		link := ast.NewLink()
		link.Destination, link.Title = img.Destination, img.Title
		for c := img.FirstChild(); c != nil; {
			next := c.NextSibling()
			link.AppendChild(link, c)
			c = next
		}
		if !link.HasChildren() {
			s := ast.NewString(util.URLEscape(img.Destination, true))
			s.SetRaw(true)
			link.AppendChild(link, s)
		}
		img.Parent().ReplaceChild(img.Parent(), img, link)
	}
}

// insideLink reports whether n is inside a link.
func insideLink(n ast.Node) bool {
	for p := n.Parent(); p != nil; p = p.Parent() {
		if _, ok := p.(*ast.Link); ok {
			return true
		}
	}
	return false
}

// endMarkHTML renders an endMark as a centred paragraph.
type endMarkHTML struct{}

// RegisterFuncs implements renderer.NodeRenderer.
func (endMarkHTML) RegisterFuncs(reg renderer.NodeRendererFuncRegisterer) {
	reg.Register(kindEndMark, func(w util.BufWriter, _ []byte, _ ast.Node, entering bool) (ast.WalkStatus, error) {
		if entering {
			_, _ = w.WriteString(`<p style="text-align:center">` + endMarkText + "</p>\n")
		}
		return ast.WalkContinue, nil
	})
}

// endMarkExtension adds end marks to a Markdown dialect.
type endMarkExtension struct{}

// Extend implements goldmark.Extender.
func (endMarkExtension) Extend(m goldmark.Markdown) {
	m.Parser().AddOptions(parser.WithASTTransformers(util.Prioritized(endMarks{}, 500)))
	m.Renderer().AddOptions(renderer.WithNodeRenderers(util.Prioritized(endMarkHTML{}, 500)))
}
