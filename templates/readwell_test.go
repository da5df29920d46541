package templates

import (
	"html"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // for TestDateline, wherever it runs

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	xhtml "golang.org/x/net/html"
)

// rendered is a release rendered every way, the email filled in without an
// unsubscribe link.
type rendered struct {
	text, html string
	telegram   string // the messages, joined by blank lines
}

func renderAll(t *testing.T, r *Renderer, rel *dispatcher.Release, lang string) rendered {
	t.Helper()
	email, err := r.Email(rel, lang)
	if err != nil {
		t.Fatal(err)
	}
	email = email.WithUnsubscribe("")
	parts, err := r.Telegram(rel, lang)
	if err != nil {
		t.Fatal(err)
	}
	checkParts(t, parts, telegramLimit)
	return rendered{text: email.Text, html: email.HTML, telegram: strings.Join(parts, "\n\n")}
}

func TestEndMark(t *testing.T) {
	r := newRenderer(t)
	centred := strings.Repeat(" ", (textWidth-3)/2) + "###"
	tests := []struct {
		name, body           string
		text, html, telegram string // wanted in each output
		notHTML              string
	}{
		{
			name: "at the end", body: "Fin del comunicado.\n\n###",
			text: "Fin del comunicado.\n\n" + centred + "\n", html: "<p>Fin del comunicado.</p>\n<p style=\"text-align: center\">###</p>",
			telegram: "Fin del comunicado.\n\n###", notHTML: "<h3",
		},
		{
			name: "with spaces and a closing sequence", body: "Fin.\n\n###   \n\nDespués.\n\n### ###",
			text: "Fin.\n\n" + centred + "\n\nDespués.\n\n" + centred + "\n", html: "<p style=\"text-align: center\">###</p>\n<p>Después.</p>",
			telegram: "Fin.\n\n###\n\nDespués.\n\n###", notHTML: "<h3",
		},
		{
			name: "a heading stays a heading", body: "### Sección\n\nTexto",
			text: "Sección\n-------\n\nTexto", html: "<h3>Sección</h3>", telegram: "<b>Sección</b>", notHTML: "text-align",
		},
		{
			name: "escaped", body: "\\###",
			text: "T\n=\n\n###\n", html: "<p>###</p>", telegram: "###", notHTML: "text-align",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := renderAll(t, r, release("T", tt.body), "es")
			if !strings.Contains(got.text, tt.text) {
				t.Errorf("text lacks %q:\n%s", tt.text, got.text)
			}
			if !strings.Contains(got.html, tt.html) || strings.Contains(got.html, tt.notHTML) {
				t.Errorf("HTML: want %q and no %q:\n%s", tt.html, tt.notHTML, got.html)
			}
			if !strings.Contains(got.telegram, tt.telegram) {
				t.Errorf("Telegram lacks %q:\n%s", tt.telegram, got.telegram)
			}
		})
	}
}

func TestTelURL(t *testing.T) {
	tests := []struct{ phone, want string }{
		{"+52 55 0000 0000", "tel:+525500000000"},
		{"(55) 1234-5678", "tel:5512345678"},
		{"+34 91.123.45.67", "tel:+34911234567"},
		{"+52\u00a055\u00a01234\u00a05678", "tel:+525512345678"},
		{"+52 55 1234 5678 ext. 12", ""},
		{"55 1234 5678 +1", ""},
		{"llamar a recepción", ""},
		{"12", ""},
		{"", ""},
		{"javascript:alert(1)", ""},
	}
	for _, tt := range tests {
		if got := string(telURL(tt.phone)); got != tt.want {
			t.Errorf("telURL(%q) = %q, want %q", tt.phone, got, tt.want)
		}
	}
}

