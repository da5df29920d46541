package api

import (
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// checkTexts is the name of the check that every version has a text.
const checkTexts = "text"

// untexted returns the languages of rel's versions whose body is empty,
// the original's first. A draft may have them; a send may not.
func untexted(rel *dispatcher.Release) []string {
	var out []string
	if strings.TrimSpace(rel.Body) == "" {
		out = append(out, rel.Language)
	}
	for _, t := range rel.Translations {
		if strings.TrimSpace(t.Body) == "" {
			out = append(out, t.Language)
		}
	}
	return out
}

// unsendable reports whether rel could not be sent as it is: it has no
// audience, or a version without a text. Only a draft may be so.
func unsendable(rel *dispatcher.Release) bool {
	return rel.Audiences.None() || len(untexted(rel)) > 0
}

// textCheck: every version of the release has a text. A draft may be
// saved with a title alone; a version without a text refuses the send.
func textCheck(rel *dispatcher.Release) dispatcher.Check {
	c := dispatcher.Check{Name: checkTexts, Level: dispatcher.CheckOK}
	missing := untexted(rel)
	switch n := len(rel.Translations) + 1; {
	case len(missing) == 1 && n == 1:
		c.Level = dispatcher.CheckError
		c.Message = "The release has no text yet: write its body before sending."
		c.Notes = []dispatcher.Note{note("text.none")}
	case len(missing) == 1:
		c.Level = dispatcher.CheckError
		c.Message = "The " + missing[0] + " version has no text yet: write it before sending."
		c.Notes = []dispatcher.Note{note("text.version_missing", "lang", missing[0])}
	case len(missing) > 1:
		c.Level = dispatcher.CheckError
		c.Message = "These versions have no text yet: " + strings.Join(missing, ", ") + ". Write them before sending."
		c.Notes = []dispatcher.Note{note("text.versions_missing", "langs", missing)}
	case n == 1:
		c.Message = "The release has its text."
		c.Notes = []dispatcher.Note{note("text.ok")}
	default:
		c.Message = "Each of the " + number(n) + " versions has its text."
		c.Notes = []dispatcher.Note{note("text.ok_versions", "n", n)}
	}
	return c
}
