package templates

import (
	"strconv"
	"strings"
	"unicode"

	"github.com/yuin/goldmark/ast"
	east "github.com/yuin/goldmark/extension/ast"
)

// textWidth is the widest a line of the text/plain part may be, in
// characters, unless it holds a word or URL that is longer.
const textWidth = 72

// minTextWidth is the narrowest text is wrapped to, however deep it is
// nested in quotes and lists.
const minTextWidth = 24

// textWalker renders Markdown syntax trees as plain text for the text/plain
// part of an email: no markup, paragraphs separated by blank lines and
// wrapped at textWidth columns (words are never split; a word or URL longer
// than a line has a line of its own), lists with "- " or "1. " and a hanging
// indent, quotes prefixed with "> ", headings underlined, an end mark
// centred. A link whose text is not its URL becomes "text [1]", and its URL
// is listed by refs, numbered in order of first use. Raw HTML is dropped.
// One walker renders the documents of one email, so that the numbers run on.
type textWalker struct {
	src  []byte
	urls []string       // by number - 1
	nums map[string]int // number by URL
}

// render renders doc, parsed from src, at textWidth.
func (w *textWalker) render(doc ast.Node, src []byte) string {
	w.src = src
	return w.blocks(doc, "\n\n", textWidth)
}

// refs returns the list of the URLs linked to so far, "[1] url" a line, or
// "" when there are none.
func (w *textWalker) refs() string {
	var b strings.Builder
	for i, u := range w.urls {
		if i > 0 {
			b.WriteByte('\n')
		}
		b.WriteString("[" + strconv.Itoa(i+1) + "] " + displayURL(u))
	}
	return b.String()
}

// blocks renders the block children of parent, joined by sep, wrapped at
// width.
func (w *textWalker) blocks(parent ast.Node, sep string, width int) string {
	var parts []string
	for c := parent.FirstChild(); c != nil; c = c.NextSibling() {
		if s := w.block(c, width); strings.TrimSpace(s) != "" {
			parts = append(parts, s)
		}
	}
	return strings.Join(parts, sep)
}

func (w *textWalker) block(n ast.Node, width int) string {
	width = max(width, minTextWidth)
	switch n := n.(type) {
	case *ast.Paragraph, *ast.TextBlock:
		return wrapText(strings.TrimSpace(w.inline(n)), width)
	case *ast.Heading:
		c := '-'
		if n.Level == 1 {
			c = '='
		}
		return underlined(strings.TrimSpace(w.inline(n)), c, width)
	case *endMark:
		return strings.Repeat(" ", (width-len(endMarkText))/2) + endMarkText
	case *ast.ThematicBreak:
		return "----------"
	case *ast.CodeBlock, *ast.FencedCodeBlock:
		return prefixLines(blockLines(n, w.src), "    ", "")
	case *ast.Blockquote:
		return prefixLines(w.blocks(n, "\n\n", width-2), "> ", ">")
	case *ast.List:
		return w.list(n, width)
	case *ast.HTMLBlock:
		return ""
	case *east.Table:
		return w.table(n, width)
	default:
		return w.blocks(n, "\n\n", width)
	}
}

func (w *textWalker) list(n *ast.List, width int) string {
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
		first, rest, _ := strings.Cut(w.blocks(it, sep, width-len(marker)), "\n")
		item := strings.TrimRight(marker+first, " ")
		if rest != "" {
			item += "\n" + prefixLines(rest, strings.Repeat(" ", len(marker)), "")
		}
		items = append(items, item)
	}
	return strings.Join(items, sep)
}

// table renders a table a row a line, its cells separated by " | ", a row
// too long for a line wrapped with a hanging indent.
func (w *textWalker) table(n *east.Table, width int) string {
	var rows []string
	for r := n.FirstChild(); r != nil; r = r.NextSibling() {
		var cells []string
		for c := r.FirstChild(); c != nil; c = c.NextSibling() {
			cells = append(cells, strings.TrimSpace(w.inline(c)))
		}
		rows = append(rows, strings.TrimPrefix(prefixLines(wrapText(strings.Join(cells, " | "), width-2), "  ", ""), "  "))
	}
	return strings.Join(rows, "\n")
}

// inline renders the inline children of n.
func (w *textWalker) inline(n ast.Node) string {
	var b strings.Builder
	w.inlines(&b, n)
	return b.String()
}

func (w *textWalker) inlines(b *strings.Builder, parent ast.Node) {
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

// link writes a link's text followed by the number of its URL in brackets,
// or the URL alone when the link has no text or its text is the URL, or the
// text alone when the URL is unsafe.
func (w *textWalker) link(b *strings.Builder, n ast.Node, dest []byte) {
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
		b.WriteString(t + "\u00a0[" + strconv.Itoa(w.ref(u)) + "]")
	}
}

// ref returns the number of URL u in the references, adding it when new.
func (w *textWalker) ref(u string) int {
	if n, ok := w.nums[u]; ok {
		return n
	}
	if w.nums == nil {
		w.nums = map[string]int{}
	}
	w.urls = append(w.urls, u)
	w.nums[u] = len(w.urls)
	return len(w.urls)
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

// underlined returns heading s wrapped at width, above a line of c as wide
// as its widest line.
func underlined(s string, c rune, width int) string {
	s = wrapText(s, width)
	widest := ""
	for _, l := range strings.Split(s, "\n") {
		if textLen(l) > textLen(widest) {
			widest = l
		}
	}
	return s + "\n" + underline(widest, c)
}

// underline returns a line of c as wide as s looks in a fixed-width font,
// counting neither combining marks nor zero-width characters.
func underline(s string, c rune) string {
	return strings.Repeat(string(c), textLen(s))
}

// textLen returns how wide s looks in a fixed-width font, counting neither
// combining marks nor zero-width characters.
func textLen(s string) int {
	n := 0
	for _, r := range s {
		// Below U+0300 (the first combining mark), every character but
		// the soft hyphen takes a column; the tables are for the rest.
		if r < 0x300 && r != 0xad || !unicode.In(r, unicode.Mn, unicode.Me, unicode.Cf) {
			n++
		}
	}
	return n
}

// wrapText wraps every line of s at width characters, breaking only at
// spaces: a word longer than width gets a line of its own. Runs of spaces
// where a line breaks are dropped.
func wrapText(s string, width int) string {
	lines := strings.Split(s, "\n")
	for i, line := range lines {
		if textLen(line) <= width {
			continue
		}
		var b strings.Builder
		n := 0 // width of the line being built
		for _, word := range strings.Split(line, " ") {
			if word == "" {
				continue
			}
			wl := textLen(word)
			switch {
			case n == 0:
			case n+1+wl <= width:
				b.WriteByte(' ')
				n++
			default:
				b.WriteByte('\n')
				n = 0
			}
			b.WriteString(word)
			n += wl
		}
		lines[i] = b.String()
	}
	return strings.Join(lines, "\n")
}
