package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// TestCorrectionsBadInput: every bad correction gets a clear problem and
// changes nothing; a good one is made once however often it is asked for.
func TestCorrectionsBadInput(t *testing.T) {
	a := newRedisAPI(t)
	id := a.newRelease(a.newList(), 200, nil)
	path := "/v1/releases/" + id + "/corrections"

	var p Problem
	a.must("POST", path, `{"note": "Cifra corregida.", "body": "Otro texto."}`, http.StatusConflict, &p)
	if !strings.Contains(p.Detail, "draft") || !strings.Contains(p.Detail, "edit it (PATCH) before sending") {
		t.Errorf("correction of a draft: %q", p.Detail)
	}
	if _, err := a.store.SetReleaseStatus(context.Background(), id, dispatcher.ReleaseSent, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	long := strings.Repeat("x", maxNote+1)
	for _, tc := range []struct {
		body   string
		fields []string
	}{
		{`{"body": "Otro texto."}`, []string{"note"}},
		{`{"note": "` + long + `", "body": "Otro texto."}`, []string{"note"}},
		{`{"note": "Una\nlínea.", "title": ""}`, []string{"note", "title"}},
		{`{"note": "Nota.", "body": " "}`, []string{"body"}},
		{`{"note": "Nota.", "translations": [{"language": "fr", "title": "T", "body": "B"}, {"language": "es", "title": "T", "body": "B"}]}`,
			[]string{"translations[0].language", "translations[1].language"}},
		{`{"note": "Nota.", "translations": [{"language": "en", "title": "", "body": "B"}]}`, []string{"translations[0].title"}},
		{`{"note": "Nada cambia."}`, nil},
	} {
		var p Problem
		a.must("POST", path, tc.body, http.StatusBadRequest, &p)
		var got []string
		for _, e := range p.Errors {
			got = append(got, e.Field)
		}
		if !slices.Equal(got, tc.fields) {
			t.Errorf("%s: fields %v, want %v (%s)", tc.body, got, tc.fields, p.Detail)
		}
	}
	if w := a.do("POST", path, viewerToken, `{"note": "Nota.", "body": "Otro texto."}`); w.Code != http.StatusForbidden {
		t.Errorf("a viewer's correction: %d, want 403", w.Code)
	}
	a.must("POST", "/v1/releases/rel_00000000000000000000000000/corrections", `{"note": "Nota.", "body": "Otro."}`, http.StatusNotFound, nil)
	if rel, err := a.store.Release(context.Background(), id); err != nil || rel.Version != 1 {
		t.Fatalf("bad corrections changed the release: version %d, %v", rel.Version, err)
	}

	var first, again dispatcher.Correction
	a.must("POST", path, `{"note": "Cifra corregida.", "body": "Otro texto.", "translations": [{"language": "EN", "title": "Fixed", "body": "Other text."}]}`, http.StatusAccepted, &first)
	a.must("POST", path, `{"note": "Cifra corregida.", "body": "Otro texto.", "translations": [{"language": "EN", "title": "Fixed", "body": "Other text."}]}`, http.StatusOK, &again)
	if first.ID == "" || again.ID != first.ID || first.Version != 2 || first.ReleaseID != id || first.Counts == nil {
		t.Errorf("correction %+v, again %+v", first, again)
	}
	rel, err := a.store.Release(context.Background(), id)
	if err != nil || rel.Body != "Otro texto." || rel.Translations[0].Language != "en" || rel.Translations[0].Title != "Fixed" || rel.Version != 2 {
		t.Errorf("corrected release = %+v, %v", rel, err)
	}
	w := a.do("GET", path, viewerToken, "")
	var page struct{ Items []json.RawMessage }
	if w.Code != http.StatusOK || json.Unmarshal(w.Body.Bytes(), &page) != nil || len(page.Items) != 1 {
		t.Fatalf("GET corrections: %d %s", w.Code, w.Body)
	}
	// A correction is corrected through its release.
	a.must("POST", "/v1/releases/"+first.ID+"/corrections", `{"note": "Nota.", "body": "Otro."}`, http.StatusConflict, nil)
}
