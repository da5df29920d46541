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
	// Unsubscribe is the email's last line in plain text, followed by the
	// recipient's unsubscribe link; in HTML, UnsubscribeQuestion is
	// followed by a link that says UnsubscribeLink.
	Unsubscribe         string
	UnsubscribeQuestion string
	UnsubscribeLink     string
	months              [12]string
	// dateline returns the dateline for a place and a day.
	dateline func(place string, day time.Time) string
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
			Unsubscribe:         "Para dejar de recibir estos comunicados:",
			UnsubscribeQuestion: "¿Prefiere no recibir más comunicados?",
			UnsubscribeLink:     "Darse de baja",
			dateline: func(place string, d time.Time) string {
				months := [12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"}
				return fmt.Sprintf("%s, %d de %s de %d.", strings.ToUpper(place), d.Day(), months[d.Month()-1], d.Year())
			},
			months: [12]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
		}
	default:
		return labels{
			Embargo:             "EMBARGOED UNTIL",
			Contact:             "Press contact",
			Source:              "First published at",
			Unsubscribe:         "To stop receiving these statements:",
			UnsubscribeQuestion: "Rather not receive these statements?",
			UnsubscribeLink:     "Unsubscribe",
			dateline: func(place string, d time.Time) string {
				return fmt.Sprintf("%s, %d %s %d.", strings.ToUpper(place), d.Day(), d.Month(), d.Year())
			},
			months: [12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
		}
	}
}

// embargo returns the embargo line for t, e.g. "EMBARGOED UNTIL 2 Jan 2027
// 15:04 UTC", or "" when t is nil.
func (l labels) embargo(t *time.Time) string {
	if t == nil {
		return ""
	}
	u := t.UTC()
	return fmt.Sprintf("%s %d %s %d %02d:%02d UTC", l.Embargo, u.Day(), l.months[u.Month()-1], u.Year(), u.Hour(), u.Minute())
}

// baseLanguage returns the primary subtag of a language tag, lower-cased.
func baseLanguage(lang string) string {
	lang = strings.ToLower(strings.TrimSpace(lang))
	if i := strings.IndexAny(lang, "-_"); i >= 0 {
		lang = lang[:i]
	}
	return lang
}
