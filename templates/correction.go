package templates

import (
	"errors"
	"html"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// A correction (a release with CorrectionOf) is rendered as the corrected
// release with its note on top: the email's subject starts "CORRECCIÓN: " /
// "CORRECTION: " and both its parts begin with the note; the Telegram post
// begins with it. A retraction has the note and no statement: subject
// "RETIRADO: " / "WITHDRAWN: ", the title, the note, the contact block.

var _ dispatcher.CorrectionRenderer = (*Renderer)(nil)

// errNotCorrection is returned for a release that is not a correction by
// the renderings only a correction has.
var errNotCorrection = errors.New("templates: the release is not a correction")

// correctionLabels are the words of a correction, in one language.
type correctionLabels struct {
	Correction string // subject prefix and the note's label in an email
	Retraction string // the same, of a retraction
	Reply      string // the note's label in Telegram
	Leftover   string // a part of the original post the corrected one no longer needs
	Withdrawn  string // the same, of a retraction
}

// correctionLabelsFor returns the labels for a language tag: Spanish for
// Spanish, English for everything else (as labelsFor).
func correctionLabelsFor(lang string) correctionLabels {
	if baseLanguage(lang) == "es" {
		return correctionLabels{Correction: "CORRECCIÓN", Retraction: "RETIRADO", Reply: "Corrección",
			Leftover: "⬆ El texto corregido está arriba.", Withdrawn: "⬆ Comunicado retirado: véase arriba."}
	}
	return correctionLabels{Correction: "CORRECTION", Retraction: "WITHDRAWN", Reply: "Correction",
		Leftover: "⬆ The corrected text is above.", Withdrawn: "⬆ Statement withdrawn: see above."}
}

// corrected returns the release a correction is rendered from: the
// corrected text, not marked as a correction (so that rendering it does
// not come back here), without summary and bodies for a retraction. It
// also returns the note's label in lang.
func corrected(rel *dispatcher.Release, lang string) (*dispatcher.Release, string, correctionLabels) {
	c := *rel
	c.CorrectionOf, c.EmbargoUntil = nil, nil
	lab := correctionLabelsFor(rel.Text(lang).Language)
	label := lab.Correction
	if rel.CorrectionOf.Retraction {
		label = lab.Retraction
		c.Summary, c.Body = "", ""
		c.Translations = make([]dispatcher.Translation, len(rel.Translations))
		for i, t := range rel.Translations {
			c.Translations[i] = dispatcher.Translation{Language: t.Language, Title: t.Title}
		}
	}
	return &c, label, lab
}

// correctionEmail renders a correction for email (see Email).
func (r *Renderer) correctionEmail(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
	base, label, _ := corrected(rel, lang)
	c, err := r.Email(base, lang)
	if err != nil {
		return nil, err
	}
	note := oneLine(rel.CorrectionOf.Note)
	c.Subject = label + ": " + c.Subject

	text := wrapText(label+": "+note, textWidth) + "\n\n"
	c.Text = text + c.Text
	if c.Unsubscribe.Text.Parts != nil {
		c.Unsubscribe.Text.At += len(text)
	}

	block := `<p class="correction" style="margin:0 0 16px; padding:8px 12px; border:2px solid #8a5a00; color:#5c3c00; ` +
		`font-family:Arial,Helvetica,sans-serif;"><strong>` + html.EscapeString(label) + `:</strong> ` +
		html.EscapeString(note) + "</p>\n"
	at := htmlTop(c.HTML)
	c.HTML = c.HTML[:at] + block + c.HTML[at:]
	if c.Unsubscribe.HTML.Parts != nil && c.Unsubscribe.HTML.At >= at {
		c.Unsubscribe.HTML.At += len(block)
	}
	return c, nil
}

// htmlTop returns where the first thing a reader sees goes in an email's
// HTML: just inside the card that holds the text, or else just inside the
// body, or else at the start.
func htmlTop(s string) int {
	for _, open := range []string{`<div class="card"`, `<body`} {
		if i := strings.Index(s, open); i >= 0 {
			if j := strings.IndexByte(s[i:], '>'); j >= 0 {
				at := i + j + 1
				if at < len(s) && s[at] == '\n' {
					at++
				}
				return at
			}
		}
	}
	return 0
}

// noteBlock returns the Telegram block "<b>label:</b> note".
func noteBlock(label, note string) *tgBlock {
	var b tgBuilder
	b.wrapped(tagBold, label+":")
	b.write(" " + oneLine(note))
	return b.done()
}

// correctionTelegram renders a correction as a Telegram post (see
// Telegram): the corrected post with the note on top, or, for a
// retraction, the note and the statement's title alone.
func (r *Renderer) correctionTelegram(rel *dispatcher.Release, lang string) ([]string, error) {
	base, _, lab := corrected(rel, lang)
	note := noteBlock(lab.Reply, rel.CorrectionOf.Note)
	if rel.CorrectionOf.Retraction {
		var title tgBuilder
		title.wrapped(tagStrike, oneLine(base.Text(lang).Title))
		blocks := []*tgBlock{noteBlock(lab.Retraction, rel.CorrectionOf.Note)}
		if t := title.done(); t != nil {
			blocks = append(blocks, t)
		}
		return pack(blocks, telegramLimit), nil
	}
	head := pack([]*tgBlock{note}, telegramLimit)
	if len(head) != 1 {
		// A note of a few hundred characters always fits in one message.
		return r.telegramPacked(base, lang, telegramLimit, packNumbered)
	}
	parts, err := r.telegramPacked(base, lang, telegramLimit-TelegramLength(head[0])-len(blockSep), packNumbered)
	if err != nil {
		return nil, err
	}
	parts[0] = head[0] + blockSep + parts[0]
	return parts, nil
}

// TelegramCorrectionReply renders the reply a correction posts under a
// Telegram post that can no longer be edited: "Corrección: <note>" (or
// "Correction: …", by the language of the version in lang; "RETIRADO: …" /
// "WITHDRAWN: …" for a retraction). It fails for a release that is not a
// correction.
func (r *Renderer) TelegramCorrectionReply(rel *dispatcher.Release, lang string) (string, error) {
	if rel.CorrectionOf == nil {
		return "", errNotCorrection
	}
	lab := correctionLabelsFor(rel.Text(lang).Language)
	label := lab.Reply
	if rel.CorrectionOf.Retraction {
		label = lab.Retraction
	}
	return pack([]*tgBlock{noteBlock(label, rel.CorrectionOf.Note)}, telegramLimit)[0], nil
}

// TelegramLeftover renders what a message of a Telegram post says once a
// correction no longer needs it: a line in italics pointing to the
// corrected text (or the withdrawal) above. It fails for a release that is
// not a correction.
func (r *Renderer) TelegramLeftover(rel *dispatcher.Release, lang string) (string, error) {
	if rel.CorrectionOf == nil {
		return "", errNotCorrection
	}
	lab := correctionLabelsFor(rel.Text(lang).Language)
	line := lab.Leftover
	if rel.CorrectionOf.Retraction {
		line = lab.Withdrawn
	}
	var b tgBuilder
	b.wrapped(tagItalic, line)
	return pack([]*tgBlock{b.done()}, telegramLimit)[0], nil
}