func TestEmailContactLinks(t *testing.T) {
	r := newRenderer(t)
	rel := release("T", "B")
	rel.Contact = &dispatcher.PressContact{Name: "Ana", Email: "prensa@example.org", Phone: "+52 55 1234 5678"}
	got := renderAll(t, r, rel, "es")
	links := hrefs(t, got.html)
	for _, want := range []string{"mailto:prensa@example.org", "tel:+525512345678"} {
		if !containsString(links, want) {
			t.Errorf("no link to %s in %q", want, links)
		}
	}
	rel.Contact.Phone = "55 1234 5678 ext. 3"
	got = renderAll(t, r, rel, "es")
	if strings.Contains(got.html, "tel:") || !strings.Contains(got.html, "55 1234 5678 ext. 3") {
		t.Errorf("a phone number with an extension: want it as text, unlinked:\n%s", got.html)
	}
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

func TestEmailPreheaderAndColourScheme(t *testing.T) {
	r := newRenderer(t)
	rel := release("T", "Cuerpo")
	rel.Summary = "Un resumen <breve> & claro"
	got := renderAll(t, r, rel, "es")
	doc, err := xhtml.Parse(strings.NewReader(got.html))
	if err != nil {
		t.Fatal(err)
	}
	var body, head *xhtml.Node
	for n := range doc.Descendants() {
		if n.Type == xhtml.ElementNode && n.Data == "body" {
			body = n
		}
		if n.Type == xhtml.ElementNode && n.Data == "head" {
			head = n
		}
	}
	first := body.FirstChild
	for first != nil && first.Type != xhtml.ElementNode {
		first = first.NextSibling
	}
	if first == nil || !strings.Contains(attr(first, "style"), "display:none") {
		t.Fatalf("the body does not start with a hidden preheader:\n%s", got.html)
	}
	if text := first.FirstChild.Data; !strings.HasPrefix(text, rel.Summary) {
		t.Errorf("preheader = %q, want it to start with the summary", text)
	}
	metas := map[string]string{}
	for n := range head.Descendants() {
		if n.Type == xhtml.ElementNode && n.Data == "meta" {
			metas[attr(n, "name")] = attr(n, "content")
		}
	}
	for _, name := range []string{"color-scheme", "supported-color-schemes"} {
		if metas[name] != "light dark" {
			t.Errorf("meta %s = %q, want \"light dark\"", name, metas[name])
		}
	}
	for _, css := range []string{"color-scheme: light dark", "supported-color-schemes: light dark", "@media (prefers-color-scheme: dark)"} {
		if !strings.Contains(got.html, css) {
			t.Errorf("the style sheet lacks %q", css)
		}
	}

	rel.Summary = ""
	got = renderAll(t, r, rel, "es")
	if strings.Contains(got.html, "display:none") {
		t.Errorf("a preheader without a summary:\n%s", got.html)
	}
}

func attr(n *xhtml.Node, key string) string {
	for _, a := range n.Attr {
		if a.Key == key {
			return a.Val
		}
	}
	return ""
}

func TestDateline(t *testing.T) {
	clock := func() time.Time { return time.Date(2026, 2, 4, 18, 0, 0, 0, time.UTC) }
	mexico, err := time.LoadLocation("America/Mexico_City")
	if err != nil {
		t.Fatal(err)
	}
	embargo := time.Date(2026, 3, 1, 3, 0, 0, 0, time.UTC) // 28 February in Mexico City
	tests := []struct {
		name, lang, body string
		embargo          *time.Time
		loc              *time.Location
		zone             string // the release's time zone
		want             string // the start of the first paragraph, as text
		dated            bool   // want starts with a dateline
	}{
		{"es", "es", "---\nplace: Ciudad de México\n---\nHoy anunciamos.", nil, nil, "", "CIUDAD DE MÉXICO, 4 de febrero de 2026. — Hoy anunciamos.", true},
		{"en", "en", "---\nplace: Mexico City\n---\n\nToday we announce.", nil, nil, "", "MEXICO CITY, 4 February 2026. — Today we announce.", true},
		{"date given", "es", "---\ndate: 2026-12-24\nplace: Oaxaca\n---\nTexto.", nil, nil, "", "OAXACA, 24 de diciembre de 2026. — Texto.", true},
		{"embargo date", "en", "---\nplace: Mexico City\n---\nText.", &embargo, mexico, "", "MEXICO CITY, 28 February 2026. — Text.", true},
		{"embargo date in UTC", "en", "---\nplace: Mexico City\n---\nText.", &embargo, nil, "", "MEXICO CITY, 1 March 2026. — Text.", true},
		{"embargo date in the release's zone", "en", "---\nplace: Mexico City\n---\nText.", &embargo, nil, "America/Mexico_City", "MEXICO CITY, 28 February 2026. — Text.", true},
		{"the release's zone over the server's", "en", "---\nplace: Madrid\n---\nText.", &embargo, mexico, "Europe/Madrid", "MADRID, 1 March 2026. — Text.", true},
		{"heading first", "es", "---\nplace: Oaxaca\n---\n## Sección\n\nTexto.", nil, nil, "", "OAXACA, 4 de febrero de 2026.\n\nSección\n-------", true},
		{"markup in the place", "es", "---\nplace: <b>*Villa* & Co\n---\nTexto.", nil, nil, "", "<B>*VILLA* & CO, 4 de febrero de 2026. — Texto.", true},
		{"no place", "es", "---\ndate: 2026-12-24\n---\nTexto.", nil, nil, "", "Texto.", false},
		{"not front matter", "es", "---\ntitle: x\n---\nTexto.", nil, nil, "", "----------\n\ntitle: x\n--------\n\nTexto.", false},
		{"bad date", "es", "---\nplace: Oaxaca\ndate: mañana\n---\nTexto.", nil, nil, "", "----------", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			opts := []Option{WithClock(clock)}
			if tt.loc != nil {
				opts = append(opts, WithLocation(tt.loc))
			}
			r := newRenderer(t, opts...)
			rel := &dispatcher.Release{ID: "rel", Title: "T", Body: tt.body, Language: tt.lang, EmbargoUntil: tt.embargo, Timezone: tt.zone}
			got := renderAll(t, r, rel, tt.lang)
			body := got.text[strings.Index(got.text, "=\n\n")+3:]
			if !strings.HasPrefix(body, tt.want) {
				t.Errorf("text body = %q, want it to start with %q", body, tt.want)
			}
			if !tt.dated {
				if strings.Contains(got.html, "<strong>") {
					t.Errorf("a dateline in\n%s", got.html)
				}
				return
			}
			dateline, _, _ := strings.Cut(tt.want, ".")
			dateline += "."
			if want := "<strong>" + html.EscapeString(dateline) + "</strong>"; !strings.Contains(got.html, want) {
				t.Errorf("HTML lacks %q:\n%s", want, got.html)
			}
			if want := "<b>" + html.EscapeString(dateline) + "</b>"; !strings.Contains(got.telegram, want) {
				t.Errorf("Telegram lacks %q:\n%s", want, got.telegram)
			}
		})
	}
}

