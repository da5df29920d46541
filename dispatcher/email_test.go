package dispatcher

import (
	"errors"
	"strings"
	"testing"
)

func TestNormalizeEmail(t *testing.T) {
	cases := []struct {
		in, want string // want "" means refused
	}{
		{"ana@example.org", "ana@example.org"},
		{"  Ana.Lopez+prensa@Example.ORG ", "ana.lopez+prensa@example.org"},
		{"a@sub.example.co.uk", "a@sub.example.co.uk"},
		{"a@my-domain.org", "a@my-domain.org"},
		{"a@xn--mnchen-3ya.de", "a@xn--mnchen-3ya.de"},
		{"a@münchen.de", "a@xn--mnchen-3ya.de"}, // IDN: punycode
		{"a@MÜNCHEN.de", "a@xn--mnchen-3ya.de"}, // mapped to lower case
		{"a@comunicación.mx", "a@xn--comunicacin-zeb.mx"},
		{"a@-example.org", ""},   // label starts with '-'
		{"a@example-.org", ""},   // label ends with '-'
		{"a@ex--ample.org", ""},  // "--" in 3rd and 4th place is kept for punycode
		{"a@[127.0.0.1]", ""},    // IP literal
		{"a@[IPv6:::1]", ""},     // IP literal
		{"a@127.0.0.1", ""},      // bare IP
		{"josé@example.org", ""}, // non-ASCII local part needs SMTPUTF8
		{"ñ@münchen.de", ""},
		{"a@localhost", ""},    // no dot
		{"a@example..org", ""}, // empty label
		{"a@example.org.", ""}, // trailing dot
		{"a@exa_mple.org", ""}, // underscore
		{"", ""},
		{"ana", ""},
		{"@example.org", ""},
		{"ana@", ""},
		{"Ana <ana@example.org>", ""},
		{"ana@example.org, beto@example.org", ""},
		{`"a b"@example.org`, ""},
		{"a\x00@example.org", ""},
		{"a@exa\x1bmple.org", ""},
		{"a@" + strings.Repeat("a", 64) + ".org", ""},  // label over 63
		{strings.Repeat("a", 65) + "@example.org", ""}, // local part over 64
		{strings.Repeat("a", 64) + "@example.org", strings.Repeat("a", 64) + "@example.org"},
	}
	for _, c := range cases {
		got, err := NormalizeEmail(c.in)
		if c.want == "" {
			if err == nil || !errors.Is(err, ErrInvalidEmail) {
				t.Errorf("NormalizeEmail(%q) = %q, %v; want an ErrInvalidEmail", c.in, got, err)
			}
			continue
		}
		if err != nil || got != c.want {
			t.Errorf("NormalizeEmail(%q) = %q, %v; want %q", c.in, got, err, c.want)
		}
	}
}

func TestNormalizeEmailSaysWhy(t *testing.T) {
	for in, want := range map[string]string{
		"josé@example.org": "SMTPUTF8",
		"a@[127.0.0.1]":    "IP address",
		"a@-example.org":   `starts or ends with "-"`,
	} {
		_, err := NormalizeEmail(in)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("NormalizeEmail(%q): error %v, want one that says %q", in, err, want)
		}
	}
}
