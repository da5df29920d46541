package api

import (
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// otherCoordToken is a coordinator's token with another name than coordToken's.
const otherCoordToken = "pgn_luis_secret"

// editHarness is a harness with a second coordinator, a list and a draft
// release by coordToken ("coordinator-token"), whose id it returns.
func editHarness(t *testing.T, mod ...func(*Config)) (*harness, string) {
	t.Helper()
	h := newHarness(t, mod...)
	h.store.tokens[auth.Hash(otherCoordToken)] = &auth.Token{Name: "luis", Role: auth.RoleCoordinator}
	list := h.newList("Prensa")
	h.addMember(list, "marta@diario.example")
	var rel dispatcher.Release
	h.mustJSON("POST", "/v1/releases", releaseJSON(t, []string{list}, nil, nil), http.StatusCreated, &rel)
	return h, rel.ID
}

// patch sends a PATCH as a coordinator and decodes a 200 answer.
func (h *harness) patch(id, body string, want int) (*dispatcher.Release, Problem) {
	h.t.Helper()
	w := h.do("PATCH", "/v1/releases/"+id, coordToken, "application/merge-patch+json", body)
	if want != http.StatusOK {
		return nil, problemOf(h.t, w, want)
	}
	if w.Code != want {
		h.t.Fatalf("PATCH %s: status %d, want %d; body %s", body, w.Code, want, w.Body)
	}
	var rel dispatcher.Release
	if err := json.Unmarshal(w.Body.Bytes(), &rel); err != nil {
		h.t.Fatal(err)
	}
	return &rel, Problem{}
}

func TestEditMakesAVersion(t *testing.T) {
	h, id := editHarness(t)
	rel, _ := h.patch(id, `{"title": "Comunidades logran suspender el dragado", "translations": null}`, http.StatusOK)
	if rel.Version != 2 || rel.Title != "Comunidades logran suspender el dragado" || len(rel.Translations) != 0 {
		t.Fatalf("after the edit: version %d, title %q, translations %v", rel.Version, rel.Title, rel.Translations)
	}
	// What was not in the patch is as it was.
	if rel.Summary != "Cambiemos… el rumbo" || rel.Contact == nil || rel.Contact.Name != "Lucía Gómez" || rel.EmbargoUntil == nil || rel.Author != "coordinator-token" {
		t.Fatalf("fields outside the patch changed: %+v", rel)
	}
	// A patch of a nested object changes only its members.
	rel, _ = h.patch(id, `{"contact": {"phone": null}}`, http.StatusOK)
	if rel.Version != 3 || rel.Contact.Phone != "" || rel.Contact.Email != "prensa@example.org" {
		t.Fatalf("after the contact patch: version %d, contact %+v", rel.Version, rel.Contact)
	}

	// A patch that changes nothing writes nothing and makes no version.
	writes := h.store.writes
	for _, body := range []string{`{}`, `{"title": "  Comunidades logran suspender el dragado "}`, `{"version": 3}`} {
		rel, _ = h.patch(id, body, http.StatusOK)
		if rel.Version != 3 {
			t.Errorf("no-op patch %s: version %d, want 3", body, rel.Version)
		}
	}
	if h.store.writes != writes {
		t.Errorf("no-op patches wrote %d times", h.store.writes-writes)
	}
}

// TestEditValidatesAsCreate: a patch that makes the release invalid gets
// the field errors that creating such a release gets, and changes nothing.
func TestEditValidatesAsCreate(t *testing.T) {
	h, id := editHarness(t)
	list := h.store.lists[0].ID
	writes := h.store.writes
	tests := []struct {
		patch string
		edit  func(map[string]any) // the same change to a whole release
	}{
		{`{"title": ""}`, func(m map[string]any) { m["title"] = "" }},
		{`{"title": null, "body": null}`, func(m map[string]any) { delete(m, "title"); delete(m, "body") }},
		{`{"language": "no es un idioma"}`, func(m map[string]any) { m["language"] = "no es un idioma" }},
		{`{"audiences": {"lists": ["lst_nope"]}}`, func(m map[string]any) { m["audiences"] = map[string]any{"lists": []string{"lst_nope"}} }},
		{`{"embargo_until": "mañana"}`, func(m map[string]any) { m["embargo_until"] = "mañana" }},
		{`{"translations": [{"language": "es", "title": "x", "body": "y"}]}`, func(m map[string]any) {
			m["translations"] = []any{map[string]any{"language": "es", "title": "x", "body": "y"}}
		}},
		{`{"title": 5}`, func(m map[string]any) { m["title"] = 5 }},
		{`{"contact": {"email": "no-es-correo"}}`, func(m map[string]any) {
			m["contact"] = map[string]any{"name": "Lucía Gómez", "email": "no-es-correo", "phone": "+52 55 0000 0000"}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.patch, func(t *testing.T) {
			_, got := h.patch(id, tt.patch, http.StatusBadRequest)
			want := problemOf(t, h.json("POST", "/v1/releases", releaseJSON(t, []string{list}, nil, tt.edit)), http.StatusBadRequest)
			if diff := cmp.Diff(fieldsOf(want), fieldsOf(got)); diff != "" || len(got.Errors) == 0 {
				t.Errorf("fields (-create +edit):\n%s", diff)
			}
			if diff := cmp.Diff(want.Errors, got.Errors); diff != "" {
				t.Errorf("errors (-create +edit):\n%s", diff)
			}
		})
	}
	for _, body := range []string{`{"send": true}`, `{"status": "sent"}`, `{"audiences": {"everyone": true}}`, `{"version": "1"}`, `{"version": 0}`, `[]`, ``} {
		w := h.do("PATCH", "/v1/releases/"+id, coordToken, "application/json", body)
		problemOf(t, w, http.StatusBadRequest)
	}
	if h.store.writes != writes {
		t.Fatalf("refused patches wrote %d times", h.store.writes-writes)
	}
	if rel, _ := h.store.Release(t.Context(), id); rel.Version != 1 {
		t.Fatalf("version %d after refused patches, want 1", rel.Version)
	}
}

func TestEditOfAStaleVersionRefused(t *testing.T) {
	h, id := editHarness(t)
	h.patch(id, `{"title": "Segundo título", "version": 1}`, http.StatusOK)
	_, p := h.patch(id, `{"title": "Tercer título", "version": 1}`, http.StatusConflict)
	if !strings.Contains(p.Detail, "at version 2, not 1") || !slices.Equal(fieldsOf(p), []string{"version"}) {
		t.Fatalf("stale version: %+v", p)
	}
	for _, tt := range []struct {
		ifMatch string
		want    int
	}{{`"1"`, http.StatusConflict}, {`W/"1"`, http.StatusConflict}, {`"dos"`, http.StatusBadRequest}, {`"2"`, http.StatusOK}} {
		r := httptestRequest("PATCH", "/v1/releases/"+id, `{"summary": "Otro resumen"}`, false)
		r.Header.Set("Authorization", "Bearer "+coordToken)
		r.Header.Set("If-Match", tt.ifMatch)
		if w := h.serve(r); w.Code != tt.want {
			t.Errorf("If-Match %s: status %d, want %d; %s", tt.ifMatch, w.Code, tt.want, w.Body)
		} else if w.Code == http.StatusOK && w.Header().Get("ETag") != `"3"` {
			t.Errorf("ETag %q, want \"3\"", w.Header().Get("ETag"))
		}
	}
}

func TestEditWhileSendingRefused(t *testing.T) {
	h, id := editHarness(t)
	h.mustJSON("POST", "/v1/releases/"+id+"/send", `{}`, http.StatusAccepted, nil)
	writes := h.store.writes
	_, p := h.patch(id, `{"title": "Otro"}`, http.StatusConflict)
	if !strings.Contains(p.Detail, "sending") || !strings.Contains(p.Detail, "can no longer be edited") {
		t.Fatalf("edit while sending: %q", p.Detail)
	}
	w := h.do("POST", "/v1/releases/"+id+"/approve", otherCoordToken, "application/json", `{"version": 1}`)
	problemOf(t, w, http.StatusConflict)
	if h.store.writes != writes {
		t.Fatal("a refused edit or approval wrote")
	}

	h.mustJSON("POST", "/v1/releases", releaseJSON(t, []string{h.store.lists[0].ID}, nil, nil), http.StatusCreated, nil)
	cancelled := h.store.releases[len(h.store.releases)-1].ID
	h.mustJSON("POST", "/v1/releases/"+cancelled+"/cancel", ``, http.StatusOK, nil)
	writes = h.store.writes
	if _, p := h.patch(cancelled, `{"title": "Otro"}`, http.StatusConflict); !strings.Contains(p.Detail, "cancelled") {
		t.Fatalf("edit of a cancelled release: %q", p.Detail)
	}
	if h.store.writes != writes {
		t.Fatal("a refused edit wrote")
	}
	if w := h.do("PATCH", "/v1/releases/rel_nothere", coordToken, "application/json", `{"title": "x"}`); w.Code != http.StatusNotFound {
		t.Fatalf("edit of an unknown release: %d", w.Code)
	}
	if w := h.do("PATCH", "/v1/releases/"+id, viewerToken, "application/json", `{"title": "x"}`); w.Code != http.StatusForbidden {
		t.Fatalf("edit by a viewer: %d", w.Code)
	}
}

func TestApproval(t *testing.T) {
	h, id := editHarness(t, func(c *Config) { c.RequireApproval = true })
	h.srv.sender = approvalSender{h.sender}
	approve := func(token, body string) *dispatcher.Release {
		t.Helper()
		w := h.do("POST", "/v1/releases/"+id+"/approve", token, "application/json", body)
		if w.Code != http.StatusOK {
			t.Fatalf("approve %s: %d %s", body, w.Code, w.Body)
		}
		var rel dispatcher.Release
		if err := json.Unmarshal(w.Body.Bytes(), &rel); err != nil {
			t.Fatal(err)
		}
		return &rel
	}

	// The author cannot approve.
	p := problemOf(t, h.do("POST", "/v1/releases/"+id+"/approve", coordToken, "application/json", `{"version": 1}`), http.StatusForbidden)
	if !strings.Contains(p.Detail, `You wrote this release (as "coordinator-token")`) {
		t.Fatalf("approval by the author: %q", p.Detail)
	}
	// Nor is it sent before someone else approves it.
	p = problemOf(t, h.json("POST", "/v1/releases/"+id+"/send", `{}`), http.StatusConflict)
	if !strings.Contains(p.Detail, "needs approval of version 1 by a coordinator other than coordinator-token") {
		t.Fatalf("send before approval: %q", p.Detail)
	}
	problemOf(t, h.do("POST", "/v1/releases/"+id+"/approve", otherCoordToken, "application/json", `{}`), http.StatusBadRequest)
	problemOf(t, h.do("POST", "/v1/releases/"+id+"/approve", otherCoordToken, "application/json", `{"version": 2}`), http.StatusConflict)

	rel := approve(otherCoordToken, `{"version": 1}`)
	if rel.ApprovedBy != "luis" || rel.ApprovedVersion != 1 || rel.Version != 1 {
		t.Fatalf("approved: %+v", rel)
	}
	// An edit withdraws the approval: the release shows it approved an older version.
	rel, _ = h.patch(id, `{"summary": "Un resumen mejor."}`, http.StatusOK)
	if rel.Version != 2 || rel.ApprovedVersion != 1 {
		t.Fatalf("after the edit: version %d, approved %d", rel.Version, rel.ApprovedVersion)
	}
	p = problemOf(t, h.json("POST", "/v1/releases/"+id+"/send", `{}`), http.StatusConflict)
	if !strings.Contains(p.Detail, "needs approval of version 2") {
		t.Fatalf("send after the edit: %q", p.Detail)
	}
	approve(otherCoordToken, `{"version": 2}`)
	var sent dispatcher.Release
	h.mustJSON("POST", "/v1/releases/"+id+"/send", `{}`, http.StatusAccepted, &sent)
	if sent.Status != dispatcher.ReleaseSending {
		t.Fatalf("sent: status %s", sent.Status)
	}

	// A release created with send: true is kept as a draft, with the reason.
	w := h.json("POST", "/v1/releases", releaseJSON(t, []string{h.store.lists[0].ID}, nil, func(m map[string]any) { m["send"] = true }))
	p = problemOf(t, w, http.StatusConflict)
	if p.ReleaseID == "" || !strings.Contains(p.Detail, "saved as a draft but not sent") || !strings.Contains(p.Detail, "needs approval of version 1") {
		t.Fatalf("create and send: %+v", p)
	}
}

// TestEditOfTheEmbargoReschedules: moving the embargo of a scheduled
// release asks the sender to move its dispatch; other edits do not.
func TestEditOfTheEmbargoReschedules(t *testing.T) {
	h, id := editHarness(t)
	h.mustJSON("POST", "/v1/releases/"+id+"/send", `{"at": "2025-06-03T09:00:00Z"}`, http.StatusAccepted, nil)
	h.patch(id, `{"title": "Otro título"}`, http.StatusOK)
	rel, _ := h.patch(id, `{"embargo_until": "2025-06-03T12:00:00Z"}`, http.StatusOK)
	if rel.Status != dispatcher.ReleaseScheduled || rel.Version != 3 {
		t.Fatalf("after moving the embargo: %s, version %d", rel.Status, rel.Version)
	}
	var calls []string
	for _, c := range h.sender.sends {
		calls = append(calls, c.ID)
	}
	if want := []string{id, "reschedule:" + id}; !slices.Equal(calls, want) {
		t.Fatalf("sender calls %v, want %v", calls, want)
	}
}
