package web

import (
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/dispatcher"
)

// sampleArgs are values of each name a note can use, as JSON decodes them,
// for TestNoteMessages to say every note with.
var sampleArgs = map[string]any{
	"n": 3.0, "read": 50000.0, "checked": 20.0, "total": 3.0, "max": 1048576.0, "size": 2621440.0, "status": 404.0,
	"lang": "fr", "original": "es", "file": "informe.pdf", "url": "https://example.org/x", "zone": "America/Mexico_City",
	"id": "rel_1", "key": "cargo", "domain": "example", "at": "2026-02-04T10:00:00-06:00",
	"langs": []any{"es", "en"}, "records": []any{"SPF", "DKIM"},
	"missing": []any{map[string]any{"code": "languages.missing_lang", "args": map[string]any{"lang": "fr", "n": 1.0}}},
	"why":     []any{map[string]any{"code": "audiences.no_members"}, map[string]any{"code": "audiences.no_followers"}},
	"who":     []any{map[string]any{"code": "audiences.emails", "args": map[string]any{"n": 12.0}}},
	"links":   []any{map[string]any{"code": "links.link_timeout", "args": map[string]any{"url": "https://example.org"}}},
}

var placeholderName = regexp.MustCompile(`\{([a-z_]+)`)

// TestNoteMessages: every code the API can send (api.NoteCodes) has a
// Spanish and an English text that names each of its values and no other,
// and says with sample values; the catalogue has no code the API lacks.
func TestNoteMessages(t *testing.T) {
	codes := api.NoteCodes()
	for code, names := range codes {
		two, ok := noteMessages[code]
		if !ok {
			t.Errorf("no text for the API's note %q", code)
			continue
		}
		args := map[string]any{}
		for _, n := range names {
			v, ok := sampleArgs[n]
			if !ok {
				t.Fatalf("note %q: no sample value named %q in sampleArgs", code, n)
			}
			args[n] = v
		}
		for i, l := range []*Lang{newLang("es"), newLang("en")} {
			text := two[i]
			if strings.TrimSpace(text) == "" {
				t.Errorf("%s %q: empty text", l.Code, code)
				continue
			}
			var used []string
			for _, m := range placeholderName.FindAllStringSubmatch(text, -1) {
				if !slices.Contains(used, m[1]) {
					used = append(used, m[1])
				}
			}
			slices.Sort(used)
			want := slices.Sorted(slices.Values(names))
			if !slices.Equal(used, want) {
				t.Errorf("%s %q names %v, want the API's values %v: %q", l.Code, code, used, want, text)
			}
			got, ok := l.note(code, args)
			if !ok || strings.ContainsAny(got, "{}#") {
				t.Errorf("%s %q with %v: %q, %v", l.Code, code, args, got, ok)
			}
		}
	}
	for code := range noteMessages {
		if _, ok := codes[code]; !ok {
			t.Errorf("text for %q, a code the API does not send", code)
		}
	}
	for _, r := range []dispatcher.SuppressionReason{dispatcher.ReasonUnsubscribed, dispatcher.ReasonHardBounce,
		dispatcher.ReasonComplaint, dispatcher.ReasonErased} {
		for _, l := range []*Lang{newLang("es"), newLang("en")} {
			if key := "reason." + string(r); l.T(key) == key {
				t.Errorf("%s: no words for the suppression reason %q", l.Code, r)
			}
		}
	}
}

