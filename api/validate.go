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

// checkLine validates a one-line text field of at most max characters.
func checkLine(fe *fieldErrors, field, s string, required bool, max int) {
	switch {
	case s == "" && required:
		fe.add(field, "is required")
	case strings.ContainsAny(s, "\r\n"):
		fe.add(field, "must be a single line (no line breaks)")
	case strings.IndexFunc(s, unicode.IsControl) >= 0:
		fe.add(field, "must not contain control characters")
	case utf8.RuneCountInString(s) > max:
		fe.add(field, "must be at most %d characters", max)
	}
}

// oneLine replaces line breaks with spaces and trims s, for free-text fields
// imported from spreadsheets.
func oneLine(s string) string {
	return strings.TrimSpace(strings.NewReplacer("\r\n", " ", "\r", " ", "\n", " ").Replace(s))
}

// checkURL validates an absolute http(s) URL.
func checkURL(fe *fieldErrors, field, s string) {
	u, err := url.Parse(s)
	switch {
	case len(s) > 2048:
		fe.add(field, "must be at most 2048 characters")
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || strings.ContainsAny(s, " \t\r\n"):
		fe.add(field, "must be an absolute http or https URL")
	}
}
