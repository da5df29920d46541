package templates

import (
	"fmt"
	"strings"
	"time"
)

// labels are the fixed words a rendering adds around the release's text.
type labels struct {
	Embargo string // followed by the embargo time
	Contact string // heading of the press-contact block
	Source  string // followed by the source URL
	// FullText is the link to the full text under a summary post.
	FullText string
	// Unsubscribe is the email's last line in plain text, followed by the
	// recipient's unsubscribe link; in HTML, UnsubscribeQuestion is
	// followed by a link that says UnsubscribeLink.
	Unsubscribe         string
	UnsubscribeQuestion string
	UnsubscribeLink     string
	// ReadOnline is followed by the link to the release's page in the
	// newsroom (plain text); ReadOnlineLink is that link's text (HTML).
	ReadOnline, ReadOnlineLink string
	// date writes a day in full: "4 February 2026", "4 de febrero de 2026".
	date func(day time.Time) string
}

// labelsFor returns the labels for a language tag such as "es" or "es-MX":
// Spanish for Spanish, English for everything else.
func labelsFor(lang string) labels {
	switch baseLanguage(lang) {
	case "es":
		return labels{
			Embargo:             "EMBARGO HASTA",
			Contact:             "Contacto de prensa",
			Source:              "Publicado originalmente en",
			FullText:            "Lee el comunicado completo",
			Unsubscribe:         "Para dejar de recibir estos comunicados:",
			UnsubscribeQuestion: "¿Prefiere no recibir más comunicados?",
			UnsubscribeLink:     "Darse de baja",
			ReadOnline:          "Lea este comunicado en la web:",
			ReadOnlineLink:      "Leer este comunicado en la web",
			date: func(d time.Time) string {
				months := [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
				return fmt.Sprintf("%d de %s de %d", d.Day(), months[d.Month()-1], d.Year())
			},
		}
	default:
		return labels{
			Embargo:             "EMBARGOED UNTIL",
			Contact:             "Press contact",
			Source:              "First published at",
			FullText:            "Read the full statement",
			Unsubscribe:         "To stop receiving these statements:",
			UnsubscribeQuestion: "Rather not receive these statements?",
			UnsubscribeLink:     "Unsubscribe",
			ReadOnline:          "Read this statement online:",
			ReadOnlineLink:      "Read this statement online",
			date: func(d time.Time) string {
				return fmt.Sprintf("%d %s %d", d.Day(), d.Month(), d.Year())
			},
		}
	}
}

// dateline returns the dateline for a place and a day, e.g. "MEXICO CITY,
// 4 February 2026.".
func (l labels) dateline(place string, day time.Time) string {
	return strings.ToUpper(place) + ", " + l.date(day) + "."
}

// embargo returns the embargo line for t read in the time zone z, e.g.
// "EMBARGOED UNTIL 4 February 2026, 10:00 (America/Mexico_City)", or ""
// when t is nil. The zone is named, not abbreviated: "CST" means three
// different zones, and a journalist abroad must be able to convert it.
func (l labels) embargo(t *time.Time, z zone) string {
	if t == nil {
		return ""
	}
	d := t.In(z.loc)
	return fmt.Sprintf("%s %s, %02d:%02d (%s)", l.Embargo, l.date(d), d.Hour(), d.Minute(), z.name)
}

// baseLanguage returns the primary subtag of a language tag, lower-cased.
func baseLanguage(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}
