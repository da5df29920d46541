package templates

import (
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"golang.org/x/net/html"
)

// fuzzSeeds returns bodies that exercise Markdown, HTML and Unicode edge cases.
func fuzzSeeds(tb testing.TB) []string {
	return []string{
		excerpt(readTestdata(tb, "release_es.md"), 240),
		excerpt(readTestdata(tb, "release_en.md"), 240),
		"<script>alert(1)</script>",
		"Foto <img src=x onerror=alert(1)> y [pulse](javascript:alert(1)) y <a href=\"javascript:x\">a</a>",
		"[x](java&#115;cript:alert(1)) ![y](JAVASCRIPT:alert(1)) [z][r]\n\n[r]: vbscript:msgbox(1)",
		"{{.Secret}} {{template \"x\"}} {{range .}}{{end}}",
		"# T\n\n> cita **negrita `código`** [enlace *con* `code`](https://example.org/)\n>\n> > anidada\n\n- a\n  1. b\n     - c\n\n```\n<pre>\n```",
		strings.Repeat("👍🏽👩‍👩‍👧🇲🇽e\u0301 ", 4),
		strings.Repeat("Una frase. ", 12),
		strings.Repeat("x", 80),
		"| a | b |\n|---|---|\n| <b>1</b> | ~~2~~ |\n\n- [x] hecho\n\n***\n\n&amp; &lt; &#0; &#xD800; &bogus; \\* \x00",
		"**negrita sin cerrar *y cursiva\n\n<b>raw <i>html",
		"\r\n\r\n  \t\u2028\u00a0",
		"---\nplace: <b>Oaxaca</b> & *Co*\ndate: 2026-02-04\n---\n![foto](https://example.org/f.jpg) [![logo](https://example.org/l.png)](https://example.org/)\n\n###\n\n> ###\n\n| |\n|-|\n| |",
	}
}

// excerpt returns the start and the end of s, about n bytes in all. Seeds are
// kept short because the fuzzer minimises every input that finds new code,
// which takes time quadratic in its size and would fill a short run. Splitting
// is still exercised: FuzzTelegram also renders with small message limits.
func excerpt(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return strings.ToValidUTF8(s[:n/2]+"\n\n"+s[len(s)-n/2:], "")
}

func FuzzTelegram(f *testing.F) {
	for i, body := range fuzzSeeds(f) {
		f.Add("Título «de prueba»", "Resumen “breve”", body, uint16(i*37))
	}
	f.Add("", "", "", uint16(0))
	f.Add("<b>", "&amp;", "a", uint16(1))
	r := newRenderer(f)
	f.Fuzz(func(t *testing.T, title, summary, body string, limit uint16) {
		rel := &dispatcher.Release{ID: "fuzz", Title: title, Summary: summary, Body: body, Language: "es"}
		whole, err := r.telegram(rel, "es", 1<<30)
		if err != nil {
			if !errors.Is(err, errNoText) {
				t.Fatalf("unlimited: %v", err)
			}
			if _, err := r.Telegram(rel, "es"); !errors.Is(err, errNoText) {
				t.Fatalf("Telegram: err = %v, want errNoText", err)
			}
			return
		}
		want := noSpace(checkParts(t, whole, 1<<30))

		parts, err := r.Telegram(rel, "es")
		if err != nil {
			t.Fatalf("Telegram: %v", err)
		}
		if got := noSpace(checkParts(t, parts, telegramLimit)); got != want {
			t.Fatalf("Telegram lost or added text:\n got %q\nwant %q", got, want)
		}

		small := 8 + int(limit)%500
		parts, err = r.telegram(rel, "es", small)
		if err != nil {
			t.Fatalf("limit %d: %v", small, err)
		}
		if got := noSpace(checkParts(t, parts, small)); got != want {
			t.Fatalf("limit %d lost or added text:\n got %q\nwant %q", small, got, want)
		}
	})
}

