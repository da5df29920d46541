package templates

import (
	"errors"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/yuin/goldmark/ast"
)

func TestTelegramFixture(t *testing.T) {
	r := newRenderer(t)
	rel := fixture(t)
	for _, lang := range []string{"es", "en"} {
		t.Run(lang, func(t *testing.T) {
			parts, err := r.Telegram(rel, lang)
			if err != nil {
				t.Fatal(err)
			}
			if len(parts) < 2 {
				t.Errorf("got %d parts, want the fixture split in two or more", len(parts))
			}
			all := noSpace(checkParts(t, parts, telegramLimit))
			ver := rel.Text(lang)
			for _, p := range paragraphs(t, ver.Body) {
				if !strings.Contains(all, noSpace(p)) {
					t.Errorf("paragraph missing from the messages: %q", p)
				}
			}
			for _, w := range []string{ver.Title, ver.Summary, rel.Contact.Name, rel.Contact.Email, rel.Contact.Phone, rel.SourceURL} {
				if !strings.Contains(all, noSpace(w)) {
					t.Errorf("missing %q", w)
				}
			}
		})
	}
}

// paragraphs returns the text of each paragraph of a Markdown document, as
// goldmark sees it.
func paragraphs(t *testing.T, body string) []string {
	t.Helper()
	src := []byte(body)
	doc := parse(newMarkdown(), src)
	var out []string
	err := ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n.(type) {
		case *ast.Paragraph, *ast.TextBlock:
			var b strings.Builder
			_ = ast.Walk(n, func(c ast.Node, entering bool) (ast.WalkStatus, error) {
				if tx, ok := c.(*ast.Text); ok && entering {
					b.Write(tx.Segment.Value(src))
					b.WriteByte(' ')
				}
				return ast.WalkContinue, nil
			})
			out = append(out, b.String())
			return ast.WalkSkipChildren, nil
		}
		return ast.WalkContinue, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(out) < 10 {
		t.Fatalf("found %d paragraphs, want the whole fixture", len(out))
	}
	return out
}

