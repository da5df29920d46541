package telegramtest

import (
	"fmt"
	"strings"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"
)

// MaxMessageLength is the longest text Telegram accepts in one message, in
// UTF-16 code units after entity parsing.
const MaxMessageLength = 4096

// htmlTags are the tags Telegram's HTML parse mode accepts.
var htmlTags = map[string]bool{
	"a": true, "b": true, "strong": true, "i": true, "em": true, "u": true, "ins": true,
	"s": true, "strike": true, "del": true, "span": true, "tg-spoiler": true, "tg-emoji": true,
	"code": true, "pre": true, "blockquote": true,
}

// ParseHTML parses text in Telegram's HTML parse mode the way the Bot API
// does and returns the text a reader sees. On failure the error reads like the
// part of Telegram's description after "can't parse entities: ".
//
// It follows tdlib's parser (tag names, attributes, nesting, numeric entities)
// with one deliberate difference: where Telegram shows an unknown named entity
// (&nbsp;) or a bare "&" literally, ParseHTML fails, because a renderer that
// emits them is wrong about what the reader will see.
func ParseHTML(text string) (string, error) {
	var out strings.Builder
	out.Grow(len(text))
	at := func(i int) byte {
		if i < len(text) {
			return text[i]
		}
		return 0
	}
	var open []string
	for i := 0; i < len(text); {
		c := text[i]
		if c == '&' {
			n, err := writeEntity(&out, text, i)
			if err != nil {
				return "", err
			}
			i += n
			continue
		}
		if c != '<' {
			out.WriteByte(c)
			i++
			continue
		}
		begin := i
		i++
		if at(i) != '/' {
			nameStart := i
			for !isSpace(at(i)) && at(i) != '>' {
				i++
			}
			if i >= len(text) {
				return "", fmt.Errorf("Unclosed start tag at byte offset %d", begin)
			}
			name := strings.ToLower(text[nameStart:i])
			if !htmlTags[name] {
				return "", fmt.Errorf("Unsupported start tag %q at byte offset %d", name, begin)
			}
			class := ""
			for at(i) != '>' {
				for i < len(text) && isSpace(at(i)) {
					i++
				}
				if at(i) == '>' {
					break
				}
				attrStart := i
				for !isSpace(at(i)) && at(i) != '=' && at(i) != '>' {
					i++
				}
				attr := strings.ToLower(text[attrStart:i])
				if attr == "" {
					return "", fmt.Errorf("Empty attribute name in the tag %q at byte offset %d", name, begin)
				}
				for i < len(text) && isSpace(at(i)) {
					i++
				}
				if at(i) != '=' {
					if name == "blockquote" && attr == "expandable" {
						continue
					}
					return "", fmt.Errorf("Expected equal sign in declaration of an attribute of the tag %q at byte offset %d", name, begin)
				}
				i++
				for i < len(text) && isSpace(at(i)) {
					i++
				}
				if i >= len(text) {
					return "", fmt.Errorf("Unclosed start tag %q at byte offset %d", name, begin)
				}
				var value strings.Builder
				if q := at(i); q != '\'' && q != '"' {
					tokenStart := i
					for isNameChar(at(i)) {
						i++
					}
					value.WriteString(strings.ToLower(text[tokenStart:i]))
					if !isSpace(at(i)) && at(i) != '>' {
						return "", fmt.Errorf("Unexpected end of name token at byte offset %d", tokenStart)
					}
				} else {
					i++
					for i < len(text) && at(i) != q {
						if at(i) == '&' {
							n, err := writeEntity(&value, text, i)
							if err != nil {
								return "", err
							}
							i += n
							continue
						}
						value.WriteByte(at(i))
						i++
					}
					if at(i) == q {
						i++
					}
				}
				if i >= len(text) {
					return "", fmt.Errorf("Unclosed start tag at byte offset %d", begin)
				}
				if name == "span" && attr == "class" {
					class = value.String()
				}
			}
			if name == "span" && class != "tg-spoiler" {
				return "", fmt.Errorf("Tag \"span\" must have class \"tg-spoiler\" at byte offset %d", begin)
			}
			open = append(open, name)
		} else {
			if len(open) == 0 {
				return "", fmt.Errorf("Unexpected end tag at byte offset %d", begin)
			}
			i++
			nameStart := i
			for !isSpace(at(i)) && at(i) != '>' {
				i++
			}
			name := strings.ToLower(text[nameStart:i])
			for i < len(text) && isSpace(at(i)) {
				i++
			}
			if at(i) != '>' {
				return "", fmt.Errorf("Unclosed end tag at byte offset %d", begin)
			}
			want := open[len(open)-1]
			if name != "" && name != want {
				return "", fmt.Errorf("Unmatched end tag at byte offset %d, expected \"</%s>\", found \"</%s>\"", begin, want, name)
			}
			open = open[:len(open)-1]
		}
		i++ // past '>'
	}
	if len(open) > 0 {
		return "", fmt.Errorf("Can't find end tag corresponding to start tag %q", open[len(open)-1])
	}
	return out.String(), nil
}

