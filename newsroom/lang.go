package newsroom

import (
	"sort"
	"strconv"
	"strings"
)

// pickLanguage returns the language of langs that an Accept-Language
// header prefers (matching primary subtags: "es-MX" takes "es"), or the
// first of langs when it prefers none of them.
func pickLanguage(header string, langs []string) string {
	type pref struct {
		tag string
		q   float64
		i   int
	}
	var ps []pref
	for i, part := range strings.Split(header, ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				continue
			}
			q = f
		}
		tag = strings.ToLower(strings.TrimSpace(tag))
		if tag == "" || q <= 0 {
			continue
		}
		primary, _, _ := strings.Cut(tag, "-")
		ps = append(ps, pref{primary, q, i})
	}
	sort.SliceStable(ps, func(a, b int) bool { return ps[a].q > ps[b].q })
	for _, p := range ps {
		for _, l := range langs {
			if p.tag == l {
				return l
			}
		}
	}
	return langs[0]
}

// labels are the newsroom's words in one language.
type labels struct {
	Latest, Older, Newer, Published, Updated, Corrections, Corrected, Retracted, RetractedNotice,
	OtherLanguages, Feeds, NoReleases, NotFound, NotFoundText, ErrorText, Home string
}

var allLabels = map[string]labels{
	"en": {Latest: "Latest statements", Older: "Older statements", Newer: "Newer statements", Published: "Published",
		Updated: "Updated", Corrections: "Corrections", Corrected: "Corrected", Retracted: "Retracted",
		RetractedNotice: "This statement has been retracted.", OtherLanguages: "Also in", Feeds: "Feeds",
		NoReleases: "Nothing has been published yet.", NotFound: "Not found",
		NotFoundText: "There is no statement at this address.", ErrorText: "Something went wrong on our side. Please try again later.",
		Home: "All statements"},
	"es": {Latest: "Últimos comunicados", Older: "Comunicados anteriores", Newer: "Comunicados más recientes", Published: "Publicado",
		Updated: "Actualizado", Corrections: "Correcciones", Corrected: "Corregido", Retracted: "Retirado",
		RetractedNotice: "Este comunicado ha sido retirado.", OtherLanguages: "También en", Feeds: "Suscripción",
		NoReleases: "Todavía no se ha publicado nada.", NotFound: "No encontrado",
		NotFoundText: "No hay ningún comunicado en esta dirección.", ErrorText: "Algo falló de nuestro lado. Inténtelo más tarde.",
		Home: "Todos los comunicados"},
}

func labelsFor(lang string) labels {
	if l, ok := allLabels[lang]; ok {
		return l
	}
	return allLabels["en"]
}

// languageNames names languages in themselves, for the links to other
// versions.
var languageNames = map[string]string{
	"en": "English", "es": "Español", "pt": "Português", "fr": "Français", "ca": "Català", "eu": "Euskara",
	"gl": "Galego", "it": "Italiano", "de": "Deutsch", "qu": "Runa Simi", "gn": "Avañe'ẽ", "ay": "Aymar aru",
}

func languageName(lang string) string {
	if n, ok := languageNames[lang]; ok {
		return n
	}
	return lang
}

// monthNames are the months in Spanish, for dates on Spanish pages.
var monthNamesES = [...]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto",
	"septiembre", "octubre", "noviembre", "diciembre"}
