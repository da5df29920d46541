package templates

import (
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// correctionOf returns the fixture as the release of a correction of it,
// its Spanish body corrected.
func correctionOf(t *testing.T, note string, retraction bool) *dispatcher.Release {
	t.Helper()
	rel := fixture(t)
	rel.ID = "rel-correction"
	rel.EmbargoUntil = nil
	rel.Body = strings.Replace(rel.Body, "Cerro Azul", "Cerro Azul (corregido)", 1)
	rel.CorrectionOf = &dispatcher.CorrectionOf{ReleaseID: "rel-fixture", Note: note, Retraction: retraction, Version: 2, Key: "k"}
	return rel
}

func TestCorrectionEmail(t *testing.T) {
	r := newRenderer(t)
	const note = "La cifra de comunidades era 42, no 40 & <más>."
	rel := correctionOf(t, note, false)
	plain, err := r.Email(&dispatcher.Release{Title: rel.Title, Body: rel.Body, Language: "es", Contact: rel.Contact}, "es")
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct{ lang, prefix, title string }{
		{"es", "CORRECCIÓN: ", rel.Title},
		{"en", "CORRECTION: ", rel.Translations[0].Title},
	} {
		t.Run(tc.lang, func(t *testing.T) {
			c, err := r.Email(rel, tc.lang)
			if err != nil {
				t.Fatal(err)
			}
			if want := tc.prefix + tc.title; c.Subject != want {
				t.Errorf("subject %q, want %q", c.Subject, want)
			}
			if !strings.HasPrefix(c.Text, tc.prefix+"La cifra") {
				t.Errorf("text does not start with the note:\n%.300s", c.Text)
			}
			if strings.Contains(c.Text, "EMBARGO") {
				t.Errorf("a correction shows the embargo line:\n%.600s", c.Text)
			}
			card := strings.Index(c.HTML, `<div class="card"`)
			block := strings.Index(c.HTML, `<p class="correction"`)
			if card < 0 || block < card || block > card+400 {
				t.Errorf("the note is not at the top of the HTML card (card at %d, note at %d)", card, block)
			}
			if !strings.Contains(c.HTML, "42, no 40 &amp; &lt;más&gt;.") {
				t.Errorf("the HTML does not hold the note, escaped")
			}
			// The unsubscribe line still lands where it belongs.
			one := c.WithUnsubscribe("https://pregon.example/u/TOKEN")
			for _, body := range []string{one.Text, one.HTML} {
				i := strings.Index(body, "https://pregon.example/u/TOKEN")
				if i < 0 || i < len(body)-600 {
					t.Errorf("unsubscribe link at %d of %d bytes, want it at the end:\n%s", i, len(body), body[max(0, len(body)-700):])
				}
			}
		})
	}
	c, err := r.Email(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(c.Text, "(corregido)") {
		t.Error("the correction's email does not hold the corrected text")
	}
	if len(c.Text) <= len(plain.Text) {
		t.Errorf("a correction's text (%d bytes) is not longer than the statement's (%d)", len(c.Text), len(plain.Text))
	}
}

func TestRetractionEmail(t *testing.T) {
	r := newRenderer(t)
	rel := correctionOf(t, "El comunicado se publicó por error.", true)
	c, err := r.Email(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	if want := "RETIRADO: " + rel.Title; c.Subject != want {
		t.Errorf("subject %q, want %q", c.Subject, want)
	}
	if !strings.HasPrefix(c.Text, "RETIRADO: El comunicado se publicó por error.") {
		t.Errorf("text does not start with the note:\n%.300s", c.Text)
	}
	for _, body := range []string{c.Text, c.HTML} {
		if strings.Contains(body, "Cerro Azul (corregido)") || strings.Contains(body, "cuarenta comunidades") {
			t.Errorf("a retraction holds the statement's summary or body:\n%s", body)
		}
	}
	en, err := r.Email(rel, "en")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.HasPrefix(en.Subject, "WITHDRAWN: ") {
		t.Errorf("English subject %q", en.Subject)
	}
}

func TestCorrectionTelegram(t *testing.T) {
	r := newRenderer(t)
	rel := correctionOf(t, "La cifra era 42.", false)
	parts, err := r.Telegram(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	checkParts(t, parts, telegramLimit)
	if !strings.HasPrefix(parts[0], "<b>Corrección:</b> La cifra era 42.\n\n") {
		t.Errorf("first part does not start with the note:\n%.200s", parts[0])
	}
	if !strings.Contains(strings.Join(parts, ""), "(corregido)") {
		t.Error("the post does not hold the corrected text")
	}

	reply, err := r.TelegramCorrectionReply(rel, "en")
	if err != nil {
		t.Fatal(err)
	}
	if reply != "<b>Correction:</b> La cifra era 42." {
		t.Errorf("reply %q", reply)
	}
	left, err := r.TelegramLeftover(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	checkParts(t, []string{reply, left}, telegramLimit)

	rel = correctionOf(t, "Publicado por error.", true)
	parts, err = r.Telegram(rel, "en")
	if err != nil {
		t.Fatal(err)
	}
	text := checkParts(t, parts, telegramLimit)
	if len(parts) != 1 || !strings.HasPrefix(parts[0], "<b>WITHDRAWN:</b> Publicado por error.") {
		t.Errorf("retraction post: %q", parts)
	}
	if strings.Contains(text, "forty communities") {
		t.Errorf("a retraction's post holds the statement: %q", text)
	}
	if _, err := r.TelegramLeftover(fixture(t), "es"); err == nil {
		t.Error("TelegramLeftover of a release that is not a correction succeeded")
	}
}
