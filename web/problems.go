package web

import (
	"regexp"
	"strconv"
	"strings"
)

// The API answers problems in English. localize puts the common ones in
// the person's language: a problem whose detail it knows is said anew (the
// English kept in Original, for whoever asks for help); one it does not
// know gets the general sentence of its status, with the English below.
// Field errors are translated one by one, the field named in words.

// detailRule turns one kind of API detail into a message; args are the
// pattern's groups, in order.
type detailRule struct {
	re  *regexp.Regexp
	key string
}

var detailRules = []detailRule{
	{regexp.MustCompile(`^The bot cannot post to (\S+) \(`), "problem.bot_cannot_post"},
	{regexp.MustCompile(`^Telegram channel \S+ is (\w+), not pending`), "problem.not_pending"},
	{regexp.MustCompile(`^A channel with chat_id (\S+) is already registered`), "problem.channel_taken"},
	{regexp.MustCompile(`^The release is at version (\d+), not \d+`), "problem.version"},
	{regexp.MustCompile(`^The release was edited while it was being checked: version \d+ passed the pre-send checks, but it is at version (\d+) now`), "problem.version"},
	{regexp.MustCompile(`^The release is sending; it can no longer be`), "problem.sending"},
	{regexp.MustCompile(`^The release was cancelled`), "problem.cancelled"},
	{regexp.MustCompile(`^The release was sent \(\w+\); it can no longer be`), "problem.already_sent"},
	{regexp.MustCompile(`^The release was already sent; it cannot be cancelled`), "problem.already_sent"},
	{regexp.MustCompile(`^You wrote this release`), "problem.own_release"},
	{regexp.MustCompile(`^The release needs approval of version (\d+)`), "problem.needs_approval"},
	{regexp.MustCompile(`^The release is \w+: a correction is for a release that was sent`), "problem.not_sent"},
	{regexp.MustCompile(`^The correction changes nothing`), "problem.no_change"},
	{regexp.MustCompile(`^There is no contact with that address`), "problem.no_contact"},
	{regexp.MustCompile(`^There is no Telegram channel`), "error.404"},
	{regexp.MustCompile(`^Nothing was found at`), "error.404"},
	{regexp.MustCompile(`^The service's database \(Redis\) is not answering`), "error.503"},
	{regexp.MustCompile(`^The request body is larger than`), "problem.too_big"},
	{regexp.MustCompile(`^The release cannot be sent while a pre-send check is an error`), "problem.checks_failed"},
	{regexp.MustCompile(`^Version (\d+) cannot be sent as it is, so it cannot be approved`), "problem.approve_incomplete"},
	{regexp.MustCompile(`^The release was scheduled to go out while this edit was being made`), "problem.incomplete"},
}

// fieldRule translates one kind of field message.
type fieldRule struct {
	re  *regexp.Regexp
	key string
}

var fieldRules = []fieldRule{
	{regexp.MustCompile(`^is required`), "field.required"},
	{regexp.MustCompile(`^(invalid email|must be a valid email address|must be an email address)`), "field.email"},
	{regexp.MustCompile(`^must be at most (\d+) characters`), "field.too_long"},
	{regexp.MustCompile(`^(\w+) is longer than (\d+) characters`), "field.too_long_named"},
	{regexp.MustCompile(`^must be at most (\d+) KB`), "field.too_big"},
	{regexp.MustCompile(`^must be a single line`), "field.one_line"},
	{regexp.MustCompile(`^must be in the future`), "field.future"},
	{regexp.MustCompile(`^is not the current version \((\d+)\)`), "field.version"},
	{regexp.MustCompile(`^is (\d+) now; version \d+ was checked`), "field.version"},
	{regexp.MustCompile(`^(must be a language code|is required \(a language code|invalid language)`), "field.language"},
	{regexp.MustCompile(`^must be "admin", "coordinator" or "viewer"`), "field.role"},
	{regexp.MustCompile(`^(a release )?needs at least one list or Telegram channel`), "field.audiences"},
	{regexp.MustCompile(`^must be an absolute http or https URL`), "field.url"},
	{regexp.MustCompile(`^unknown (\w+) id "([^"]*)"`), "field.unknown_id"},
}

// fieldPhrase is "field: message." as the API writes a lone field error
// in the detail, and fieldsPhrase the detail of several.
var (
	fieldPhrase  = regexp.MustCompile(`^([A-Za-z_.\[\]0-9-]+): .*\.$`)
	fieldsPhrase = regexp.MustCompile(`^(\d+) fields are not valid: `)
)

// localize returns the API's problem p in l's language (p itself when it
// is the app's own, already in l's language, or was said anew already).
func localize(l *Lang, p *Problem) *Problem {
	if p == nil || !p.FromAPI || p.Translated {
		return p
	}
	out := *p
	out.Translated = true
	out.Errors = nil
	for _, fe := range p.Errors {
		fe.Message = fieldMessage(l, fe.Message)
		fe.Field = l.fieldName(fe.Field)
		out.Errors = append(out.Errors, fe)
	}
	if l.Code == "en" {
		out.Errors = p.Errors
		return &out
	}
	d := strings.TrimSpace(p.Detail)
	switch {
	case d == "":
		return &out
	case fieldsPhrase.MatchString(d):
		n, _ := strconv.Atoi(fieldsPhrase.FindStringSubmatch(d)[1])
		out.Detail = l.T("problem.fields", n)
	case fieldPhrase.MatchString(d) && len(p.Errors) == 1:
		out.Detail = l.T("problem.field", out.Errors[0].Field, out.Errors[0].Message)
	default:
		out.Detail = ""
		for _, rule := range detailRules {
			if m := rule.re.FindStringSubmatch(d); m != nil {
				args := make([]any, len(m)-1)
				for i, g := range m[1:] {
					args[i] = g
				}
				out.Detail = l.T(rule.key, args...)
				break
			}
		}
		if out.Detail == "" {
			if msg := l.T("error." + strconv.Itoa(p.Status)); !strings.HasPrefix(msg, "error.") {
				out.Detail = msg
			} else {
				out.Detail = l.T("error.heading")
			}
		}
	}
	if out.Detail != d {
		out.Original = d
	}
	return &out
}

// fieldMessage translates one field error's message, or keeps it.
func fieldMessage(l *Lang, msg string) string {
	if l.Code == "en" {
		return msg
	}
	for _, rule := range fieldRules {
		if m := rule.re.FindStringSubmatch(msg); m != nil {
			args := []any{}
			for _, g := range m[1:] {
				if _, err := strconv.Atoi(g); err == nil || rule.key == "field.unknown_id" || rule.key == "field.too_long_named" {
					args = append(args, g)
				}
			}
			return l.T(rule.key, args...)
		}
	}
	return msg
}

// fieldName names an API field in words: "title" → "Título".
func (l *Lang) fieldName(f string) string {
	if n := l.T("fieldname." + f); !strings.HasPrefix(n, "fieldname.") {
		return n
	}
	return f
}