// TestCheckSaid: a check is said from its notes in the person's language,
// with the language's plurals and numbers, and in the API's English when a
// note's code or value is unknown.
func TestCheckSaid(t *testing.T) {
	es, en := newLang("es"), newLang("en")
	who := func(n float64) []dispatcher.Note {
		return []dispatcher.Note{
			{Code: "audiences.receive", Args: map[string]any{"who": []any{
				map[string]any{"code": "audiences.emails", "args": map[string]any{"n": n}},
				map[string]any{"code": "audiences.channels", "args": map[string]any{"n": 1.0}}}}},
			{Code: "audiences.suppressed", Args: map[string]any{"n": n}},
		}
	}
	embargo := []dispatcher.Note{{Code: "embargo.until", Args: map[string]any{"at": "2026-02-04T10:00:00-06:00", "zone": "America/Mexico_City"}}}
	att := []dispatcher.Note{{Code: "attachments.total", Args: map[string]any{"n": 1.0, "size": 2621440.0}},
		{Code: "attachments.file_too_big", Args: map[string]any{"file": "a.pdf", "size": 2621440.0, "max": 1048576.0}}}
	broken := []dispatcher.Note{{Code: "links.broken", Args: map[string]any{"n": 1.0, "checked": 6.0, "links": []any{
		map[string]any{"code": "links.link_status", "args": map[string]any{"url": "https://example.org/x", "status": 404.0}}}}}}
	tests := []struct {
		name string
		l    *Lang
		c    dispatcher.Check
		want string
	}{
		{"es many", es, dispatcher.Check{Message: "English", Notes: who(12345)},
			"El comunicado llegará a 12\u00a0345 direcciones de correo y 1 canal de Telegram. 12\u00a0345 direcciones están suprimidas (se dieron de baja o rebotaron) y no recibirán correo."},
		{"es one", es, dispatcher.Check{Message: "English", Notes: who(1)},
			"El comunicado llegará a 1 dirección de correo y 1 canal de Telegram. 1 dirección está suprimida (se dio de baja o rebotó) y no recibirá correo."},
		{"es four digits", es, dispatcher.Check{Message: "English", Notes: who(1234)[1:]},
			"1234 direcciones están suprimidas (se dieron de baja o rebotaron) y no recibirán correo."},
		{"en many", en, dispatcher.Check{Message: "English", Notes: who(12345)},
			"12,345 email addresses and 1 Telegram channel will receive the release. 12,345 addresses are suppressed (unsubscribed or bounced) and will not be mailed."},
		{"es embargo", es, dispatcher.Check{Message: "English", Notes: embargo}, "Embargo hasta el 4 de febrero de 2026, 10:00 (America/Mexico_City)."},
		{"en embargo", en, dispatcher.Check{Message: "English", Notes: embargo}, "Embargoed until 4 February 2026, 10:00 (America/Mexico_City)."},
		{"es sizes", es, dispatcher.Check{Message: "English", Notes: att}, "1 archivo, 2,5 MB en total. a.pdf pesa 2,5 MB, más que el límite de 1 MB por archivo."},
		{"en sizes", en, dispatcher.Check{Message: "English", Notes: att}, "1 file, 2.5 MB in all. a.pdf is 2.5 MB, over the limit of 1 MB per file."},
		{"es one broken link", es, dispatcher.Check{Message: "English", Notes: broken}, "1 enlace de 6 podría estar roto: https://example.org/x (respondió 404). Revísalo antes de enviar."},
		{"en one broken link", en, dispatcher.Check{Message: "English", Notes: broken}, "1 of 6 links may be broken: https://example.org/x (answered 404). Check it before sending."},
		{"unknown code", es, dispatcher.Check{Message: "A newer API's sentence.", Notes: []dispatcher.Note{{Code: "text.ok"}, {Code: "text.new_kind"}}},
			"A newer API's sentence."},
		{"missing value", es, dispatcher.Check{Message: "A sentence.", Notes: []dispatcher.Note{{Code: "text.ok_versions"}}}, "A sentence."},
		{"no notes (an older API)", es, dispatcher.Check{Message: "Old English."}, "Old English."},
	}
	for _, tt := range tests {
		if got := tt.l.Check(tt.c); got != tt.want {
			t.Errorf("%s:\n got %q\nwant %q", tt.name, got, tt.want)
		}
	}
	row := api.RowError{Message: "name is longer than 200 characters", Code: "row.name_too_long", Args: map[string]any{"max": 200.0}}
	if got := es.RowError(row); got != "el nombre tiene más de 200 caracteres" {
		t.Errorf("row error in Spanish: %q", got)
	}
	if got := es.RowError(api.RowError{Message: "something new"}); got != "something new" {
		t.Errorf("row error without a code: %q", got)
	}
}

// TestChartDuration: the chart says how long the sending took in words
// that fit the span, in both languages.
func TestChartDuration(t *testing.T) {
	es, en := newLang("es"), newLang("en")
	for _, tt := range []struct {
		ms     int64
		es, en string
	}{
		{0, "1 segundo", "1 second"},
		{1000, "1 segundo", "1 second"},
		{45_000, "45 segundos", "45 seconds"},
		{60_000, "1 minuto", "1 minute"},
		{90_000, "1 minuto y 30 segundos", "1 minute and 30 seconds"},
		{3_600_000, "1 hora", "1 hour"},
		{2*3_600_000 + 5*60_000, "2 horas y 5 minutos", "2 hours and 5 minutes"},
	} {
		if got := es.Duration(tt.ms); got != tt.es {
			t.Errorf("es %d ms: %q, want %q", tt.ms, got, tt.es)
		}
		if got := en.Duration(tt.ms); got != tt.en {
			t.Errorf("en %d ms: %q, want %q", tt.ms, got, tt.en)
		}
	}
	if got := es.T("chart.summary", 3, 0, 3, es.Duration(1000)); got != "Enviados: 3 de 3; fallidos: 0; en 1 segundo." {
		t.Errorf("chart summary: %q", got)
	}
}