func TestAbout(t *testing.T) {
	r := newRenderer(t,
		WithAbout("es", "**Acerca de nosotras.** Texto en español."),
		WithAbout("", "**About us.** Text for every other language."))
	tests := []struct{ lang, want, not string }{
		{"es", "Acerca de nosotras.", "About us."},
		{"en", "About us.", "Acerca de"},
		{"fr", "About us.", "Acerca de"},
	}
	for _, tt := range tests {
		t.Run(tt.lang, func(t *testing.T) {
			rel := &dispatcher.Release{ID: "rel", Title: "T", Body: "Cuerpo.\n\n###", Language: tt.lang}
			rel.Contact = &dispatcher.PressContact{Name: "Ana"}
			got := renderAll(t, r, rel, tt.lang)
			for _, out := range []string{got.text, got.html, got.telegram} {
				i, j := strings.Index(out, "###"), strings.Index(out, tt.want)
				k := strings.Index(out, "Ana")
				if j < 0 || strings.Contains(out, tt.not) || !(i < j && j < k) {
					t.Errorf("want %q after the body and before the contact, and no %q:\n%s", tt.want, tt.not, out)
				}
			}
			if !strings.Contains(got.html, "<strong>"+tt.want+"</strong>") {
				t.Errorf("the About text is not rendered from Markdown:\n%s", got.html)
			}
		})
	}
	en := &dispatcher.Release{ID: "rel", Title: "T", Body: "B", Language: "en"}
	none := renderAll(t, newRenderer(t, WithAbout("es", "Solo en español.")), en, "en")
	if strings.Contains(none.text+none.html+none.telegram, "Solo en español") {
		t.Error("a Spanish About text in an English email")
	}
}

func TestOptionsFail(t *testing.T) {
	for name, opt := range map[string]Option{
		"nil clock":    WithClock(nil),
		"nil location": WithLocation(nil),
		"bad language": WithAbout("es-MX-x", "texto"),
	} {
		if _, err := New(opt); err == nil {
			t.Errorf("%s: New succeeded", name)
		}
	}
}

func TestFrontMatter(t *testing.T) {
	tests := []struct {
		name, in, place, date, body string
	}{
		{"none", "Texto", "", "", "Texto"},
		{"place", "---\nplace: Oaxaca \n---\n\nTexto", "Oaxaca", "", "Texto"},
		{"both, any case", "---\nPlace: Oaxaca\nDATE: 2026-02-04\n---\nTexto", "Oaxaca", "2026-02-04", "Texto"},
		{"unclosed", "---\nplace: Oaxaca\nTexto", "", "", "---\nplace: Oaxaca\nTexto"},
		{"other key", "---\nplace: Oaxaca\ntitle: x\n---\nTexto", "", "", "---\nplace: Oaxaca\ntitle: x\n---\nTexto"},
		{"not key: value", "---\nsolo texto\n---\nTexto", "", "", "---\nsolo texto\n---\nTexto"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m, body := frontMatter(tt.in)
			date := ""
			if !m.date.IsZero() {
				date = m.date.Format(time.DateOnly)
			}
			if diff := cmp.Diff([]string{tt.place, tt.date, tt.body}, []string{m.place, date, body}); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}
