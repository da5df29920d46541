package templates

import (
	"html"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

func TestEmailPicksVersion(t *testing.T) {
	r := newRenderer(t)
	rel := fixture(t)
	const es, en = "EMBARGO HASTA 2 de enero de 2027, 09:04 (America/Mexico_City)", "EMBARGOED UNTIL 2 January 2027, 09:04 (America/Mexico_City)"
	tests := []struct {
		lang, title, embargo, body string
	}{
		{"es", rel.Title, es, "Firman este comunicado:"},
		{"en", rel.Translations[0].Title, en, "Signed by:"},
		{"EN", rel.Translations[0].Title, en, "Signed by:"},
		{"fr", rel.Title, es, "Firman este comunicado:"},
		{"", rel.Title, es, "Firman este comunicado:"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			got, err := r.EmbargoedEmail(rel, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.embargo + ": " + tt.title; got.Subject != want {
				t.Errorf("Subject = %q, want %q", got.Subject, want)
			}
			// The text is wrapped: compare words.
			for _, part := range []string{strings.Join(strings.Fields(got.Text), " "), html.UnescapeString(got.HTML)} {
				for _, want := range []string{tt.title, tt.embargo, tt.body} {
					if !strings.Contains(part, want) {
						t.Errorf("missing %q in\n%s", want, part)
					}
				}
			}
			// Everyone else gets the same text without the embargo.
			plain, err := r.Email(rel, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			if plain.Subject != tt.title {
				t.Errorf("plain Subject = %q, want %q", plain.Subject, tt.title)
			}
			for _, part := range []string{plain.Text, plain.HTML} {
				if !strings.Contains(part, tt.body) || strings.Contains(part, "EMBARGO") {
					t.Errorf("plain email: want %q and no embargo in\n%s", tt.body, part)
				}
			}
		})
	}
}

// TestEmbargoLine: the embargo line of an early list's copy reads the
// embargo in the release's time zone (the renderer's when it names none),
// names the zone, heads the subject, and stands first in the text and first
// in the HTML's card; the plain copy and Telegram posts never carry it.
func TestEmbargoLine(t *testing.T) {
	at := time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)
	madrid, err := time.LoadLocation("Europe/Madrid")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, lang, zone string
		loc              *time.Location
		want             string
	}{
		{"en", "en", "America/Mexico_City", nil, "EMBARGOED UNTIL 4 February 2026, 10:00 (America/Mexico_City)"},
		{"es", "es-MX", "America/Mexico_City", nil, "EMBARGO HASTA 4 de febrero de 2026, 10:00 (America/Mexico_City)"},
		{"the server's zone", "es", "", madrid, "EMBARGO HASTA 4 de febrero de 2026, 17:00 (Europe/Madrid)"},
		{"UTC by default", "en", "", nil, "EMBARGOED UNTIL 4 February 2026, 16:00 (UTC)"},
		{"the next day over there", "en", "Asia/Tokyo", madrid, "EMBARGOED UNTIL 5 February 2026, 01:00 (Asia/Tokyo)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var opts []Option
			if tt.loc != nil {
				opts = append(opts, WithLocation(tt.loc))
			}
			r := newRenderer(t, opts...)
			rel := &dispatcher.Release{ID: "rel", Title: "Title", Summary: "Summary", Body: "Body.", Language: tt.lang, EmbargoUntil: &at, Timezone: tt.zone}
			got, err := r.EmbargoedEmail(rel, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			if want := tt.want + ": Title"; got.Subject != want {
				t.Errorf("Subject = %q, want %q", got.Subject, want)
			}
			if !strings.HasPrefix(strings.Join(strings.Fields(got.Text), " "), tt.want+" Title") {
				t.Errorf("text does not start with the embargo line %q:\n%s", tt.want, got.Text)
			}
			card := got.HTML[strings.Index(got.HTML, `class="card"`):]
			if i, j := strings.Index(card, html.EscapeString(tt.want)), strings.Index(card, "<h1"); i < 0 || j < i {
				t.Errorf("HTML card does not start with the embargo line %q:\n%s", tt.want, card)
			}
			plain, err := r.Email(rel, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			parts, err := r.Telegram(rel, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			for _, out := range append([]string{plain.Subject, plain.Text, plain.HTML}, parts...) {
				// (The HTML's style sheet names the class .embargo.)
				if strings.Contains(out, "EMBARGO") || strings.Contains(out, tt.want[strings.Index(tt.want, " 20"):]) {
					t.Errorf("the embargo in the plain copy or a post:\n%s", out)
				}
			}
		})
	}
}

func TestEmailSanitises(t *testing.T) {
	r := newRenderer(t)
	tests := []struct{ name, body string }{
		{"script block", "Antes\n\n<script>alert(1)</script>\n\nDespués"},
		{"inline script", "Texto <script>alert(1)</script> y más"},
		{"onerror", `<img src="x" onerror="alert(1)">`},
		{"inline onerror", `Foto: <img src=x onerror=alert(1)> fin`},
		{"svg onload", `<svg onload=alert(1)></svg>`},
		{"javascript link", "[pulse aquí](javascript:alert(1))"},
		{"javascript upper case", "[pulse aquí](JavaScript:alert(1))"},
		{"javascript entity", "[pulse aquí](java&#115;cript:alert(1))"},
		{"javascript raw link", `<a href="javascript:alert(1)">pulse</a>`},
		{"javascript image", "![foto](javascript:alert(1))"},
		{"javascript reference", "[pulse][x]\n\n[x]: javascript:alert(1)"},
		{"iframe", `<iframe src="https://evil.example/"></iframe>`},
		{"style", `<style>body{display:none}</style>`},
		{"nested", "<<script>script>alert(1)<</script>/script>"},
		{"data URL", "[x](data:text/html;base64,PHNjcmlwdD5hbGVydCgxKTwvc2NyaXB0Pg==)"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			rel := release("Título", tt.body)
			got, err := r.Email(rel, "es")
			if err != nil {
				t.Fatal(err)
			}
			lower := strings.ToLower(got.HTML)
			for _, bad := range []string{"<script", "javascript:", "onerror", "onload", "<iframe", "<style>body", "data:text"} {
				if strings.Contains(lower, bad) {
					t.Errorf("HTML contains %q:\n%s", bad, got.HTML)
				}
			}
			if strings.Contains(strings.ToLower(got.Text), "javascript:") {
				t.Errorf("text contains a javascript: URL:\n%s", got.Text)
			}
		})
	}
}

func TestEmailTemplateSyntaxIsText(t *testing.T) {
	r := newRenderer(t)
	rel := &dispatcher.Release{
		Title:    "{{.Secret}} en el título",
		Summary:  `{{printf "%s" .Title}}`,
		Body:     "Hola {{.Secret}} y {{template \"x\"}}\n\n- {{range .}}{{end}}",
		Language: "es",
		Contact:  &dispatcher.PressContact{Name: "{{.Labels}}", Phone: "{{.Contact.Phone}}"},
	}
	got, err := r.Email(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"{{.Secret}} en el título", `{{printf "%s" .Title}}`, "Hola {{.Secret}} y {{template \"x\"}}", "{{range .}}{{end}}", "{{.Labels}}", "{{.Contact.Phone}}"} {
		if !strings.Contains(got.Text, want) {
			t.Errorf("text lacks %q:\n%s", want, got.Text)
		}
		if !strings.Contains(html.UnescapeString(got.HTML), want) {
			t.Errorf("HTML lacks %q:\n%s", want, got.HTML)
		}
	}
	if got.Subject != "{{.Secret}} en el título" {
		t.Errorf("Subject = %q", got.Subject)
	}
}

func TestEmailSubjectIsOneLine(t *testing.T) {
	r := newRenderer(t)
	tests := []struct{ title, want string }{
		{"Comunicado", "Comunicado"},
		{"  Comunicado\r\nBcc: victima@example.org  ", "Comunicado Bcc: victima@example.org"},
		{"Uno\rDos\nTres\tCuatro", "Uno Dos Tres Cuatro"},
		{"Línea\u2028separada\u0085aquí", "Línea separada aquí"},
		{"Con\u00a0espacio duro", "Con\u00a0espacio duro"},
		{"\n\n", ""},
	}
	for _, tt := range tests {
		got, err := r.Email(release(tt.title, "Cuerpo."), "es")
		if err != nil {
			t.Fatal(err)
		}
		if got.Subject != tt.want {
			t.Errorf("title %q: Subject = %q, want %q", tt.title, got.Subject, tt.want)
		}
		if first, _, _ := strings.Cut(got.Text, "\n"); first != tt.want {
			t.Errorf("title %q: text starts with %q", tt.title, first)
		}
	}
}

func TestEmailPlainText(t *testing.T) {
	r := newRenderer(t)
	tests := []struct{ name, body, want string }{
		{"emphasis", "Un *poco* de **énfasis** y ~~tachado~~ y `código`.", "Un poco de énfasis y tachado y código."},
		{"soft break", "una línea\nsigue aquí", "una línea sigue aquí"},
		{"hard break", "una línea  \notra línea", "una línea\notra línea"},
		{"curly quotes kept", `“comillas” y «angulares» y "rectas" -- y ...`, `“comillas” y «angulares» y "rectas" -- y ...`},
		{"escapes and entities", `\*no\* &amp; AT&T &copy; &#241;`, `*no* & AT&T © ñ`},
		{"link", "[el informe](https://example.org/informe?a=1&b=2)", "el informe\u00a0[1]\n\n[1] https://example.org/informe?a=1&b=2"},
		{"link same as text", "[https://example.org](https://example.org)", "https://example.org"},
		{"mailto link", "[Escríbenos](mailto:prensa@example.org)", "Escríbenos\u00a0[1]\n\n[1] prensa@example.org"},
		{"relative link", "[aquí](/informe)", "aquí"},
		{"autolink", "Ver https://example.org/x y <prensa@example.org>", "Ver https://example.org/x y prensa@example.org"},
		{"image", "![Asamblea](https://example.org/foto.jpg)", "Asamblea\u00a0[1]\n\n[1] https://example.org/foto.jpg"},
		{"raw HTML dropped", "Antes <b>negrita</b> después\n\n<div>\nbloque\n</div>\n\nFin", "Antes negrita después\n\nFin"},
		{"unordered list", "- uno\n- dos\n  - dos.uno\n- tres", "- uno\n- dos\n  - dos.uno\n- tres"},
		{"ordered list", "3. tres\n4. cuatro", "3. tres\n4. cuatro"},
		{"loose list", "- uno\n\n  más\n\n- dos", "- uno\n\n  más\n\n- dos"},
		{"quote", "> “Cita”\n> sigue\n>\n> otro párrafo", "> “Cita” sigue\n>\n> otro párrafo"},
		{"heading", "# Título\n\n## Sección\n\nTexto", "Título\n======\n\nSección\n-------\n\nTexto"},
		{"code block", "```\nfunc main() {}\n```", "    func main() {}"},
		{"table", "| a | b |\n|---|---|\n| 1 | 2 |", "a | b\n1 | 2"},
		{"task list", "- [x] hecho\n- [ ] pendiente", "- [x] hecho\n- [ ] pendiente"},
		{"rule", "uno\n\n---\n\ndos", "uno\n\n----------\n\ndos"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Email(release("T", tt.body), "es")
			if err != nil {
				t.Fatal(err)
			}
			got = got.WithUnsubscribe("")
			want := "T\n=\n\n" + tt.want + "\n"
			if diff := cmp.Diff(want, got.Text); diff != "" {
				t.Errorf("text (-want +got):\n%s", diff)
			}
		})
	}
}