// writeEntity writes the character of the entity at text[i] to b and
// returns the entity's length in bytes.
func writeEntity(b *strings.Builder, text string, i int) (int, error) {
	r, n, err := decodeEntity(text, i)
	if err != nil {
		return 0, err
	}
	b.WriteRune(r)
	return n, nil
}

// decodeEntity decodes the character reference at text[i] (which is '&') and
// returns the character and the length of the reference.
func decodeEntity(text string, i int) (rune, int, error) {
	end := strings.IndexByte(text[i:], ';')
	if end < 0 || end > 12 {
		return 0, 0, fmt.Errorf("Unescaped \"&\" at byte offset %d (write &amp;)", i)
	}
	ref := text[i+1 : i+end]
	n := end + 1
	switch ref {
	case "lt":
		return '<', n, nil
	case "gt":
		return '>', n, nil
	case "amp":
		return '&', n, nil
	case "quot":
		return '"', n, nil
	}
	if num, ok := strings.CutPrefix(ref, "#"); ok && num != "" {
		base := 10
		if hex, ok := strings.CutPrefix(num, "x"); ok {
			base, num = 16, hex
		}
		var r int64
		valid := num != ""
		for _, d := range []byte(num) {
			v := digitValue(d)
			if v < 0 || v >= base {
				valid = false
				break
			}
			r = r*int64(base) + int64(v)
			if r >= 0x10ffff {
				valid = false
				break
			}
		}
		if valid && r != 0 && (r < 0xd800 || r > 0xdfff) {
			return rune(r), n, nil
		}
	}
	return 0, 0, fmt.Errorf("Unsupported HTML entity %q at byte offset %d", "&"+ref+";", i)
}

func digitValue(d byte) int {
	switch {
	case '0' <= d && d <= '9':
		return int(d - '0')
	case 'a' <= d && d <= 'f':
		return int(d-'a') + 10
	case 'A' <= d && d <= 'F':
		return int(d-'A') + 10
	}
	return -1
}

func isSpace(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', 0, '\v', '\f':
		return true
	}
	return false
}

func isNameChar(c byte) bool {
	return 'a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '-'
}

// UTF16Len returns the length of s in UTF-16 code units, the unit Telegram
// measures message length in: "👍" counts 2.
func UTF16Len(s string) int {
	n := 0
	for _, r := range s {
		n += utf16.RuneLen(r)
	}
	return n
}

// checkText validates a message text for parse mode mode and returns the text
// a reader sees, or Telegram's description of what is wrong.
func checkText(text, mode string) (string, string) {
	if !utf8.ValidString(text) {
		return "", "Bad Request: text must be encoded in UTF-8"
	}
	plain := text
	switch strings.ToLower(mode) {
	case "":
	case "html":
		p, err := ParseHTML(text)
		if err != nil {
			return "", "Bad Request: can't parse entities: " + err.Error()
		}
		plain = p
	case "markdown", "markdownv2":
		// Not validated by the fake: Pregón sends HTML.
	default:
		return "", "Bad Request: unsupported parse_mode"
	}
	plain = strings.TrimFunc(plain, unicode.IsSpace)
	switch n := UTF16Len(plain); {
	case n == 0:
		return "", "Bad Request: message text is empty"
	case n > MaxMessageLength:
		return "", "Bad Request: message is too long"
	}
	return plain, ""
}