func FuzzEmail(f *testing.F) {
	for _, body := range fuzzSeeds(f) {
		f.Add("Título\r\nBcc: x@example.org", "Resumen <script>", body, "https://example.org/a?b=1&c=2", "prensa@example.org")
	}
	f.Add("", "", "", "javascript:alert(1)", "\"><script>alert(1)</script>")
	f.Add("{{.Secret}}", "{{.Title}}", "{{.Body}}", "https://example.org/\"onmouseover=\"x", "javascript:alert(1)@example.org")
	r := newRenderer(f)
	f.Fuzz(func(t *testing.T, title, summary, body, source, email string) {
		rel := &dispatcher.Release{
			ID: "fuzz", Title: title, Summary: summary, Body: body, Language: "es",
			SourceURL: source, Contact: &dispatcher.PressContact{Name: title, Email: email, Phone: summary},
		}
		got, err := r.Email(rel, "es")
		if err != nil {
			t.Fatalf("Email: %v", err)
		}
		if strings.ContainsAny(got.Subject, "\r\n") {
			t.Errorf("Subject has a line break: %q", got.Subject)
		}
		if strings.Contains(strings.ToLower(got.HTML), "<script") {
			t.Fatalf("HTML contains <script:\n%s", got.HTML)
		}
		if err := checkEmailHTML(got.HTML); err != nil {
			t.Fatalf("%v\n%s", err, got.HTML)
		}
		// One unsubscribe line each, made by the templates, whatever the
		// user typed; filled in, it holds the link once and leaves no marker.
		for _, slot := range []dispatcher.LinkSlot{got.Unsubscribe.Text, got.Unsubscribe.HTML} {
			if len(slot.Parts) != 2 {
				t.Fatalf("the unsubscribe line holds the link %d times, want 1: %q", len(slot.Parts)-1, slot.Parts)
			}
		}
		if strings.Contains(got.Text+got.HTML, "\x00") {
			t.Fatalf("a NUL byte is left in the shared content:\n%q\n%q", got.Text, got.HTML)
		}
		const link = "https://prensa.example.org/u/fuzz-token"
		for _, filled := range []*dispatcher.EmailContent{got.WithUnsubscribe(link), got.WithUnsubscribe("")} {
			if strings.Contains(filled.Text+filled.HTML, "\x00") {
				t.Fatalf("a NUL byte is left after WithUnsubscribe:\n%q\n%q", filled.Text, filled.HTML)
			}
			if err := checkEmailHTML(filled.HTML); err != nil {
				t.Fatalf("%v\n%s", err, filled.HTML)
			}
		}
		if filled := got.WithUnsubscribe(link); strings.Count(filled.Text, link) != 1+strings.Count(got.Text, link) {
			t.Fatalf("the link is not in the text once:\n%s", filled.Text)
		}
	})
}

// checkEmailHTML parses an email's HTML as a browser would and fails on
// anything that could run: script elements, event-handler attributes and
// URLs with a script or data scheme in any attribute. (The text of a release may say
// "javascript:"; only markup is checked.)
func checkEmailHTML(s string) error {
	z := html.NewTokenizer(strings.NewReader(s))
	styles := 0
	for {
		switch z.Next() {
		case html.ErrorToken:
			if z.Err() == io.EOF {
				return nil
			}
			return z.Err()
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "script", "iframe", "object", "embed", "form", "input", "svg", "math", "base", "link":
				return errors.New("element <" + tok.Data + "> in HTML")
			case "style":
				if styles++; styles > 1 {
					return errors.New("a second <style> in HTML")
				}
			}
			for _, a := range tok.Attr {
				if strings.HasPrefix(a.Key, "on") {
					return errors.New("attribute " + a.Key + " in HTML")
				}
				v := strings.ToLower(strings.Map(func(r rune) rune {
					if r <= ' ' {
						return -1
					}
					return r
				}, a.Val))
				for _, bad := range []string{"javascript:", "vbscript:", "data:"} {
					if strings.HasPrefix(v, bad) {
						return errors.New("attribute " + a.Key + "=" + a.Val + " in HTML")
					}
				}
			}
		}
	}
}
