package templates

import (
	"errors"
	"flag"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"
	"unicode"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// newRenderer returns a Renderer or fails the test.
func newRenderer(tb testing.TB, opts ...Option) *Renderer {
	tb.Helper()
	r, err := New(opts...)
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return r
}

// golden compares got with testdata/name, or rewrites that file with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs from the golden file (-want +got):\n%s", name, diff)
	}
}

func readTestdata(tb testing.TB, name string) string {
	tb.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		tb.Fatal(err)
	}
	return string(b)
}

// fixture returns a realistic statement in Spanish with an English
// translation, a press contact, a source URL and an embargo.
func fixture(tb testing.TB) *dispatcher.Release {
	tb.Helper()
	embargo := time.Date(2027, 1, 2, 9, 4, 0, 0, time.FixedZone("CST", -6*60*60))
	return &dispatcher.Release{
		ID:       "rel-fixture",
		Title:    "Comunidades del valle exigen la suspensión inmediata del proyecto minero «Cerro Azul»",
		Summary:  "Más de cuarenta comunidades, ejidos y colectivos rechazan la reanudación de los trabajos de exploración y piden una consulta “conforme a derecho”.",
		Body:     readTestdata(tb, "release_es.md"),
		Language: "es",
		Translations: []dispatcher.Translation{{
			Language: "en",
			Title:    "Valley communities demand the immediate suspension of the “Cerro Azul” mining project",
			Summary:  "More than forty communities, ejidos and collectives reject the resumption of exploration work and call for a consultation “in accordance with the law”.",
			Body:     readTestdata(tb, "release_en.md"),
		}},
		Contact: &dispatcher.PressContact{
			Name:  "Lucía Peña Ibáñez",
			Email: "prensa@coordinadora-valle.example",
			Phone: "+52 55 0000 0000",
		},
		SourceURL:    "https://coordinadora-valle.example/comunicados/cerro-azul",
		EmbargoUntil: &embargo,
		Timezone:     "America/Mexico_City",
	}
}

// release returns a release with only a title and a body.
func release(title, body string) *dispatcher.Release {
	return &dispatcher.Release{ID: "rel-test", Title: title, Body: body, Language: "es"}
}

// allowedTelegramTags are the tags of Telegram's HTML parse mode that the
// renderer may produce.
var allowedTelegramTags = map[string]bool{
	"b": true, "i": true, "u": true, "s": true, "a": true, "code": true, "pre": true, "blockquote": true,
}

// parseTelegram checks msg as Telegram's HTML parse mode would and returns
// its text (tags removed, entities decoded). It accepts only the allowed tags,
// properly nested, with no attribute but an href with a safe URL on <a>; only
// the entities &lt; &gt; &amp; &quot; and numeric ones; no nesting that
// Telegram drops (a tag inside itself, anything inside code, code inside
// formatting, a blockquote inside a blockquote); and some text.
func parseTelegram(msg string) (string, error) {
	if !utf8.ValidString(msg) {
		return "", errors.New("invalid UTF-8")
	}
	var text strings.Builder
	var stack []string
	for i := 0; i < len(msg); {
		switch msg[i] {
		case '<':
			j := strings.IndexByte(msg[i:], '>')
			if j < 0 {
				return "", fmt.Errorf("unterminated tag at %d", i)
			}
			tag := msg[i+1 : i+j]
			i += j + 1
			if name, ok := strings.CutPrefix(tag, "/"); ok {
				if len(stack) == 0 || stack[len(stack)-1] != name {
					return "", fmt.Errorf("</%s> closes %v", name, stack)
				}
				stack = stack[:len(stack)-1]
				continue
			}
			name, attrs, _ := strings.Cut(tag, " ")
			if !allowedTelegramTags[name] {
				return "", fmt.Errorf("tag <%s> not allowed", tag)
			}
			if err := checkAttrs(name, attrs); err != nil {
				return "", err
			}
			for _, open := range stack {
				switch {
				case open == name:
					return "", fmt.Errorf("<%s> inside <%s>", name, open)
				case open == "code" || open == "pre":
					return "", fmt.Errorf("<%s> inside <%s>", name, open)
				case (name == "code" || name == "pre") && open != "blockquote":
					return "", fmt.Errorf("<%s> inside <%s>", name, open)
				}
			}
			stack = append(stack, name)
		case '&':
			r, n, err := testEntity(msg[i:])
			if err != nil {
				return "", fmt.Errorf("at %d: %w", i, err)
			}
			text.WriteRune(r)
			i += n
		case '>':
			return "", fmt.Errorf("unescaped > at %d", i)
		default:
			r, n := utf8.DecodeRuneInString(msg[i:])
			text.WriteRune(r)
			i += n
		}
	}
	if len(stack) > 0 {
		return "", fmt.Errorf("tags left open: %v", stack)
	}
	if strings.TrimSpace(text.String()) == "" {
		return "", errors.New("message has no text")
	}
	return text.String(), nil
}

