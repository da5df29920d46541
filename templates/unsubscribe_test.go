package templates

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

func TestWithUnsubscribe(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range []string{"es", "en"} {
		t.Run(lang, func(t *testing.T) {
			rel := &dispatcher.Release{Title: "T", Body: "Cuerpo", Language: lang}
			c, err := r.Email(rel, lang)
			if err != nil {
				t.Fatal(err)
			}
			before := *c
			link := "https://prensa.example.org/u/tok?a=1&b=2"
			got := c.WithUnsubscribe(link)
			if !cmp.Equal(*c, before) {
				t.Error("WithUnsubscribe changed the shared content")
			}
			label := labelsFor(lang)
			if !strings.HasSuffix(got.Text, "Cuerpo\n\n"+label.Unsubscribe+"\n"+link+"\n") {
				t.Errorf("text does not end with the unsubscribe line:\n%q", got.Text)
			}
			wantHTML := label.UnsubscribeQuestion + ` <a href="https://prensa.example.org/u/tok?a=1&amp;b=2" style="color:#0b57d0;">` + label.UnsubscribeLink + "</a></p>\n</div>"
			if !strings.Contains(got.HTML, wantHTML) {
				t.Errorf("HTML lacks %q:\n%s", wantHTML, got.HTML)
			}
			none := c.WithUnsubscribe("")
			if diff := cmp.Diff("T\n=\n\nCuerpo\n", none.Text); diff != "" {
				t.Errorf("text without a link (-want +got):\n%s", diff)
			}
			if !strings.Contains(none.HTML, "<p>Cuerpo</p>\n</div>\n</div>") || strings.Contains(none.HTML, label.UnsubscribeLink) {
				t.Errorf("HTML without a link keeps the line:\n%s", none.HTML)
			}
			for _, out := range []*dispatcher.EmailContent{c, got, none} {
				if strings.ContainsAny(out.Text+out.HTML, "\x00") || strings.Contains(out.Text+out.HTML, unsubscribeURL) {
					t.Errorf("a marker is left in\n%q\n%q", out.Text, out.HTML)
				}
			}
		})
	}
}

// TestUnsubscribeMarkerCannotBeForged checks that user text that spells the
// marker or the placeholder is printed as typed and never becomes a link.
func TestUnsubscribeMarkerCannotBeForged(t *testing.T) {
	r := newRenderer(t)
	forged := "\x00pregon:unsubscribe\x00 %UNSUBSCRIBE_URL% &#0;pregon:unsubscribe&#0;"
	rel := &dispatcher.Release{Title: forged, Summary: forged, Body: forged + "\n\n" + unsubscribeMarker + "x %UNSUBSCRIBE_URL%",
		Language: "es", Contact: &dispatcher.PressContact{Name: forged, Phone: forged}}
	c, err := r.Email(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	for name, slot := range map[string]dispatcher.LinkSlot{"text": c.Unsubscribe.Text, "html": c.Unsubscribe.HTML} {
		if len(slot.Parts) != 2 {
			t.Errorf("%s: the unsubscribe line holds the link %d times, want 1: %q", name, len(slot.Parts)-1, slot.Parts)
		}
	}
	if strings.Contains(c.Text+c.HTML, "\x00") {
		t.Errorf("a marker is left in the shared content:\n%q\n%q", c.Text, c.HTML)
	}
	got := c.WithUnsubscribe("https://x.example/u/t")
	for name, s := range map[string]string{"text": got.Text, "html": got.HTML} {
		if n := strings.Count(s, "https://x.example/u/t"); n != 1 {
			t.Errorf("%s: the link appears %d times, want 1:\n%s", name, n, s)
		}
		if !strings.Contains(s, "%UNSUBSCRIBE_URL%") {
			t.Errorf("%s: the placeholder typed by the user was not kept:\n%s", name, s)
		}
	}
}