func TestTelegramMarkdown(t *testing.T) {
	r := newRenderer(t)
	tests := []struct{ name, body, want string }{
		{"paragraphs", "uno\ndos\n\ntres", "uno dos\n\ntres"},
		{"hard break", "uno\\\ndos", "uno\ndos"},
		{"heading", "## Lo que pedimos", "<b>Lo que pedimos</b>"},
		{"emphasis", "*cursiva*, **negrita**, ***ambas***, ~~tachado~~", "<i>cursiva</i>, <b>negrita</b>, <i><b>ambas</b></i>, <s>tachado</s>"},
		{"bold heading", "# Muy **importante**", "<b>Muy importante</b>"},
		{"escaping", `a < b > c & d "e" 'f'`, `a &lt; b &gt; c &amp; d "e" 'f'`},
		{"entities", `AT&amp;T &copy; &#8220;x&#8221; \<b\>`, "AT&amp;T © “x” &lt;b&gt;"},
		{"curly quotes kept", `“a” «b» "c" 'd' -- ...`, `“a” «b» "c" 'd' -- ...`},
		{"link", "[el informe](https://example.org/a?b=1&c=\"2\")", `<a href="https://example.org/a?b=1&amp;c=%222%22">el informe</a>`},
		{"bold link", "[**el** informe](https://example.org/)", `<a href="https://example.org/"><b>el</b> informe</a>`},
		{"mailto and tg", "[correo](mailto:a@example.org) [canal](tg://resolve?domain=canal)", `<a href="mailto:a@example.org">correo</a> <a href="tg://resolve?domain=canal">canal</a>`},
		{"unsafe link", "[pulse](javascript:alert(1)) [aquí](/relativo) [ftp](ftp://example.org/)", "pulse aquí ftp"},
		{"empty link text", "[](https://example.org/)", `<a href="https://example.org/">https://example.org/</a>`},
		{"image", "![Asamblea](https://example.org/foto.jpg)", `<a href="https://example.org/foto.jpg">Asamblea</a>`},
		{"unsafe image", "![Asamblea](javascript:x)", "Asamblea"},
		{"autolink", "Ver www.example.org y <prensa@example.org>", `Ver <a href="http://www.example.org">www.example.org</a> y <a href="mailto:prensa@example.org">prensa@example.org</a>`},
		{"code", "usa `a<b` y **`c`**", "usa <code>a&lt;b</code> y <b>c</b>"},
		{"code in link", "[`x`](https://example.org/)", `<a href="https://example.org/">x</a>`},
		{"code block", "```go\nif a < b {\n}\n```", "<pre>if a &lt; b {\n}</pre>"},
		{"indented code", "    uno\n    dos", "<pre>uno\ndos</pre>"},
		{"raw inline HTML", "Antes <b onclick=x>negrita</b> <script>alert(1)</script> después", "Antes negrita alert(1) después"},
		{"HTML block", "Antes\n\n<script>\nalert(1)\n</script>\n\n<div onclick=x>\nbloque\n</div>\n\nDespués", "Antes\n\nDespués"},
		{"unordered list", "- uno\n- **dos**\n  - dos.uno\n- tres", "• uno\n• <b>dos</b>\n    • dos.uno\n• tres"},
		{"ordered list", "7. siete\n8. ocho", "7. siete\n8. ocho"},
		{"loose list", "- uno\n\n  más\n\n- dos", "• uno\n    más\n• dos"},
		{"quote", "> “Cita” *con* estilo\n>\n> segundo", "<blockquote>“Cita” <i>con</i> estilo\n\nsegundo</blockquote>"},
		{"nested quote", "> uno\n>\n> > dos", "<blockquote>uno\n\ndos</blockquote>"},
		{"code in quote", "> ```\n> x\n> ```", "<blockquote><pre>x</pre></blockquote>"},
		{"table", "| a | b |\n|---|---|\n| 1 | *2* |", "<b>a</b> | <b>b</b>\n1 | <i>2</i>"},
		{"task list", "- [x] hecho\n- [ ] pendiente", "• ☑ hecho\n• ☐ pendiente"},
		{"rule", "uno\n\n---\n\ndos", "uno\n\n———\n\ndos"},
		{"template syntax", "{{.Secret}} {{template \"x\"}}", "{{.Secret}} {{template \"x\"}}"},
		{"empty bold", "** **x", "** **x"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			parts, err := r.Telegram(release("", tt.body), "es")
			if err != nil {
				t.Fatal(err)
			}
			checkParts(t, parts, telegramLimit)
			if diff := cmp.Diff([]string{tt.want}, parts); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestTelegramHeader(t *testing.T) {
	r := newRenderer(t)
	rel := &dispatcher.Release{
		Title:    "Título\r\nen dos <líneas>",
		Summary:  "Resumen & más",
		Body:     "Cuerpo.",
		Language: "es",
	}
	parts, err := r.Telegram(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	want := []string{"<b>Título en dos &lt;líneas&gt;</b>\n\n<i>Resumen &amp; más</i>\n\nCuerpo."}
	if diff := cmp.Diff(want, parts); diff != "" {
		t.Errorf("(-want +got):\n%s", diff)
	}
}

func TestTelegramNoText(t *testing.T) {
	r := newRenderer(t)
	for _, body := range []string{"", "  \n\n ", "<div>\nsolo HTML\n</div>", "<!-- comentario -->"} {
		_, err := r.Telegram(release(" ", body), "es")
		if !errors.Is(err, errNoText) {
			t.Errorf("body %q: err = %v, want errNoText", body, err)
		}
	}
}

func TestRendererConcurrent(t *testing.T) {
	r := newRenderer(t)
	rel := fixture(t)
	wantEmail, err := r.Email(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	wantTG, err := r.Telegram(rel, "en")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for range 8 {
		wg.Go(func() {
			email, err := r.Email(rel, "es")
			if err != nil || !cmp.Equal(email, wantEmail) {
				t.Errorf("concurrent Email differs (err %v)", err)
			}
			tg, err := r.Telegram(rel, "en")
			if err != nil || !cmp.Equal(tg, wantTG) {
				t.Errorf("concurrent Telegram differs (err %v)", err)
			}
		})
	}
	wg.Wait()
}
