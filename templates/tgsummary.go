package templates

import (
	"fmt"

	"github.com/pregon/pregon/dispatcher"
)

// TelegramSummary renders rel in lang as a Telegram channel in summary mode
// posts it: the title in bold, the summary in italics and a link to the
// full text at link (an http or https URL), in one message unless the
// summary is longer than a message. It fails when the release has no
// title nor summary, or link is not an http(s) URL.
func (r *Renderer) TelegramSummary(rel *dispatcher.Release, lang, link string) ([]string, error) {
	v := r.view(rel, lang, false)
	var blocks []*tgBlock
	add := func(b *tgBuilder) {
		if blk := b.done(); blk != nil {
			blocks = append(blocks, blk)
		}
	}
	var title, summary, more tgBuilder
	title.wrapped(tagBold, v.Title)
	add(&title)
	summary.wrapped(tagItalic, v.Summary)
	add(&summary)
	if len(blocks) == 0 {
		return nil, fmt.Errorf("render the summary of release %q for Telegram: %w", rel.ID, errNoText)
	}
	u, ok := webURL(link)
	if !ok || !more.open(tagLink, u) {
		return nil, fmt.Errorf("render the summary of release %q for Telegram: link %q is not an http(s) URL", rel.ID, link)
	}
	more.write(v.Labels.FullText + " →")
	more.close()
	add(&more)
	return packNumbered(blocks, telegramLimit), nil
}
