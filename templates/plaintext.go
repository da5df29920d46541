package templates

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// plainText renders a Markdown syntax tree as plain text for the text/plain
// part of an email: no markup, paragraphs separated by blank lines and not
// wrapped (mail clients wrap them), lists with "- " or "1. ", quotes prefixed
// with "> ", links as "text (url)". Raw HTML is dropped.
func plainText(doc ast.Node, src []byte) string {
	return textWalker{src: src}.blocks(doc, "\n\n")
}

// textWalker renders blocks and inlines of one document as plain text.
type textWalker struct{ src []byte }

// blocks renders the block children of parent, joined by sep.
func (w textWalker) blocks(parent ast.Node, sep string) string {
	var parts []string
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		if s := w.block(c); strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep)
}

func (w textWalker) block(n ast.Node) string {
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return strings.TrimSpace(w.inline(n))
	case *ast.Heading:
		t := strings.TrimSpace(w.inline(n))
		if n.Level == 1 {
			return t + "\n" + underline(t, '=')
		}
		return t + "\n" + underline(t, '-')
	case *ast.ThematicBreak:
		return "----------"
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		return prefixLines(blockLines(n, w.src), "    ", "")
	case *ast.Blockquote:
		return prefixLines(w.blocks(n, "\n\n"), "> ", ">")
	case *ast.List:
		return w.list(n)
	case *ast.HTMLBlock:
		return ""
	case *east.Table:
		return w.table(n)
	default:
		return w.blocks(n, "\n\n")
	}
}

func (w textWalker) list(n *ast.List) string {
	sep := "\n\n"
	if n.IsTight {
		sep = "\n"
	}
	num := n.Start
	var items []string
	for it := n.FirstChild(); it != nil; it = it.NextSibling() {
		marker := "- "
		if n.IsOrdered() {
			marker = strconv.Itoa(num) + ". "
			num++
		}
		first, rest, _ := strings.Cut(w.blocks(it, sep), "\n")
		item := strings.TrimRight(marker+first, " ")
		if rest != "" {
			item += "\n" + prefixLines(rest, strings.Repeat(" ", len(marker)), "")
		}
		items = append(items, item)
	}
	return strings.Join(items, sep)
}

func (w textWalker) table(n *east.Table) string {
	var rows []string
	for r := n.FirstChild(); r != nil; r = r.NextSibling() {
		var cells []string
		for c := r.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, strings.TrimSpace(w.inline(c)))
		}
		rows = append(rows, strings.Join(cells, " | "))
	}
	return strings.Join(rows, "\n")
}

// inline renders the inline children of n.
func (w textWalker) inline(n ast.Node) string {
	var b strings.Builder
	w.inlines(&b, n)
	return b.String()
}

func (w textWalker) inlines(b *strings.Builder, parent ast.Node) {
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		switch c := c.(type) {
		case *ast.Text:
			b.WriteString(inlineText(c, w.src))
			switch {
			case c.HardLineBreak():
				b.WriteByte('\n')
			case c.SoftLineBreak():
				b.WriteByte(' ')
			}
		case *ast.String:
			b.WriteString(inlineText(c, w.src))
		case *ast.CodeSpan:
			b.WriteString(codeText(c, w.src))
		case *ast.Link:
			w.link(b, c, c.Destination)
		case *ast.Image:
			w.link(b, c, c.Destination)
		case *ast.AutoLink:
			b.WriteString(displayURL(autoLinkURL(c, w.src)))
		case *ast.RawHTML:
		case *east.TaskCheckBox:
			if c.IsChecked {
				b.WriteString("[x] ")
			} else {
				b.WriteString("[ ] ")
			}
		default:
			w.inlines(b, c)
		}
	}
}

// link writes a link's text followed by its URL in brackets, unless the URL
// is unsafe or the text already says it.
func (w textWalker) link(b *strings.Builder, n ast.Node, dest []byte) {
	t := strings.TrimSpace(w.inline(n))
	u, ok := linkURL(dest)
	if !ok {
		b.WriteString(t)
		return
	}
	shown := displayURL(u)
	switch t {
	case "":
		b.WriteString(shown)
	case shown, u:
		b.WriteString(t)
	default:
		b.WriteString(t + " (" + shown + ")")
	}
}

// prefixLines puts prefix before every line of s, or blank before the empty
// ones.
func prefixLines(s, prefix, blank string) string {
	lines := strings.Split(s, "\n")
	for i, l := range lines {
		if l == "" {
			lines[i] = blank
		} else {
			lines[i] = prefix + l
		}
	}
	return strings.Join(lines, "\n")
}

// underline returns a line of c as wide as s looks in a fixed-width font,
// counting neither combining marks nor zero-width characters.
func underline(s string, c rune) string {
	n := 0
	for _, r := range s {
		if !unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
			n++
		}
	}
	return strings.Repeat(string(c), n)
}
