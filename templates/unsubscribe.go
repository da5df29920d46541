package templates

import (
	htmltemplate "html/template"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// The email Renderer.Email makes is shared by all the recipients of a
// release in one language, but its last line holds each recipient's own
// unsubscribe link. So that the email is not rendered again per recipient,
// the templates write that line once, starting with unsubscribeMarker and
// with unsubscribeURL where the link goes; Renderer.Email then takes the
// line out and returns where it goes as a dispatcher.LinkSlot, which
// EmailContent.WithUnsubscribe fills in. The marker never leaves this
// package.
//
// The marker holds NUL bytes, which user text can never produce (clean turns
// them into U+FFFD and entity references to NUL decode to U+FFFD), so only
// the templates can start such a line; the URL placeholder is replaced only
// in that line.
//
// A line break inside the unsubscribe line is written as unsubscribeBreak,
// so that a long link can have a line of its own in the text.
const (
	unsubscribeMarker = "\x00pregon:unsubscribe\x00"
	unsubscribeBreak  = "\x00pregon:br\x00"
	unsubscribeURL    = "%UNSUBSCRIBE_URL%"
)

// templateFuncs are the functions the email templates may call.
func templateFuncs() map[string]any {
	return map[string]any{
		// unsubscribe starts the line that holds the unsubscribe link.
		"unsubscribe": func() htmltemplate.HTML { return unsubscribeMarker },
		// br breaks the unsubscribe line.
		"br": func() htmltemplate.HTML { return unsubscribeBreak },
		// wrap wraps plain text at the text's width.
		"wrap": func(s string) string { return wrapText(s, textWidth) },
		// preheaderPad follows the preheader, so that mail clients show
		// none of the text after it in their preview.
		"preheaderPad": func() htmltemplate.HTML {
			return htmltemplate.HTML(strings.Repeat("&#847;&zwnj;&nbsp;", 90))
		},
	}
}

// cutUnsubscribe takes the unsubscribe line (and the blank line before it)
// out of a rendered body, and returns the body without it and where it goes.
// A body without the line comes back unchanged, with a zero slot.
func cutUnsubscribe(s string) (string, dispatcher.LinkSlot) {
	i := strings.Index(s, unsubscribeMarker)
	if i < 0 || (i > 0 && s[i-1] != '\n') {
		return strings.ReplaceAll(strings.ReplaceAll(s, unsubscribeMarker, ""), unsubscribeBreak, ""), dispatcher.LinkSlot{}
	}
	end := len(s)
	if j := strings.IndexByte(s[i:], '\n'); j >= 0 {
		end = i + j + 1
	}
	line := strings.ReplaceAll(s[i+len(unsubscribeMarker):end], unsubscribeBreak, "\n")
	// The blank line before it goes with it, so that an email without the
	// line does not end in a blank one.
	start := i
	if k := strings.LastIndexByte(s[:max(i-1, 0)], '\n'); i > 0 && strings.TrimSpace(s[k+1:i]) == "" {
		start = k + 1
	}
	slot := dispatcher.LinkSlot{At: start, Parts: strings.Split(s[start:i]+line, unsubscribeURL)}
	rest := s[:start] + s[end:]
	// A marker anywhere else cannot happen; never let one out.
	rest = strings.ReplaceAll(strings.ReplaceAll(rest, unsubscribeMarker, ""), unsubscribeBreak, "")
	for n, p := range slot.Parts {
		slot.Parts[n] = strings.ReplaceAll(strings.ReplaceAll(p, unsubscribeMarker, ""), unsubscribeBreak, "")
	}
	return rest, slot
}
