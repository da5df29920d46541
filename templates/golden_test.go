package templates

import (
	"fmt"
	"github.com/pregon/pregon/dispatcher"
	"strings"
	"testing"
)

// The organisation's "About" texts the golden files are rendered with.
const (
	aboutES = "**Acerca de la Coordinadora del Valle.** Red de más de cuarenta comunidades, ejidos y colectivos del Valle de Tlacuilo que defienden el agua y el territorio desde 2019. Más información en [coordinadora-valle.example](https://coordinadora-valle.example/)."
	aboutEN = "**About the Valley Coordinating Committee.** A network of more than forty communities, ejidos and collectives of the Tlacuilo Valley defending water and land since 2019. More at [coordinadora-valle.example](https://coordinadora-valle.example/)."
)

func TestGolden(t *testing.T) {
	r := newRenderer(t, WithAbout("es", aboutES), WithAbout("en", aboutEN))
	for _, lang := range []string{"es", "en"} {
		t.Run(lang, func(t *testing.T) {
			rel := fixture(t)
			// The fixture is under embargo: the early lists' copy.
			email, err := r.EmbargoedEmail(rel, lang)
			if err != nil {
				t.Fatal(err)
			}
			email = email.WithUnsubscribe("https://prensa.example.org/u/AZCd_9QGC3Vuc3Vic2NyaWJl?a=1&b=2")
			golden(t, "email_"+lang+".html", email.HTML)
			golden(t, "email_"+lang+".txt", "Subject: "+email.Subject+"\n\n"+email.Text)

			parts, err := r.Telegram(rel, lang)
			if err != nil {
				t.Fatal(err)
			}
			var b strings.Builder
			for i, p := range parts {
				fmt.Fprintf(&b, "----- part %d/%d, length %d -----\n%s\n", i+1, len(parts), TelegramLength(p), p)
			}
			golden(t, "telegram_"+lang+".txt", b.String())
		})
	}
}

// TestGoldenReadOnline: with WithReadOnline, the email everyone gets (not
// the embargoed copy, sent before the newsroom shows the release) links the
// release's page in the newsroom, in HTML and in plain text.
func TestGoldenReadOnline(t *testing.T) {
	link := func(rel *dispatcher.Release, lang string) string {
		return "https://prensa.example.org/news/" + rel.Text(lang).Language + "/2026/02/rel_0123456789abcdef"
	}
	r := newRenderer(t, WithAbout("es", aboutES), WithAbout("en", aboutEN), WithReadOnline(link))
	for _, lang := range []string{"es", "en"} {
		t.Run(lang, func(t *testing.T) {
			rel := fixture(t)
			email, err := r.Email(rel, lang)
			if err != nil {
				t.Fatal(err)
			}
			email = email.WithUnsubscribe("https://prensa.example.org/u/AZCd_9QGC3Vuc3Vic2NyaWJl?a=1&b=2")
			golden(t, "email_online_"+lang+".html", email.HTML)
			golden(t, "email_online_"+lang+".txt", "Subject: "+email.Subject+"\n\n"+email.Text)
			early, err := r.EmbargoedEmail(rel, lang)
			if err != nil {
				t.Fatal(err)
			}
			if strings.Contains(early.HTML, "/news/") || strings.Contains(early.Text, "/news/") {
				t.Errorf("the embargoed copy links the newsroom")
			}
		})
	}
}
