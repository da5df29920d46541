package templates

import (
	"strconv"
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// TelegramLength returns the length Telegram counts for an HTML-parse-mode
// message: UTF-16 code units of the text after tags are removed and entities
// decoded. It decodes the entities Telegram knows (&lt; &gt; &amp; &quot; and
// numeric ones) and counts anything else, such as a stray "&" or "<" with no
// ">", as text. It never fails.
func TelegramLength(html string) int {
	n := 0
	for i := 0; i < len(html); {
		switch html[i] {
		case '<':
			if j := strings.IndexByte(html[i:], '>'); j >= 0 {
				i += j + 1
				continue
			}
		case '&':
			if r, size := telegramEntity(html[i:]); size > 0 {
				n += utf16.RuneLen(r)
				i += size
				continue
			}
		}
		r, size := utf8.DecodeRuneInString(html[i:])
		n += utf16.RuneLen(r)
		i += size
	}
	return n
}

// telegramEntity decodes the entity at the start of s and returns its
// character and length, or a zero length when s does not start with one.
func telegramEntity(s string) (rune, int) {
	end := strings.IndexByte(s, ';')
	if end < 2 || end > 10 {
		return 0, 0
	}
	switch name := s[1:end]; name {
	case "lt":
		return '<', end + 1
	case "gt":
		return '>', end + 1
	case "amp":
		return '&', end + 1
	case "quot":
		return '"', end + 1
	default:
		if name[0] != '#' || len(name) < 2 {
			return 0, 0
		}
		digits, base := name[1:], 10
		if digits[0] == 'x' || digits[0] == 'X' {
			digits, base = digits[1:], 16
		}
		v, err := strconv.ParseUint(digits, base, 32)
		if err != nil || digits == "" || digits[0] == '+' {
			return 0, 0
		}
		r := rune(v)
		if !utf8.ValidRune(r) {
			r = utf8.RuneError
		}
		return r, end + 1
	}
}
