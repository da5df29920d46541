package web

import (
	"regexp"
	"strconv"
	"strings"
)

// The API answers problems in English, most with a code and its values
// (api.ProblemCodes). localize puts them in the person's language: a
// problem whose code it knows, or failing that whose detail it reads
// (detailRules, for an API that sends no code), is said anew from
// problemMessages (the English kept in Original, for whoever asks for
// help); one it does not know gets the general sentence of its status,
// with the English below. Field errors are translated one by one, the
// field named in words.

// detailRule reads one kind of API detail as a problem code: args names
// the pattern's groups, in order (a group of digits is a number).
type detailRule struct {
	re   *regexp.Regexp
	code string
	args []string
}

var detailRules = []detailRule{
	{regexp.MustCompile(`^The bot cannot post to (\S+) \(`), "channel.bot_cannot_post", []string{"chat_id"}},
	{regexp.MustCompile(`^Telegram channel \S+ is (\w+), not pending`), "channel.not_pending", []string{"status"}},
	{regexp.MustCompile(`^A channel with chat_id (\S+) is already registered`), "channel.taken", []string{"chat_id"}},
	{regexp.MustCompile(`^The release is at version (\d+), not \d+`), "release.version_conflict", []string{"current"}},
	{regexp.MustCompile(`^The release was edited while it was being checked: version (\d+) passed the pre-send checks, but it is at version (\d+) now`),
		"release.changed_while_checked", []string{"checked", "current"}},
	{regexp.MustCompile(`^The release is sending; it can no longer be`), "release.sending", nil},
	{regexp.MustCompile(`^The release was cancelled`), "release.cancelled", nil},
	{regexp.MustCompile(`^The release was sent \(\w+\); it can no longer be`), "release.sent", nil},
	{regexp.MustCompile(`^The release was already sent; it cannot be cancelled`), "release.sent", nil},
	{regexp.MustCompile(`^You wrote this release`), "release.own", nil},
	{regexp.MustCompile(`^The release needs approval of version (\d+)`), "release.needs_approval", []string{"version"}},
	{regexp.MustCompile(`^The release is \w+: a correction is for a release that was sent`), "correction.not_sent", nil},
	{regexp.MustCompile(`^The correction changes nothing`), "correction.no_change", nil},
	{regexp.MustCompile(`^There is no contact with that address`), "contact.not_found", nil},
	{regexp.MustCompile(`^There is no Telegram channel`), "not_found", nil},
	{regexp.MustCompile(`^Nothing was found at`), "not_found", nil},
	{regexp.MustCompile(`^The service's database \(Redis\) is not answering`), "unavailable", nil},
	{regexp.MustCompile(`^The request body is larger than (\d+) bytes`), "too_big", []string{"max"}},
	{regexp.MustCompile(`^The release cannot be sent while a pre-send check is an error`), "release.checks_failed", nil},
	{regexp.MustCompile(`^Version (\d+) cannot be sent as it is, so it cannot be approved`), "release.approve_incomplete", []string{"version"}},
	{regexp.MustCompile(`^The release was scheduled to go out while this edit was being made`), "release.incomplete", nil},
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
	said, byCode := l.say(problemMessages, p.Code, p.Args)
	switch {
	case d == "":
		return &out
	case byCode:
		out.Detail = said
	case fieldsPhrase.MatchString(d):
		n, _ := strconv.Atoi(fieldsPhrase.FindStringSubmatch(d)[1])
		out.Detail = l.T("problem.fields", n)
	case fieldPhrase.MatchString(d) && len(p.Errors) == 1:
		out.Detail = l.T("problem.field", out.Errors[0].Field, out.Errors[0].Message)
	default:
		out.Detail = ""
		if code, args, ok := readDetail(d); ok {
			out.Detail, _ = l.say(problemMessages, code, args)
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

// readDetail reads an API detail that came without its code as the code
// and values of the first rule that matches; false when none does.
func readDetail(d string) (string, map[string]any, bool) {
	for _, rule := range detailRules {
		m := rule.re.FindStringSubmatch(d)
		if m == nil {
			continue
		}
		args := map[string]any{}
		for i, name := range rule.args {
			if i+1 >= len(m) {
				break
			}
			if n, err := strconv.ParseInt(m[i+1], 10, 64); err == nil {
				args[name] = n
			} else {
				args[name] = m[i+1]
			}
		}
		return rule.code, args, true
	}
	return "", nil, false
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