func TestEmailOptionalBlocks(t *testing.T) {
	r := newRenderer(t)
	at := time.Date(2027, 3, 9, 8, 5, 0, 0, time.UTC)
	tests := []struct {
		name      string
		rel       *dispatcher.Release
		lang      string
		want, not []string
	}{
		{
			name: "none",
			rel:  release("T", "Cuerpo"),
			not:  []string{"EMBARGO", "Contacto de prensa", "Publicado originalmente"},
		},
		{
			// The embargo line is the early lists' copy's (TestEmbargoLine).
			name: "embargo es",
			rel:  &dispatcher.Release{Title: "T", Body: "B", Language: "es-MX", EmbargoUntil: &at},
			not:  []string{"EMBARGO"},
		},
		{
			name: "embargo en",
			rel:  &dispatcher.Release{Title: "T", Body: "B", Language: "en", EmbargoUntil: &at},
			not:  []string{"EMBARGO"},
		},
		{
			name: "contact with a bad address",
			rel:  &dispatcher.Release{Title: "T", Body: "B", Language: "en", Contact: &dispatcher.PressContact{Name: "Ana", Email: "not an address"}},
			want: []string{"Press contact", "Ana", "not an address"},
			not:  []string{"mailto:"},
		},
		{
			name: "empty contact",
			rel:  &dispatcher.Release{Title: "T", Body: "B", Language: "en", Contact: &dispatcher.PressContact{}},
			not:  []string{"Press contact"},
		},
		{
			name: "unsafe source",
			rel:  &dispatcher.Release{Title: "T", Body: "B", Language: "en", SourceURL: "javascript:alert(1)"},
			not:  []string{"First published", "javascript"},
		},
		{
			name: "source",
			rel:  &dispatcher.Release{Title: "T", Body: "B", Language: "en", SourceURL: " https://example.org/a?b=1&c=2 "},
			want: []string{"First published at", "https://example.org/a?b=1&c=2"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := r.Email(tt.rel, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			parts, err := r.Telegram(tt.rel, tt.lang)
			if err != nil {
				t.Fatal(err)
			}
			tg := checkParts(t, parts, telegramLimit)
			for _, out := range []string{got.Text, html.UnescapeString(got.HTML), tg} {
				for _, w := range tt.want {
					if !strings.Contains(out, w) {
						t.Errorf("missing %q in\n%s", w, out)
					}
				}
				for _, n := range tt.not {
					if strings.Contains(out, n) {
						t.Errorf("unexpected %q in\n%s", n, out)
					}
				}
			}
		})
	}
}
