package templates

import (
	"strings"
	"testing"
)

// TestTelegramSummary: a summary post is the title, the summary and a link
// to the full text, in the version's language, valid HTML in one message;
// a link that is not http(s) is refused.
func TestTelegramSummary(t *testing.T) {
	r := newRenderer(t)
	rel := fixture(t)
	rel.Title = `Agua & tierra: "<ya>"`
	const link = "https://coalicion.example/n/es/2026/02/agua?a=1&b=2"
	for _, tc := range []struct{ lang, label string }{{"es", "Lee el comunicado completo"}, {"en", "Read the full statement"}} {
		parts, err := r.TelegramSummary(rel, tc.lang, link)
		if err != nil {
			t.Fatal(err)
		}
		if len(parts) != 1 {
			t.Fatalf("%s: %d parts, want 1", tc.lang, len(parts))
		}
		checkParts(t, parts, telegramLimit)
		ver := rel.Text(tc.lang)
		p := parts[0]
		for _, want := range []string{`<a href="https://coalicion.example/n/es/2026/02/agua?a=1&amp;b=2">` + tc.label, "<i>"} {
			if !strings.Contains(p, want) {
				t.Errorf("%s: summary post lacks %q:\n%s", tc.lang, want, p)
			}
		}
		if !strings.HasPrefix(p, "<b>") || strings.Contains(p, "<ya>") {
			t.Errorf("%s: title not bold or not escaped:\n%s", tc.lang, p)
		}
		if body := paragraphs(t, ver.Body); len(body) > 0 && strings.Contains(noSpace(p), noSpace(body[len(body)-1])) {
			t.Errorf("%s: the summary post holds the body:\n%s", tc.lang, p)
		}
	}
	if _, err := r.TelegramSummary(rel, "es", "javascript:alert(1)"); err == nil {
		t.Error("a javascript: link was taken")
	}
}
