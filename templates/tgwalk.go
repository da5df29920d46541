package templates

import (
	"strconv"
	"strings"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// tgWalker turns a Markdown syntax tree into Telegram blocks, one per
// top-level block of the document. Headings become bold lines, emphasis <i>
// and <b>, links <a> when their URL is safe, lists lines starting with "• "
// or "1. ", code <code> and <pre>; raw HTML is dropped.
type tgWalker struct{ src []byte }

// document returns the blocks of doc that hold text.
func (w tgWalker) document(doc ast.Node) []*tgBlock {
	var out []*tgBlock
	for c := doc.FirstChild(); c != nil; c = c.NextSibling() {
		var b tgBuilder
		w.block(&b, c, 0)
		if blk := b.done(); blk != nil {
			_, heading := c.(*ast.Heading)
			blk.keepWithNext = heading || blk.introduces()
			out = append(out, blk)
		}
	}
	return out
}

// blocks writes the block children of parent, separated by sep.
func (w tgWalker) blocks(b *tgBuilder, parent ast.Node, sep string, depth int) {
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		if c != parent.FirstChild() {
			b.separate(sep)
		}
		w.block(b, c, depth)
	}
}

func (w tgWalker) block(b *tgBuilder, n ast.Node, depth int) {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		w.inlines(b, n)
	case *ast.Heading:
		w.wrap(b, tagBold, n)
	case *endMark:
		b.write(endMarkText)
	case *ast.ThematicBreak:
		b.write("———")
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		b.wrapped(tagPre, blockLines(n, w.src))
	case *ast.Blockquote:
		ok := b.open(tagBlockQuote, "")
		w.blocks(b, n, "\n\n", depth)
		if ok {
			b.close()
		}
	case *ast.List:
		w.list(b, n, depth)
	case *ast.HTMLBlock:
		// Raw HTML is never passed through.
	case *east.Table:
		w.table(b, n)
	default:
		w.blocks(b, n, "\n\n", depth)
	}
}

func (w tgWalker) list(b *tgBuilder, n *ast.List, depth int) {
	indent := strings.Repeat("    ", depth)
	num := n.Start
	for it := n.FirstChild(); it != nil; it = it.NextSibling() {
		b.separate("\n")
		if n.IsOrdered() {
			b.write(indent + strconv.Itoa(num) + ". ")
			num++
		} else {
			b.write(indent + "• ")
		}
		for c := it.FirstChild(); c != nil; c = c.NextSibling() {
			if c != it.FirstChild() {
				b.separate("\n")
				if _, nested := c.(*ast.List); !nested {
					b.write(indent + "    ")
				}
			}
			w.block(b, c, depth+1)
		}
	}
}

func (w tgWalker) table(b *tgBuilder, n *east.Table) {
	for row := n.FirstChild(); row != nil; row = row.NextSibling() {
		b.separate("\n")
		_, header := row.(*east.TableHeader)
		for c := row.FirstChild(); c != nil; c = c.NextSibling() {
			if c != row.FirstChild() {
				b.write(" | ")
			}
			if header {
				w.wrap(b, tagBold, c)
			} else {
				w.inlines(b, c)
			}
		}
	}
}

func (w tgWalker) inlines(b *tgBuilder, parent ast.Node) {
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.write(inlineText(c, w.src))
			switch {
			case c.HardLineBreak():
				b.write("\n")
			case c.SoftLineBreak():
				b.write(" ")
			}
		case *ast.String:
			b.write(inlineText(c, w.src))
		case *ast.CodeSpan:
			b.wrapped(tagCode, codeText(c, w.src))
		case *ast.Emphasis:
			if c.Level >= 2 {
				w.wrap(b, tagBold, c)
			} else {
				w.wrap(b, tagItalic, c)
			}
		case *east.Strikethrough:
			w.wrap(b, tagStrike, c)
		case *ast.Link:
			w.link(b, c, c.Destination)
		case *ast.Image:
			w.link(b, c, c.Destination)
		case *ast.AutoLink:
			label := string(c.Label(w.src))
			if u, ok := safeURL(autoLinkURL(c, w.src)); ok {
				ok := b.open(tagLink, u)
				b.write(label)
				if ok {
					b.close()
				}
			} else {
				b.write(label)
			}
		case *ast.RawHTML:
			// Raw HTML is never passed through; the text around it stays.
		case *east.TaskCheckBox:
			if c.IsChecked {
				b.write("☑ ")
			} else {
				b.write("☐ ")
			}
		default:
			w.inlines(b, c)
		}
	}
}

// link writes a link or an image as a link around its text (an image's
// alternative text) when its URL is safe, and as plain text otherwise. A link
// with no text shows its URL.
func (w tgWalker) link(b *tgBuilder, n ast.Node, dest []byte) {
	u, ok := linkURL(dest)
	if !ok {
		w.inlines(b, n)
		return
	}
	opened := b.open(tagLink, u)
	before := len(b.blk.text)
	w.inlines(b, n)
	if len(b.blk.text) == before {
		b.write(displayURL(u))
	}
	if opened {
		b.close()
	}
}

// wrap writes the inline children of n inside tag.
func (w tgWalker) wrap(b *tgBuilder, tag string, n ast.Node) {
	ok := b.open(tag, "")
	w.inlines(b, n)
	if ok {
		b.close()
	}
}
