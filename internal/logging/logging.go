// Package logging builds Pregón's slog.Logger: JSON lines (or text for a
// person at a terminal), with the email addresses in every message and
// attribute masked (a***@example.org) unless the level is debug.
package logging

import (
	"fmt"
	"io"
	"log/slog"
	"os"
	"regexp"
	"strings"
)

// Options configure New.
type Options struct {
	// Level is the least level written.
	Level slog.Level
	// Format is "json", "text", or "" for text when the writer is a
	// terminal and JSON otherwise.
	Format string
	// KeepEmails leaves email addresses as they are (New's callers set it
	// for debug logs).
	KeepEmails bool
}

// New returns a logger writing to w as opts say.
func New(w io.Writer, opts Options) *slog.Logger {
	ho := &slog.HandlerOptions{Level: opts.Level}
	if !opts.KeepEmails {
		ho.ReplaceAttr = MaskEmails
	}
	text := opts.Format == "text" || opts.Format == "" && IsTerminal(w)
	if text {
		return slog.New(slog.NewTextHandler(w, ho))
	}
	return slog.New(slog.NewJSONHandler(w, ho))
}

// IsTerminal reports whether w is a terminal (a character device): where
// output is read by a person, as text that may be redrawn in place.
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// emailRE matches an email address in running text: a local part of any
// characters RFC 5322 allows unquoted (so "o'brien" and "a&b" are masked
// whole, not from the quote on), an @, and a domain with a dot.
var emailRE = regexp.MustCompile("[A-Za-z0-9.!#$%&'*+/=?^_`{|}~\\-]+@[A-Za-z0-9\\-]+(?:\\.[A-Za-z0-9\\-]+)+")

// MaskEmails is a slog.HandlerOptions.ReplaceAttr that masks the email
// addresses in a's value, whether a string (the message too), an error, a
// fmt.Stringer or a []string: each keeps its first character and its domain,
// as in a***@example.org. Any other value (a map, a struct) that prints
// with an address in it is logged as its masked printed form: its structure
// is lost, the address is not logged.
func MaskEmails(_ []string, a slog.Attr) slog.Attr {
	switch a.Value.Kind() {
	case slog.KindString:
		if s := a.Value.String(); strings.Contains(s, "@") {
			a.Value = slog.StringValue(Mask(s))
		}
	case slog.KindAny:
		switch v := a.Value.Any().(type) {
		case error:
			if s := v.Error(); strings.Contains(s, "@") {
				a.Value = slog.StringValue(Mask(s))
			}
		case fmt.Stringer:
			if s := v.String(); strings.Contains(s, "@") {
				a.Value = slog.StringValue(Mask(s))
			}
		case []string:
			out := make([]string, len(v))
			for i, s := range v {
				out[i] = Mask(s)
			}
			a.Value = slog.AnyValue(out)
		default:
			if s := fmt.Sprintf("%+v", v); strings.Contains(s, "@") && emailRE.MatchString(s) {
				a.Value = slog.StringValue(Mask(s))
			}
		}
	}
	return a
}

// Mask returns s with each email address in it masked: its first
// character, "***", and its domain.
func Mask(s string) string {
	return emailRE.ReplaceAllStringFunc(s, func(addr string) string {
		at := strings.LastIndexByte(addr, '@')
		return addr[:1] + "***" + addr[at:]
	})
}
