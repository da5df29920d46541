package dispatcher

import (
	"html"
	"strings"
)

// LinkSlot is where the line that holds a recipient's own link (the
// unsubscribe line of an email's footer) goes into a body that all
// recipients share: at byte At, the line Parts[0] + link + Parts[1] (+ link
// + Parts[2] ..., when the line holds the link more than once). A zero
// LinkSlot holds no line.
type LinkSlot struct {
	At    int
	Parts []string
}

// Split returns body with the slot's line in it, cut where the link goes:
// one piece more than the times the link appears. For a zero slot it returns
// body alone.
func (s LinkSlot) Split(body string) []string {
	if len(s.Parts) < 2 || s.At < 0 || s.At > len(body) {
		return []string{body}
	}
	out := make([]string, len(s.Parts))
	copy(out, s.Parts)
	out[0] = body[:s.At] + out[0]
	out[len(out)-1] += body[s.At:]
	return out
}

// Fill returns body with the slot's line holding link, or body unchanged when
// link is "" (a message without the line).
func (s LinkSlot) Fill(body, link string) string {
	if link == "" {
		return body
	}
	return strings.Join(s.Split(body), link)
}

// WithUnsubscribe returns a copy of c for one recipient: its unsubscribe
// line, in the plain text and (HTML-escaped) in the HTML, holds link, or is
// left out when link is "". c itself is not changed, so it can be shared.
func (c *EmailContent) WithUnsubscribe(link string) *EmailContent {
	out := *c
	out.Text = c.Unsubscribe.Text.Fill(c.Text, link)
	out.HTML = c.Unsubscribe.HTML.Fill(c.HTML, html.EscapeString(link))
	out.Unsubscribe = UnsubscribeSlots{}
	return &out
}

// UnsubscribeSlots place the unsubscribe line in an EmailContent's bodies.
type UnsubscribeSlots struct {
	Text, HTML LinkSlot
}
