package templates

import (
	"regexp"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"golang.org/x/net/html"
)

func TestWrapText(t *testing.T) {
	long := "https://example.org/" + strings.Repeat("a", 80)
	tests := []struct {
		name, in string
		width    int
		want     string
	}{
		{"short", "uno dos tres", 20, "uno dos tres"},
		{"exact", "uno dos tres", 12, "uno dos tres"},
		{"break", "uno dos tres cuatro", 12, "uno dos tres\ncuatro"},
		{"accents count once", "acción canción", 14, "acción canción"},
		{"combining marks", "acción canción", 14, "acción canción"},
		{"long word alone", "ver " + long + " ahora", 20, "ver\n" + long + "\nahora"},
		{"no-break space kept", "el informe\u00a0[1] sigue", 16, "el informe\u00a0[1]\nsigue"},
		{"lines kept", "uno\ndos", 20, "uno\ndos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := wrapText(tt.in, tt.width)
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("wrapText(%q, %d) (-want +got):\n%s", tt.in, tt.width, diff)
			}
			if !cmp.Equal(strings.Fields(tt.in), strings.Fields(got)) {
				t.Errorf("words changed: %q", got)
			}
		})
	}
}

// linePrefix matches what may start a line of the text before its words:
// quote marks, indentation, a list marker or a reference number.
var linePrefix = regexp.MustCompile(`^(> ?)*\s*(- |\d+\. |\[\d+\] )?`)

// checkWrapped fails on a line wider than textWidth that could have been
// broken: one that holds a space after its quote marks, indentation, list
// marker or reference number.
func checkWrapped(t *testing.T, text string) {
	t.Helper()
	for i, line := range strings.Split(text, "\n") {
		if textLen(line) <= textWidth {
			continue
		}
		if rest := line[len(linePrefix.FindString(line)):]; strings.Contains(rest, " ") {
			t.Errorf("line %d is %d characters wide: %q", i+1, textLen(line), line)
		}
	}
}

func TestEmailTextWrapsAndKeepsLinks(t *testing.T) {
	long := "https://coordinadora-valle.example/informes/" + strings.Repeat("acuifero-", 10) + "2026.pdf"
	body := strings.Join([]string{
		strings.Repeat("Una frase bastante larga que no cabe en una línea. ", 6),
		"Un enlace [muy largo](" + long + ") en medio, otro [corto](https://example.org/) y el mismo [otra vez](https://example.org/); " + long + " suelto.",
		"> " + strings.Repeat("Una cita que sigue y sigue. ", 8) + "\n>\n> > " + strings.Repeat("Anidada y larga. ", 10),
		"1. " + strings.Repeat("Un punto de la lista que ocupa varias líneas. ", 4) + "\n   - " + strings.Repeat("Subpunto largo. ", 10),
		"| Columna uno | Columna dos |\n|---|---|\n| " + strings.Repeat("celda larga ", 8) + "| " + strings.Repeat("otra celda ", 6) + "|",
		"Escríbenos a [prensa](mailto:prensa@example.org) o mira ![la foto](https://example.org/foto.jpg).",
	}, "\n\n")
	rels := map[string]string{"fixture es": "es", "fixture en": "en"}
	r := newRenderer(t, WithAbout("", "Más en [nuestro sitio](https://example.org/acerca)."))
	check := func(t *testing.T, email string, html string) {
		checkWrapped(t, email)
		for _, u := range hrefs(t, html) {
			if strings.HasPrefix(u, "tel:") {
				continue
			}
			if !strings.Contains(email, displayURL(u)) {
				t.Errorf("link %s missing from the text", u)
			}
		}
	}
	for name, lang := range rels {
		t.Run(name, func(t *testing.T) {
			got, err := r.Email(fixture(t), lang)
			if err != nil {
				t.Fatal(err)
			}
			got = got.WithUnsubscribe("https://prensa.example.org/u/AZCd_9QGC3Vuc3Vic2NyaWJl?a=1&b=2")
			check(t, got.Text, got.HTML)
		})
	}
	t.Run("long lines", func(t *testing.T) {
		rel := release(strings.Repeat("Un título muy largo ", 6), body)
		rel.Summary = strings.Repeat("Un resumen largo. ", 8)
		rel.SourceURL = long
		got, err := r.Email(rel, "es")
		if err != nil {
			t.Fatal(err)
		}
		got = got.WithUnsubscribe(long + "?token=abc")
		check(t, got.Text, got.HTML)
		for _, want := range []string{"muy largo\u00a0[1]", "corto\u00a0[2]", "otra vez\u00a0[2]", "prensa\u00a0[3]", "la foto\u00a0[4]", "nuestro sitio\u00a0[5]",
			"\n[1] " + long + "\n[2] https://example.org/\n[3] prensa@example.org\n", "\n" + long + "\nsuelto."} {
			// Compare across line breaks, but not across the breaks
			// before and after a URL.
			flat := strings.ReplaceAll(got.Text, "\n", " ")
			if !strings.Contains(flat, strings.ReplaceAll(want, "\n", " ")) || strings.HasPrefix(want, "\n") && !strings.Contains(got.Text, want) {
				t.Errorf("missing %q in\n%s", want, got.Text)
			}
		}
	})
}

// hrefs returns the href of every link in an HTML document.
func hrefs(t *testing.T, s string) []string {
	t.Helper()
	doc, err := html.Parse(strings.NewReader(s))
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for n := range doc.Descendants() {
		if n.Type == html.ElementNode && n.Data == "a" {
			for _, a := range n.Attr {
				if a.Key == "href" {
					out = append(out, a.Val)
				}
			}
		}
	}
	if len(out) == 0 {
		t.Fatal("no links in the HTML")
	}
	return out
}
