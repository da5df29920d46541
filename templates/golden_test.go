package templates

import (
	"fmt"
	"strings"
	"testing"
)

func TestGolden(t *testing.T) {
	r := newRenderer(t)
	for _, lang := range []string{"es", "en"} {
		t.Run(lang, func(t *testing.T) {
			rel := fixture(t)
			email, err := r.Email(rel, lang)
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
