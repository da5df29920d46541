package api

import (
	"net/url"
	"regexp"
	"strings"
	"unicode"
	"unicode/utf8"
)

// languageTag matches tags like "es", "en", "pt-BR", "zh-Hant-TW".
var languageTag = regexp.MustCompile(`^[A-Za-z]{2,8}(-[A-Za-z0-9]{1,8})*$`)

func validLanguage(s string) bool { return len(s) <= 35 && languageTag.MatchString(s) }

// checkLanguage validates a language tag in field (required or not).
func checkLanguage(fe *fieldErrors, field, lang string, required bool) {
	switch {
	case lang == "" && required:
		fe.add(field, "is required (a language code like \"es\", \"en\" or \"pt-BR\")")
	case lang != "" && !validLanguage(lang):
		fe.add(field, "must be a language code like \"es\", \"en\" or \"pt-BR\"")
	}
}

// badLineRune reports whether r may not appear in a one-line field: a
// control character (C0, DEL, C1) or the Unicode line and paragraph
// separators U+2028 and U+2029.
func badLineRune(r rune) bool {
	return unicode.IsControl(r) || r == '\u2028' || r == '\u2029'
}

// badTextRune reports whether r may not appear in multi-line text (a body,
// a summary): what badLineRune refuses, but for tab, line feed and carriage
// return.
func badTextRune(r rune) bool {
	return r != '\t' && r != '\n' && r != '\r' && badLineRune(r)
}

// controlMessage is the field error for a control character.
const controlMessage = "must not contain control characters (such as NUL, ESC, form feed or the Unicode line separators U+2028 and U+2029)"

// checkLine validates a one-line text field of at most max characters.
func checkLine(fe *fieldErrors, field, s string, required bool, max int) {
	switch {
	case s == "" && required:
		fe.add(field, "is required")
	case strings.ContainsAny(s, "\r\n"):
		fe.add(field, "must be a single line (no line breaks)")
	case strings.IndexFunc(s, badLineRune) >= 0:
		fe.add(field, controlMessage)
	case utf8.RuneCountInString(s) > max:
		fe.add(field, "must be at most %d characters", max)
	}
}

// checkTextChars refuses control characters, but for tab and line breaks,
// in a multi-line text field.
func checkTextChars(fe *fieldErrors, field, s string) {
	if strings.IndexFunc(s, badTextRune) >= 0 {
		fe.add(field, controlMessage+"; tabs and line breaks are fine")
	}
}

// oneLine replaces line breaks and tabs with spaces and trims s, for
// free-text fields imported from spreadsheets.
func oneLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ", "\t", " ").Replace(s))
}

// checkURL validates a URL given as input: an absolute http or https URL
// with a host, no user name or password, and no spaces, control
// characters, quotes or angle brackets (which would break it out of an
// HTML attribute or a Markdown link).
func checkURL(fe *fieldErrors, field, s string) {
	if len(s) > 2048 {
		fe.add(field, "must be at most 2048 characters")
		return
	}
	if strings.IndexFunc(s, func(r rune) bool { return badLineRune(r) || unicode.IsSpace(r) }) >= 0 ||
		strings.ContainsAny(s, "\"'<>`\\") {
		fe.add(field, "must not contain spaces, control characters, quotes, angle brackets or backslashes (percent-encode them)")
		return
	}
	u, err := url.Parse(s)
	switch {
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Opaque != "":
		fe.add(field, "must be an absolute http or https URL")
	case u.User != nil:
		fe.add(field, "must not contain a user name or password")
	case u.Hostname() == "":
		fe.add(field, "must name a host, like https://example.org/")
	}
}
