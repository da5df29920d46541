package templates

import (
	"strings"
	"testing"
	"unicode/utf16"
	"unicode/utf8"

	"github.com/pregon/pregon/dispatcher"
)

// TestTelegramCaption: a caption is the title in bold and the summary in
// italics, valid HTML; a summary too long for 1024 UTF-16 code units (with
// emoji and other characters outside the BMP, two units each, and entities)
// is cut on a word boundary, inside its italics, with an ellipsis, to at
// most 1024 units as Telegram counts them, and never in the middle of a
// character; the link to the full text is kept whole; a correction's note
// comes first.
func TestTelegramCaption(t *testing.T) {
	r := newRenderer(t)
	const link = "https://coalicion.example/n/es/2026/02/agua"
	words := []string{"río", "🌊", "𝔄𝔤𝔲𝔞", "&", "<tierra>", "👩🏽‍🌾", "comunidades", "🇲🇽"}
	var long strings.Builder
	for i := 0; long.Len() < 6000; i++ {
		long.WriteString(words[i%len(words)] + " ")
	}
	for _, tc := range []struct {
		name, summary, link string
		cut                 bool
	}{
		{"short", "Doce comunidades 🌊 frenan el dragado.", "", false},
		{"long", long.String(), "", true},
		{"long with link", long.String(), link, true},
	} {
		rel := fixture(t)
		rel.Title, rel.Summary, rel.Translations = "Agua & tierra 🌊", tc.summary, nil
		c, err := r.TelegramCaption(rel, "es", tc.link)
		if err != nil {
			t.Fatalf("%s: %v", tc.name, err)
		}
		text := checkParts(t, []string{c}, CaptionLimit)
		text = strings.TrimSuffix(text, "\n")
		if n := len(utf16.Encode([]rune(text))); n > 1024 {
			t.Errorf("%s: %d UTF-16 units", tc.name, n)
		}
		if !strings.HasPrefix(c, "<b>Agua &amp; tierra 🌊</b>\n\n<i>") {
			t.Errorf("%s: caption starts %q, want the bold title then the italic summary", tc.name, c[:min(len(c), 60)])
		}
		if tc.link != "" && !strings.HasSuffix(c, `<a href="`+link+`">Lee el comunicado completo →</a>`) {
			t.Errorf("%s: caption ends %q, want the link whole", tc.name, c[max(len(c)-80, 0):])
		}
		if got := strings.Contains(c, "…</i>"); got != tc.cut {
			t.Errorf("%s: cut with an ellipsis inside the italics %t, want %t:\n%s", tc.name, got, tc.cut, c)
		}
		if !tc.cut {
			continue
		}
		summary := text[strings.Index(text, "\n\n")+2:]
		if tc.link != "" {
			summary = summary[:strings.LastIndex(summary, "\n\n")]
		}
		kept := strings.TrimSuffix(summary, "…")
		if !strings.HasPrefix(tc.summary, kept) || !strings.HasPrefix(tc.summary[len(kept):], " ") {
			t.Errorf("%s: the summary is not cut on a word boundary: ends %q", tc.name, kept[max(len(kept)-20, 0):])
		}
		if !utf8.ValidString(kept) || len(utf16.Encode([]rune(text))) < 1024-40 {
			t.Errorf("%s: cut too short or inside a character (%d units)", tc.name, len(utf16.Encode([]rune(text))))
		}
	}

	rel := fixture(t)
	rel.CorrectionOf = &dispatcher.CorrectionOf{ReleaseID: "rel_x", Note: "Eran once comunidades."}
	c, err := r.TelegramCaption(rel, "es", "")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(c, "<b>Corrección:</b> Eran once comunidades.\n\n<b>") {
		t.Errorf("correction caption %q, want the note first", c)
	}
	if _, err := r.TelegramCaption(rel, "es", "javascript:alert(1)"); err == nil {
		t.Error("a javascript: link was taken")
	}
}
