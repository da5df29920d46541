package templates

import (
	"strings"
	"unicode"
	"unicode/utf16"
)

// The Telegram HTML tags the renderer produces.
const (
	tagBold       = "b"
	tagItalic     = "i"
	tagStrike     = "s"
	tagLink       = "a"
	tagCode       = "code"
	tagPre        = "pre"
	tagBlockQuote = "blockquote"
)

type tokKind uint8

const (
	tokText tokKind = iota
	tokOpen
	tokClose
)

// token is a run of text, or a tag that opens or closes around text.
type token struct {
	kind tokKind
	tag  string // open and close
	href string // open "a"
	text []rune // text
}

// tgBlock is one block of a Telegram message (a paragraph, a list, a
// quote...): tags around text, always balanced. Messages are made of whole
// blocks where possible and a block is split only when it is longer than a
// message.
type tgBlock struct {
	toks []token
	text []rune // the visible text: all text tokens, in order
	// units[i] is the length in UTF-16 code units of text[:i].
	units []int
	// keepWithNext asks to start the next message with this block rather
	// than end one with it (a heading, or a paragraph ending with a colon).
	keepWithNext bool
}

// span returns the range of b's text without leading and trailing space.
func (b *tgBlock) span() (start, end int) {
	return skipSpace(b.text, 0, len(b.text)), trimEnd(b.text, 0, len(b.text))
}

// introduces reports whether b ends with a colon, as a paragraph that
// introduces a list or a quote does.
func (b *tgBlock) introduces() bool {
	_, end := b.span()
	return end > 0 && b.text[end-1] == ':'
}

// length returns the length Telegram counts for the text between start and
// end.
func (b *tgBlock) length(start, end int) int { return b.units[end] - b.units[start] }

// render writes the part of b whose text lies between start and end as
// Telegram HTML. Tags open around that text are opened before it and closed
// after it; tags that hold no text of the part are left out.
func (b *tgBlock) render(w *strings.Builder, start, end int) {
	var open []token // tags open at this point
	emitted := 0     // open[:emitted] have been written
	pos := 0
	for _, t := range b.toks {
		switch t.kind {
		case tokOpen:
			open = append(open, t)
		case tokClose:
			if emitted == len(open) {
				closeTag(w, open[emitted-1].tag)
				emitted--
			}
			open = open[:len(open)-1]
		case tokText:
			lo, hi := max(start, pos), min(end, pos+len(t.text))
			if lo < hi {
				for ; emitted < len(open); emitted++ {
					openTag(w, open[emitted])
				}
				escape(w, t.text[lo-pos:hi-pos], false)
			}
			pos += len(t.text)
		}
	}
	for ; emitted > 0; emitted-- {
		closeTag(w, open[emitted-1].tag)
	}
}

func openTag(w *strings.Builder, t token) {
	w.WriteByte('<')
	w.WriteString(t.tag)
	if t.tag == tagLink {
		w.WriteString(` href="`)
		escape(w, []rune(t.href), true)
		w.WriteByte('"')
	}
	w.WriteByte('>')
}

func closeTag(w *strings.Builder, tag string) {
	w.WriteString("</")
	w.WriteString(tag)
	w.WriteByte('>')
}

// escape writes text escaped for Telegram's HTML: &, < and > as entities,
// and " too in an attribute value; everything else as is.
func escape(w *strings.Builder, text []rune, attr bool) {
	for _, r := range text {
		switch {
		case r == '&':
			w.WriteString("&amp;")
		case r == '<':
			w.WriteString("&lt;")
		case r == '>':
			w.WriteString("&gt;")
		case r == '"' && attr:
			w.WriteString("&quot;")
		default:
			w.WriteRune(r)
		}
	}
}

// tgBuilder builds one tgBlock, keeping track of the tags open.
type tgBuilder struct {
	blk   tgBlock
	stack []string
	sep   string // separator to write before the next text, if any came before
}

// write appends text inside the tags open.
func (b *tgBuilder) write(s string) {
	if s == "" {
		return
	}
	b.flushSep()
	b.appendText(s)
}

func (b *tgBuilder) appendText(s string) {
	rs := []rune(s)
	b.blk.toks = append(b.blk.toks, token{kind: tokText, text: rs})
	b.blk.text = append(b.blk.text, rs...)
}

// separate asks for sep between what was written and what comes next, when
// both hold text. Of two separators asked for, the longer wins.
func (b *tgBuilder) separate(sep string) {
	if len(b.blk.text) > 0 && len(sep) > len(b.sep) {
		b.sep = sep
	}
}

func (b *tgBuilder) flushSep() {
	if b.sep != "" {
		sep := b.sep
		b.sep = ""
		b.appendText(sep)
	}
}

// open opens tag, unless Telegram would not accept it here: a tag inside
// itself, anything inside code, or a link inside a link. It reports whether
// it opened the tag; only then must the caller close it.
func (b *tgBuilder) open(tag, href string) bool {
	if b.active(tag) || b.active(tagCode) || b.active(tagPre) {
		return false
	}
	if (tag == tagCode || tag == tagPre) && !b.codeAllowed() {
		return false
	}
	b.flushSep()
	b.blk.toks = append(b.blk.toks, token{kind: tokOpen, tag: tag, href: href})
	b.stack = append(b.stack, tag)
	return true
}

// codeAllowed reports whether code may start here: Telegram does not nest
// code in formatting or links.
func (b *tgBuilder) codeAllowed() bool {
	for _, t := range b.stack {
		if t != tagBlockQuote {
			return false
		}
	}
	return true
}

// close closes the innermost tag open.
func (b *tgBuilder) close() {
	tag := b.stack[len(b.stack)-1]
	b.stack = b.stack[:len(b.stack)-1]
	b.blk.toks = append(b.blk.toks, token{kind: tokClose, tag: tag})
}

func (b *tgBuilder) active(tag string) bool {
	for _, t := range b.stack {
		if t == tag {
			return true
		}
	}
	return false
}

// wrapped writes s inside tag.
func (b *tgBuilder) wrapped(tag, s string) {
	ok := b.open(tag, "")
	b.write(s)
	if ok {
		b.close()
	}
}

// done closes the tags left open and returns the block, or nil when it holds
// no visible text.
func (b *tgBuilder) done() *tgBlock {
	for len(b.stack) > 0 {
		b.close()
	}
	blk := b.blk
	blk.units = make([]int, len(blk.text)+1)
	for i, r := range blk.text {
		blk.units[i+1] = blk.units[i] + utf16.RuneLen(r)
	}
	if start, end := blk.span(); start >= end {
		return nil
	}
	return &blk
}

// skipSpace returns the index of the first rune of text[start:end] that is
// not a space, or end.
func skipSpace(text []rune, start, end int) int {
	for start < end && unicode.IsSpace(text[start]) {
		start++
	}
	return start
}

// trimEnd returns end moved back over the spaces that end text[start:end].
func trimEnd(text []rune, start, end int) int {
	for end > start && unicode.IsSpace(text[end-1]) {
		end--
	}
	return end
}
