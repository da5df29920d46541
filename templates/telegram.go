package templates

import (
	"errors"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
)

// telegramLimit is the most text a Telegram message may hold, in UTF-16
// code units after entity parsing.
const telegramLimit = 4096

// errNoText is returned for a release with nothing to post.
var errNoText = errors.New("templates: release has no text to post")

// Telegram renders rel in lang as one or more Telegram messages in HTML
// parse mode, each valid on its own and at most 4096 characters as Telegram
// counts them (UTF-16 code units of the text after entity parsing). A message
// is the title in bold, the summary in italics, the body,
// the organisation's "About" text, the press contact and the source link;
// when that is too long it is split between blocks, or inside a block that
// is longer than a message, and each message ends with its number, "(1/3)",
// on a line of its own (counted in the 4096). It fails only when the release has no text at
// all.
//
// A post never carries an embargo line: a channel is a public audience, so
// a release reaches it only once its embargo has lifted.
func (r *Renderer) Telegram(rel *dispatcher.Release, lang string) ([]string, error) {
	if rel.CorrectionOf != nil {
		return r.correctionTelegram(rel, lang) // correction.go
	}
	return r.telegramPacked(rel, lang, telegramLimit, packNumbered)
}

// telegram is Telegram with messages of at most limit code units, not
// numbered; limit must be at least 4.
func (r *Renderer) telegram(rel *dispatcher.Release, lang string, limit int) ([]string, error) {
	return r.telegramPacked(rel, lang, limit, pack)
}

// telegramPacked is Telegram with the messages laid out by packBlocks (pack
// or packNumbered) in at most limit code units each.
func (r *Renderer) telegramPacked(rel *dispatcher.Release, lang string, limit int, packBlocks func([]*tgBlock, int) []string) ([]string, error) {
	v := r.view(rel, lang, false)
	var blocks []*tgBlock
	add := func(b *tgBuilder) {
		if blk := b.done(); blk != nil {
			blocks = append(blocks, blk)
		}
	}

	var title, summary tgBuilder
	title.wrapped(tagBold, v.Title)
	add(&title)
	summary.wrapped(tagItalic, v.Summary)
	add(&summary)

	blocks = append(blocks, tgWalker{src: v.body}.document(r.document(v))...)
	if v.about != nil {
		blocks = append(blocks, tgWalker{src: v.about}.document(parse(r.md, v.about))...)
	}

	if c := v.Contact; c != nil {
		var b tgBuilder
		b.wrapped(tagBold, v.Labels.Contact)
		for _, s := range []string{c.Name, c.Email, c.Phone} {
			b.separate("\n")
			b.write(s)
		}
		add(&b)
	}
	if v.Source != "" {
		var b tgBuilder
		b.write(v.Labels.Source + " ")
		ok := b.open(tagLink, v.Source)
		b.write(v.Source)
		if ok {
			b.close()
		}
		add(&b)
	}

	parts := packBlocks(blocks, limit)
	if len(parts) == 0 {
		return nil, fmt.Errorf("render release %q for Telegram: %w", rel.ID, errNoText)
	}
	return parts, nil
}