func checkAttrs(name, attrs string) error {
	if name != "a" {
		if attrs != "" {
			return fmt.Errorf("<%s> has attributes %q", name, attrs)
		}
		return nil
	}
	v, ok := strings.CutPrefix(attrs, `href="`)
	if !ok || !strings.HasSuffix(v, `"`) {
		return fmt.Errorf("<a %s>: want one href", attrs)
	}
	v = v[:len(v)-1]
	if strings.ContainsAny(v, `"<>`) {
		return fmt.Errorf("<a %s>: unescaped character", attrs)
	}
	var href strings.Builder
	for i := 0; i < len(v); {
		if v[i] == '&' {
			r, n, err := testEntity(v[i:])
			if err != nil {
				return fmt.Errorf("<a %s>: %w", attrs, err)
			}
			href.WriteRune(r)
			i += n
			continue
		}
		href.WriteByte(v[i])
		i++
	}
	u, err := url.Parse(href.String())
	if err != nil {
		return fmt.Errorf("<a %s>: %w", attrs, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "http", "https", "mailto", "tg":
		return nil
	}
	return fmt.Errorf("<a %s>: scheme %q not allowed", attrs, u.Scheme)
}

// testEntity decodes an entity Telegram accepts at the start of s.
func testEntity(s string) (rune, int, error) {
	for name, r := range map[string]rune{"&lt;": '<', "&gt;": '>', "&amp;": '&', "&quot;": '"'} {
		if strings.HasPrefix(s, name) {
			return r, len(name), nil
		}
	}
	end := strings.IndexByte(s, ';')
	if !strings.HasPrefix(s, "&#") || end < 3 {
		return 0, 0, fmt.Errorf("bad entity %.12q", s)
	}
	digits, base := s[2:end], 10
	if digits[0] == 'x' || digits[0] == 'X' {
		digits, base = digits[1:], 16
	}
	v, err := strconv.ParseUint(digits, base, 32)
	if err != nil || !utf8.ValidRune(rune(v)) {
		return 0, 0, fmt.Errorf("bad entity %.12q", s)
	}
	return rune(v), end + 1, nil
}

// checkParts checks every part of a Telegram rendering: well-formed, within
// limit and not empty. It returns the text of all parts, concatenated.
func checkParts(t *testing.T, parts []string, limit int) string {
	t.Helper()
	if len(parts) == 0 {
		t.Fatal("no parts")
	}
	var all strings.Builder
	for i, p := range parts {
		text, err := parseTelegram(p)
		if err != nil {
			t.Fatalf("part %d/%d is not valid: %v\n%s", i+1, len(parts), err, p)
		}
		n := TelegramLength(p)
		if want := len(utf16.Encode([]rune(text))); n != want {
			t.Errorf("part %d: TelegramLength = %d, text has %d UTF-16 code units", i+1, n, want)
		}
		if n > limit {
			t.Errorf("part %d/%d is %d long, limit %d", i+1, len(parts), n, limit)
		}
		all.WriteString(text)
		all.WriteByte('\n')
	}
	return all.String()
}

// noSpace removes all white space from s.
func noSpace(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsSpace(r) {
			return -1
		}
		return r
	}, s)
}
