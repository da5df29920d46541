package templates

import (
	"fmt"
	"strings"
	"unicode"

	"github.com/pregon/pregon/dispatcher"
)

// CaptionLimit is the most text a Telegram caption (of a photo, a document,
// an album's first item) may hold: UTF-16 code units after entity parsing.
const CaptionLimit = 1024

var _ dispatcher.CaptionRenderer = (*Renderer)(nil)

// ellipsis ends a caption cut short.
const ellipsis = "…"

// TelegramCaption renders the caption of the lead image of rel in lang: the
// title in bold and the summary in italics (a correction's note above
// them), and, when link is set, a link to the full text at link below. It
// is at most CaptionLimit UTF-16 code units as Telegram counts them: when
// it would be longer, the block that does not fit (the summary, as a rule)
// is cut on a word boundary and ends with "…", inside its tags, which stay
// balanced; the link is always kept. It fails when the release has no
// title nor summary, or link is set and is not an http(s) URL.
func (r *Renderer) TelegramCaption(rel *dispatcher.Release, lang, link string) (string, error) {
	var blocks []*tgBlock
	base := rel
	if rel.CorrectionOf != nil {
		var lab correctionLabels
		base, _, lab = corrected(rel, lang)
		label := lab.Reply
		if rel.CorrectionOf.Retraction {
			label = lab.Retraction
		}
		blocks = append(blocks, noteBlock(label, rel.CorrectionOf.Note))
	}
	v := r.view(base, lang, false)
	var title, summary tgBuilder
	title.wrapped(tagBold, v.Title)
	summary.wrapped(tagItalic, v.Summary)
	for _, b := range []*tgBuilder{&title, &summary} {
		if blk := b.done(); blk != nil {
			blocks = append(blocks, blk)
		}
	}
	if len(blocks) == 0 {
		return "", fmt.Errorf("render the caption of release %q for Telegram: %w", rel.ID, errNoText)
	}
	var tail *tgBlock
	if link != "" {
		var more tgBuilder
		u, ok := webURL(link)
		if !ok || !more.open(tagLink, u) {
			return "", fmt.Errorf("render the caption of release %q for Telegram: link %q is not an http(s) URL", rel.ID, link)
		}
		more.write(v.Labels.FullText + " →")
		more.close()
		tail = more.done()
	}
	return caption(blocks, tail, CaptionLimit), nil
}

// caption lays blocks out, then tail, in at most limit code units: the
// blocks that fit whole, then the first that does not, cut (see cutBlock),
// when there is room for a few words of it.
func caption(blocks []*tgBlock, tail *tgBlock, limit int) string {
	room := limit
	if tail != nil {
		room -= tail.length(tail.span()) + len(blockSep)
	}
	var out []string
	for _, blk := range blocks {
		start, end := blk.span()
		sep := 0
		if len(out) > 0 {
			sep = len(blockSep)
		}
		if n := blk.length(start, end); n+sep <= room {
			var w strings.Builder
			blk.render(&w, start, end)
			out = append(out, w.String())
			room -= n + sep
			continue
		}
		if s, ok := cutBlock(blk, start, end, room-sep); ok {
			out = append(out, s)
		}
		break
	}
	if tail != nil {
		var w strings.Builder
		start, end := tail.span()
		tail.render(&w, start, end)
		out = append(out, w.String())
	}
	return strings.Join(out, blockSep)
}

// minCut is the least room worth giving a block cut short.
const minCut = 16

// cutBlock renders blk's text from start, cut to at most room code units
// with the ellipsis: at the last space that leaves it room, or, in a text
// without one, between two characters; the ellipsis goes inside the tags
// open where it was cut. It reports false when room is too small for a
// useful piece.
func cutBlock(blk *tgBlock, start, end, room int) (string, bool) {
	if room < minCut {
		return "", false
	}
	max := start
	for max < end && blk.units[max+1]-blk.units[start]+len([]rune(ellipsis)) <= room {
		max++
	}
	cut := max
	for i := max; i > start; i-- {
		if unicode.IsSpace(blk.text[i]) {
			cut = i
			break
		}
	}
	if cut == max {
		for cut > start+1 && !graphemeBoundary(blk.text, cut) {
			cut--
		}
	}
	cut = trimEnd(blk.text, start, cut)
	for cut > start && strings.ContainsRune(",;:-–—", blk.text[cut-1]) {
		cut-- // "word…" rather than "word,…"
	}
	if cut <= start {
		return "", false
	}
	var w strings.Builder
	blk.render(&w, start, cut)
	s := w.String()
	// Put the ellipsis before the closing tags at the end.
	at := len(s)
	for strings.HasSuffix(s[:at], ">") {
		i := strings.LastIndex(s[:at], "</")
		if i < 0 || strings.Contains(s[i:at], "<a ") {
			break
		}
		at = i
	}
	return s[:at] + ellipsis + s[at:], true
}
