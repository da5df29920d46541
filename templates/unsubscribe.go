package templates

import (
	"html"
	htmltemplate "html/template"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// The email Renderer.Email makes is shared by all the recipients of a
// release in one language, but its last line holds each recipient's own
// unsubscribe link. So that the email is not rendered again per recipient,
// the templates write that line once, starting with unsubscribeMarker and
// with unsubscribeURL where the link goes, and WithUnsubscribe fills it in.
//
// The marker holds NUL bytes, which user text can never produce (clean turns
// them into U+FFFD and entity references to NUL decode to U+FFFD), so only
// the templates can start such a line; the URL placeholder is replaced only
// in those lines.
const (
	unsubscribeMarker = "\x00pregon:unsubscribe\x00"
	unsubscribeURL    = "%UNSUBSCRIBE_URL%"
)

// templateFuncs are the functions the email templates may call.
func templateFuncs() map[string]any {
	return map[string]any{
		// unsubscribe starts the line that holds the unsubscribe link.
		"unsubscribe": func() htmltemplate.HTML { return unsubscribeMarker },
	}
}

// WithUnsubscribe returns a copy of c, an email Renderer.Email made, with
// the unsubscribe line of its plain text and HTML filled in with link (HTML
// escaped in the HTML), or removed, with the blank line before it, when link
// is "". The content itself is not changed, so it can be shared.
func WithUnsubscribe(c *dispatcher.EmailContent, link string) *dispatcher.EmailContent {
	out := *c
	out.Text = fillUnsubscribe(c.Text, link)
	out.HTML = fillUnsubscribe(c.HTML, html.EscapeString(link))
	return &out
}

func fillUnsubscribe(s, link string) string {
	if !strings.Contains(s, unsubscribeMarker) {
		return s
	}
	var out []string
	for _, line := range strings.SplitAfter(s, "\n") {
		rest, ok := strings.CutPrefix(line, unsubscribeMarker)
		switch {
		case !ok:
			out = append(out, line)
		case link != "":
			out = append(out, strings.ReplaceAll(rest, unsubscribeURL, link))
		default:
			if n := len(out); n > 0 && strings.TrimSpace(out[n-1]) == "" {
				out = out[:n-1]
			}
		}
	}
	// A marker anywhere else cannot happen; never let one out.
	return strings.ReplaceAll(strings.Join(out, ""), unsubscribeMarker, "")
}
