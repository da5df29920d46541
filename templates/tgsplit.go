package templates

import (
	"strconv"
	"strings"
	"unicode"
)

// piece is the part of a block's text between start and end.
type piece struct {
	blk        *tgBlock
	start, end int
}

func (p piece) length() int { return p.blk.length(p.start, p.end) }

// blockSep separates blocks within a message.
const blockSep = "\n\n"

// packer fills messages of at most limit UTF-16 code units with blocks.
type packer struct {
	limit int
	parts []string
	cur   []piece
	n     int // length of cur, separators included
}

// pack lays blocks out in as few messages as it can without splitting a block
// that fits in one message. A block longer than a message starts a new one and
// is split at line, sentence, word or, failing all, character boundaries. A
// heading that would end a message starts the next one instead. Every message
// is well-formed on its own and holds some text. limit must be at least 4.
func pack(blocks []*tgBlock, limit int) []string {
	p := &packer{limit: limit}
	for _, blk := range blocks {
		start, end := blk.span()
		if start >= end {
			continue
		}
		p.place(piece{blk, start, end})
	}
	p.flush()
	return p.parts
}

// room returns how much text fits after what the current message holds.
func (p *packer) room() int {
	if len(p.cur) == 0 {
		return p.limit
	}
	return p.limit - p.n - len(blockSep)
}

func (p *packer) add(pc piece) {
	if len(p.cur) > 0 {
		p.n += len(blockSep)
	}
	p.cur = append(p.cur, pc)
	p.n += pc.length()
}

func (p *packer) flush() {
	if len(p.cur) == 0 {
		return
	}
	var w strings.Builder
	for i, pc := range p.cur {
		if i > 0 {
			w.WriteString(blockSep)
		}
		pc.blk.render(&w, pc.start, pc.end)
	}
	p.parts = append(p.parts, w.String())
	p.cur, p.n = nil, 0
}

func (p *packer) place(pc piece) {
	n := pc.length()
	if n <= p.room() {
		p.add(pc)
		return
	}
	// A new message, which takes along a heading that ends this one when
	// the block fits after it, or when it leaves half a message for the
	// start of a block that must be split anyway.
	var carry []piece
	if last := len(p.cur) - 1; last > 0 && p.cur[last].blk.keepWithNext {
		c := p.cur[last].length() + len(blockSep)
		if (n <= p.limit && c+n <= p.limit) || (n > p.limit && c <= p.limit/2) {
			carry = p.cur[last:]
			p.cur = p.cur[:last]
			p.n -= c
		}
	}
	p.flush()
	for _, c := range carry {
		p.add(c)
	}
	if n <= p.room() {
		p.add(pc)
		return
	}
	for i, c := range cuts(pc.blk.text, pc.start, pc.end, p.room(), p.limit, pc.blk.units) {
		if i > 0 {
			p.flush()
		}
		p.add(piece{pc.blk, c[0], c[1]})
	}
}

// cuts splits text[start:end] into ranges whose lengths (by units, as in
// tgBlock.units) are at most first for the first range and limit for the
// others, leaving out the spaces where it cuts. It cuts at the last line
// break of the second half of the room, else at the end of a sentence there,
// else at a space, else between two characters (grapheme clusters), else
// between two code points.
func cuts(text []rune, start, end, first, limit int, units []int) [][2]int {
	var out [][2]int
	room := first
	start = skipSpace(text, start, end)
	for start < end {
		e := start
		for e < end && units[e+1]-units[start] <= room {
			e++
		}
		if e == end {
			return append(out, [2]int{start, trimEnd(text, start, end)})
		}
		if e == start {
			e++ // room for less than one code point: only when room < 2
		}
		cut, next := bestCut(text, start, e)
		out = append(out, [2]int{start, trimEnd(text, start, cut)})
		start = skipSpace(text, next, end)
		room = limit
	}
	return out
}

// bestCut returns where to end a range that starts at start and must end at
// or before max, and where the next range starts. text[max] exists.
func bestCut(text []rune, start, max int) (cut, next int) {
	half := start + (max-start)/2
	for i := max; i > half; i-- {
		if text[i] == '\n' {
			return i, i + 1
		}
	}
	for i := max; i > half; i-- {
		if unicode.IsSpace(text[i]) && sentenceEnd(text[start:i]) {
			return i, i + 1
		}
	}
	for i := max; i > start; i-- {
		if unicode.IsSpace(text[i]) {
			return i, i + 1
		}
	}
	for i := max; i > start; i-- {
		if graphemeBoundary(text, i) {
			return i, i
		}
	}
	return max, max
}

// sentenceEnd reports whether text ends a sentence: with a full stop, a
// question or exclamation mark or an ellipsis, maybe followed by closing
// quotes or brackets.
func sentenceEnd(text []rune) bool {
	i := len(text) - 1
	for i >= 0 && strings.ContainsRune(`"'”’»)]`, text[i]) {
		i--
	}
	return i >= 0 && strings.ContainsRune(".!?…", text[i])
}

// graphemeBoundary reports whether text may be cut before text[i] without
// splitting what a reader sees as one character: a letter and its combining
// marks, an emoji and its modifiers, variation selectors and zero-width
// joiners, a flag's pair of regional indicators. It is an approximation of
// Unicode's extended grapheme clusters that covers the usual cases.
func graphemeBoundary(text []rune, i int) bool {
	prev, r := text[i-1], text[i]
	switch {
	case unicode.In(r, unicode.Mn, unicode.Me, unicode.Mc):
		return false
	case r == '\u200d' || prev == '\u200d':
		return false
	case r >= 0x1f3fb && r <= 0x1f3ff: // emoji skin tones
		return false
	case r >= 0xe0020 && r <= 0xe007f: // emoji tag sequences
		return false
	case isRegional(r) && isRegional(prev):
		n := 0
		for j := i - 1; j >= 0 && isRegional(text[j]); j-- {
			n++
		}
		return n%2 == 0
	}
	return true
}

func isRegional(r rune) bool { return r >= 0x1f1e6 && r <= 0x1f1ff }

// packNumbered is pack, with each message of a post of more than one
// numbered at its end, on a line of its own: "(1/3)". The numbers count in
// limit: the messages are packed with room left for the longest of them.
func packNumbered(blocks []*tgBlock, limit int) []string {
	parts := pack(blocks, limit)
	for reserve := 0; len(parts) > 1; {
		need := len(partNumber(len(parts), len(parts))) // k ≤ n: none is longer
		if need <= reserve {
			break
		}
		if limit-need < 4 {
			return parts // too little room to number (only tests pack so small)
		}
		reserve = need
		parts = pack(blocks, limit-reserve)
	}
	if len(parts) > 1 {
		for i := range parts {
			parts[i] += partNumber(i+1, len(parts))
		}
	}
	return parts
}

// partNumber is the line that numbers part k of n, with its separator.
func partNumber(k, n int) string {
	return blockSep + "(" + strconv.Itoa(k) + "/" + strconv.Itoa(n) + ")"
}
