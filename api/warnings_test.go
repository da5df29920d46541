package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/dispatcher"
)

// warnedOut is the part of an answer with warnings the tests read.
type warnedOut struct {
	ID       string             `json:"id"`
	Version  int                `json:"version"`
	Warnings []dispatcher.Check `json:"warnings"`
}

// TestWarningsOnCreateAndEdit: creating a release whose audience reads a
// language it has no version in answers 201 with that warning, in the
// checklist's shape; a repeat of the create (same Idempotency-Key) says it
// again; an edit that adds the version answers with no warnings, and one
// that empties the audience warns that no one would get it.
func TestWarningsOnCreateAndEdit(t *testing.T) {
	a := newIdempotentAPI(t)
	list := a.newList()
	a.must("POST", "/v1/lists/"+list+"/contacts", `[{"email":"ana@example.org","language":"es"},{"email":"marie@example.fr","language":"fr"}]`, http.StatusOK, nil)
	body := releaseBody(list, "Las comunidades piden detener el dragado")

	decode := func(raw []byte) warnedOut {
		t.Helper()
		var out warnedOut
		if err := json.Unmarshal(raw, &out); err != nil {
			t.Fatal(err)
		}
		return out
	}
	w := a.createWithKey(coordToken, "k-1", body)
	if w.Code != http.StatusCreated {
		t.Fatalf("create: %d %s", w.Code, w.Body)
	}
	if !strings.Contains(w.Body.String(), `"warnings":[`) {
		t.Fatalf("create answer has no warnings array: %s", w.Body)
	}
	created := decode(w.Body.Bytes())
	want := []dispatcher.Check{{Name: "languages", Level: dispatcher.CheckWarning,
		Message: "No version in fr (1 recipient): they will get the original, in es."}}
	if diff := cmp.Diff(want, created.Warnings, noNotes); diff != "" {
		t.Errorf("create warnings (-want +got):\n%s", diff)
	}
	if w := a.createWithKey(coordToken, "k-1", body); w.Code != http.StatusCreated || decode(w.Body.Bytes()).ID != created.ID {
		t.Fatalf("repeated create: %d %s", w.Code, w.Body)
	} else if diff := cmp.Diff(want, decode(w.Body.Bytes()).Warnings, noNotes); diff != "" {
		t.Errorf("repeated create warnings (-want +got):\n%s", diff)
	}

	var edited warnedOut
	a.must("PATCH", "/v1/releases/"+created.ID, `{"translations":[{"language":"fr","title":"Les communautés","body":"Le texte."}]}`, http.StatusOK, &edited)
	if edited.Version != 2 || edited.Warnings == nil || len(edited.Warnings) != 0 {
		t.Errorf("edit adding fr: version %d, warnings %#v; want version 2 and [] ", edited.Version, edited.Warnings)
	}
	empty := a.newList()
	a.must("PATCH", "/v1/releases/"+created.ID, `{"audiences":{"lists":["`+empty+`"]}}`, http.StatusOK, &edited)
	if len(edited.Warnings) != 1 || edited.Warnings[0].Name != "audiences" || edited.Warnings[0].Level != dispatcher.CheckError {
		t.Errorf("edit to an empty list: warnings %+v; want the audiences check (no one would receive it)", edited.Warnings)
	}
}
