package templates

import (
	"net/url"
	"strconv"
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
	"github.com/yuin/goldmark/util"
)

// newMarkdown returns the Markdown dialect releases are written in: CommonMark
// with GitHub's tables, strikethrough, autolinks and task lists. Typographic
// replacements are off, so quotes stay as typed; raw HTML is not rendered. A
// "###" alone on a line is the press-release end mark (see endMark), not an
// empty heading.
func newMarkdown() goldmark.Markdown {
	return goldmark.New(goldmark.WithExtensions(extension.GFM, endMarkExtension{}))
}

// parse parses src into a syntax tree. The tree refers to src.
func parse(md goldmark.Markdown, src []byte) ast.Node {
	return md.Parser().Parse(text.NewReader(src))
}

// clean makes user text safe to work on: valid UTF-8, "\n" line endings and
// no NUL bytes.
func clean(s string) string {
	s = strings.ToValidUTF8(s, "\uFFFD")
	s = strings.ReplaceAll(s, "\r\n", "\n")
	s = strings.ReplaceAll(s, "\r", "\n")
	return strings.ReplaceAll(s, "\x00", "\uFFFD")
}

// oneLine collapses every run of line breaks, tabs, other control characters
// and ASCII spaces in s into one space and trims the result. It keeps
// non-breaking spaces.
func oneLine(s string) string {
	return strings.Join(strings.FieldsFunc(clean(s), func(r rune) bool {
		return r == ' ' || r < 0x20 || r == 0x7f || (r >= 0x80 && r < 0xa0) || r == '\u2028' || r == '\u2029'
	}), " ")
}

// inlineText returns the text of a Text or String node as a reader sees it:
// backslash escapes removed and entity references resolved, except in raw
// text (code), which is taken as typed.
func inlineText(n ast.Node, src []byte) string {
	switch n := n.(type) {
	case *ast.Text:
		if n.IsRaw() {
			return string(n.Segment.Value(src))
		}
		return decodeText(n.Segment.Value(src))
	case *ast.String:
		if n.IsCode() || n.IsRaw() {
			return string(n.Value)
		}
		return decodeText(n.Value)
	}
	return ""
}

// codeText returns the text of a code span: its content as typed, with line
// endings turned into spaces.
func codeText(n ast.Node, src []byte) string {
	var b strings.Builder
	for c := n.FirstChild(); c != nil; c = c.NextSibling() {
		var v string
		switch c := c.(type) {
		case *ast.Text:
			v = string(c.Segment.Value(src))
		case *ast.String:
			v = string(c.Value)
		}
		if strings.HasSuffix(v, "\n") {
			v = v[:len(v)-1] + " "
		}
		b.WriteString(v)
	}
	return b.String()
}

// blockLines returns the lines of a code block as typed, without the final
// line break.
func blockLines(n ast.Node, src []byte) string {
	var b strings.Builder
	lines := n.Lines()
	for i := 0; i < lines.Len(); i++ {
		seg := lines.At(i)
		b.Write(seg.Value(src))
	}
	return strings.TrimRight(b.String(), "\n")
}

// decodeText removes backslash escapes and resolves entity references in
// Markdown text, as goldmark's HTML renderer does.
func decodeText(v []byte) string {
	var b strings.Builder
	for i := 0; i < len(v); i++ {
		c := v[i]
		switch {
		case c == '\\' && i+1 < len(v) && util.IsPunct(v[i+1]):
			b.WriteByte(v[i+1])
			i++
		case c == '&':
			if s, n := entity(v[i:]); n > 0 {
				b.WriteString(s)
				i += n - 1
			} else {
				b.WriteByte(c)
			}
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

// entity decodes the character reference at the start of v and returns its
// characters and length, or a zero length when v does not start with one.
func entity(v []byte) (string, int) {
	end := 1
	for end < len(v) && end < 40 && v[end] != ';' {
		end++
	}
	if end >= len(v) || v[end] != ';' || end < 2 {
		return "", 0
	}
	name := string(v[1:end])
	if name[0] != '#' {
		for i := 0; i < len(name); i++ {
			if !util.IsAlphaNumeric(name[i]) {
				return "", 0
			}
		}
		e, ok := util.LookUpHTML5EntityByName(name)
		if !ok {
			return "", 0
		}
		return string(e.Characters), end + 1
	}
	digits, base, max := name[1:], 10, 7
	if digits != "" && (digits[0] == 'x' || digits[0] == 'X') {
		digits, base, max = digits[1:], 16, 6
	}
	if digits == "" || len(digits) > max {
		return "", 0
	}
	u, err := strconv.ParseUint(digits, base, 32)
	if err != nil {
		return "", 0
	}
	return string(util.ToValidRune(rune(u))), end + 1
}

// linkURL returns the destination of a link as a URL that may be offered to
// readers, and false when it has a scheme other than http, https, mailto or
// tg, or no scheme at all.
func linkURL(dest []byte) (string, bool) {
	return safeURL(string(util.URLEscape(dest, true)))
}

// safeURL reports whether u is an absolute http, https, mailto or tg URL with
// nothing that needs escaping, and returns it.
func safeURL(u string) (string, bool) {
	if u == "" || strings.ContainsFunc(u, func(r rune) bool { return r <= ' ' || r == 0x7f || r == '"' || r == '<' || r == '>' }) {
		return "", false
	}
	p, err := url.Parse(u)
	if err != nil {
		return "", false
	}
	switch strings.ToLower(p.Scheme) {
	case "http", "https":
		if p.Host == "" {
			return "", false
		}
	case "mailto", "tg":
		if p.Opaque == "" && p.Host == "" {
			return "", false
		}
	default:
		return "", false
	}
	return u, true
}

// webURL returns u trimmed when it is an absolute http or https URL.
func webURL(u string) (string, bool) {
	u = strings.TrimSpace(u)
	s, ok := safeURL(u)
	if !ok || !(strings.HasPrefix(strings.ToLower(s), "http:") || strings.HasPrefix(strings.ToLower(s), "https:")) {
		return "", false
	}
	return s, true
}

// displayURL returns a URL the way a reader types it: mailto: addresses
// without the scheme.
func displayURL(u string) string {
	if len(u) > 7 && strings.EqualFold(u[:7], "mailto:") {
		if a, err := url.PathUnescape(u[7:]); err == nil {
			return a
		}
		return u[7:]
	}
	return u
}

// autoLinkURL returns the URL an autolink points to.
func autoLinkURL(n *ast.AutoLink, src []byte) string {
	u := string(util.URLEscape(n.URL(src), false))
	if n.AutoLinkType == ast.AutoLinkEmail && !strings.HasPrefix(strings.ToLower(u), "mailto:") {
		u = "mailto:" + u
	}
	return u
}
