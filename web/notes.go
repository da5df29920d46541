package web

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/dispatcher"
)

// The API says each check and each refused row of an import in English,
// and also as notes: a code and its values (api.NoteCodes). The web app
// says the notes from its own catalogue (noteMessages, messages_notes.go)
// in the person's language, and shows the API's English when it does not
// know a code (an API newer than the app) or a value is missing.
//
// A note's text names its values in braces:
//
//	{n}             the value: a number written the language's way, a
//	                string as it is, a list of strings or of notes as
//	                "a, b and c" ("a, b y c")
//	{n|one|other}   one when n is 1, else other; # in it is n, written
//	{x:or}          a list as "a, b or c"; {x:comma}: "a, b, c";
//	                {x:semi}: "a; b; c"
//	{at:time}       an RFC 3339 time: "4 de febrero de 2026, 10:00"
//	{size:size}     a number of bytes: "2,5 MB"

// Check returns the sentence of check c in l's language: its notes said
// one after the other, or its English message when a note cannot be said.
func (l *Lang) Check(c dispatcher.Check) string {
	if len(c.Notes) == 0 {
		return c.Message
	}
	out := make([]string, 0, len(c.Notes))
	for _, n := range c.Notes {
		s, ok := l.note(n.Code, n.Args)
		if !ok {
			return c.Message
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// RowError returns why an import refused row e, in l's language (its
// English message when its code cannot be said).
func (l *Lang) RowError(e api.RowError) string {
	if s, ok := l.note(e.Code, e.Args); ok {
		return s
	}
	return e.Message
}

// Reason returns a suppression reason in words ("se dio de baja"), or the
// reason as the API wrote it when the app does not know it.
func (l *Lang) Reason(reason string) string {
	if s := l.T("reason." + reason); s != "reason."+reason {
		return s
	}
	return reason
}

// note says the note code with args in l's language; false when the
// catalogue has no text for code or args lack a value the text names.
func (l *Lang) note(code string, args map[string]any) (string, bool) {
	return l.say(noteMessages, code, args)
}

// say says code with args from catalogue, as note does.
func (l *Lang) say(catalogue map[string][2]string, code string, args map[string]any) (string, bool) {
	two, ok := catalogue[code]
	if !ok || code == "" {
		return "", false
	}
	text := two[0]
	if l.Code == "en" {
		text = two[1]
	}
	var b strings.Builder
	for {
		open := strings.IndexByte(text, '{')
		if open < 0 {
			b.WriteString(text)
			return b.String(), true
		}
		end := strings.IndexByte(text[open:], '}')
		if end < 0 {
			return "", false
		}
		b.WriteString(text[:open])
		s, ok := l.placeholder(text[open+1:open+end], args)
		if !ok {
			return "", false
		}
		b.WriteString(s)
		text = text[open+end+1:]
	}
}

// placeholder says one {…} of a note's text (without its braces).
func (l *Lang) placeholder(ph string, args map[string]any) (string, bool) {
	name, form := ph, ""
	if i := strings.IndexAny(ph, ":|"); i >= 0 {
		name, form = ph[:i], ph[i:]
	}
	v, ok := args[name]
	if !ok {
		return "", false
	}
	switch {
	case strings.HasPrefix(form, "|"):
		n, ok := number(v)
		forms := strings.Split(form[1:], "|")
		if !ok || len(forms) != 2 {
			return "", false
		}
		f := forms[1]
		if n == 1 {
			f = forms[0]
		}
		return strings.ReplaceAll(f, "#", l.Number(n)), true
	case form == ":time":
		s, _ := v.(string)
		t, err := time.Parse(time.RFC3339, s)
		if err != nil {
			return "", false
		}
		return l.Time(t), true
	case form == ":size":
		n, ok := number(v)
		return l.Size(n), ok
	case form == "" || form == ":or" || form == ":comma" || form == ":semi":
		return l.value(v, form)
	}
	return "", false
}

// value says a value: a number, a string, or a list of strings or notes
// joined the way form says ("": and, ":or", ":comma", ":semi").
func (l *Lang) value(v any, form string) (string, bool) {
	if n, ok := number(v); ok {
		return l.Number(n), true
	}
	switch v := v.(type) {
	case string:
		return v, true
	case []any:
		items := make([]string, len(v))
		for i, e := range v {
			var ok bool
			switch e := e.(type) {
			case string:
				items[i], ok = e, true
			case map[string]any:
				code, _ := e["code"].(string)
				args, _ := e["args"].(map[string]any)
				items[i], ok = l.note(code, args)
			}
			if !ok {
				return "", false
			}
		}
		return l.List(items, form), true
	}
	return "", false
}

// number returns v as a whole number, as JSON decodes it (float64) or Go
// code makes it.
func number(v any) (int64, bool) {
	switch v := v.(type) {
	case float64:
		if v != math.Trunc(v) {
			return 0, false
		}
		return int64(v), true
	case int:
		return int64(v), true
	case int64:
		return v, true
	}
	return 0, false
}

// Number writes n the language's way: 12,345 in English; in Spanish, as
// the RAE recommends, 12 345 (a non-breaking space between groups of
// three digits, none in a number of four digits: 1234).
func (l *Lang) Number(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	sep := ","
	if l.Code != "en" {
		sep = "\u00a0"
		if len(s) <= 4 {
			sep = ""
		}
	}
	if sep != "" {
		for i := len(s) - 3; i > 0; i -= 3 {
			s = s[:i] + sep + s[i:]
		}
	}
	if neg {
		s = "-" + s
	}
	return s
}

// List joins items as "a, b and c" ("a, b y c"); form ":or" makes it "a,
// b or c" ("a, b o c"), ":comma" "a, b, c" and ":semi" "a; b; c".
func (l *Lang) List(items []string, form string) string {
	switch {
	case form == ":semi":
		return strings.Join(items, "; ")
	case len(items) < 2 || form == ":comma":
		return strings.Join(items, ", ")
	}
	word := map[string][2]string{"": {"y", "and"}, ":or": {"o", "or"}}[form]
	w := word[0]
	if l.Code == "en" {
		w = word[1]
	}
	return strings.Join(items[:len(items)-1], ", ") + " " + w + " " + items[len(items)-1]
}

// monthsES are the months' names in Spanish.
var monthsES = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
	"septiembre", "octubre", "noviembre", "diciembre"}

// Time writes t at its own offset: "4 de febrero de 2026, 10:00" or "4
// February 2026, 10:00".
func (l *Lang) Time(t time.Time) string {
	if l.Code == "en" {
		return t.Format("2 January 2006, 15:04")
	}
	return fmt.Sprintf("%d de %s de %d, %s", t.Day(), monthsES[t.Month()-1], t.Year(), t.Format("15:04"))
}

// Size writes a number of bytes as the API does (2 MB, 2.5 MB, 3.1 kB,
// 512 bytes), with a decimal comma in Spanish.
func (l *Lang) Size(n int64) string {
	var s string
	switch {
	case n >= 1<<20 && n%(1<<20) == 0:
		s = fmt.Sprintf("%d MB", n>>20)
	case n >= 1<<20:
		s = fmt.Sprintf("%.1f MB", float64(n)/(1<<20))
	case n >= 1<<10:
		s = fmt.Sprintf("%.1f kB", float64(n)/(1<<10))
	case n == 1:
		return "1 byte"
	default:
		return l.Number(n) + " bytes"
	}
	if l.Code != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}
