package api

import (
	"context"
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// draftOut is what the draft tests read of a release, a problem or both.
type draftOut struct {
	ID        string               `json:"id"`
	Status    any                  `json:"status"` // a problem's is a number
	Version   int                  `json:"version"`
	Body      string               `json:"body"`
	Audiences dispatcher.Audiences `json:"audiences"`
	Warnings  []dispatcher.Check   `json:"warnings"`
	// A problem's.
	Type   string             `json:"type"`
	Detail string             `json:"detail"`
	Errors []FieldError       `json:"errors"`
	Checks []dispatcher.Check `json:"checks"`
}

func (a *redisAPI) draftCall(method, path, token, body string, want int) draftOut {
	a.t.Helper()
	w := a.do(method, path, token, body)
	if w.Code != want {
		a.t.Fatalf("%s %s %s: status %d, want %d; body %.800s", method, path, body, w.Code, want, w.Body)
	}
	var out draftOut
	if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
		a.t.Fatalf("%s %s: %v in %.500s", method, path, err, w.Body)
	}
	return out
}

// checkNamed returns the check named name, failing the test without one.
func checkNamed(t *testing.T, checks []dispatcher.Check, name string) dispatcher.Check {
	t.Helper()
	for _, c := range checks {
		if c.Name == name {
			return c
		}
	}
	t.Fatalf("no %q check in %+v", name, checks)
	return dispatcher.Check{}
}

// TestDraftBeforeItsAudience: a draft is saved with a title alone, no
// text and no audience; the checklist says both block a send; send,
// scheduling and approval are refused naming them, and nothing is
// scheduled; once an edit adds a text and a list, it is sent.
func TestDraftBeforeItsAudience(t *testing.T) {
	a := newRedisAPI(t)
	if err := a.store.CreateToken(context.Background(), auth.Hash(otherCoordToken), &auth.Token{Name: "luis", Role: auth.RoleCoordinator}); err != nil {
		t.Fatal(err)
	}
	list := a.newList()
	a.addMember(list, "marta@diario.example")

	for _, body := range []string{
		`{"title": "Borrador sin audiencia", "language": "es"}`,
		`{"title": "Borrador sin audiencia", "language": "es", "body": "", "audiences": {}}`,
		`{"title": "Borrador sin audiencia", "language": "es", "audiences": {"lists": [], "early_lists": [], "telegram_channels": [], "telegram_followers": false}}`,
	} {
		rel := a.draftCall("POST", "/v1/releases", coordToken, body, http.StatusCreated)
		if rel.Status != "draft" || rel.Version != 1 || !rel.Audiences.None() {
			t.Fatalf("draft %s: %+v", body, rel)
		}
		// Saved, with what a send would refuse said at once.
		if c := checkNamed(t, rel.Warnings, "audiences"); c.Level != dispatcher.CheckError || !strings.Contains(c.Message, "no audience") {
			t.Fatalf("warning: %+v", c)
		}
		if c := checkNamed(t, rel.Warnings, "text"); c.Level != dispatcher.CheckError {
			t.Fatalf("warning: %+v", c)
		}
	}
	id := a.draftCall("POST", "/v1/releases", coordToken, `{"title": "Borrador", "language": "es", "translations": [{"language": "en", "title": "Draft"}]}`, http.StatusCreated).ID

	var checks []dispatcher.Check
	a.must("GET", "/v1/releases/"+id+"/checks", "", http.StatusOK, &checks)
	if checks[0].Name != "text" {
		t.Fatalf("the checklist starts with %q, want text", checks[0].Name)
	}
	if c := checkNamed(t, checks, "text"); c.Level != dispatcher.CheckError || !strings.Contains(c.Message, "es, en") {
		t.Fatalf("text check: %+v", c)
	}
	if c := checkNamed(t, checks, "audiences"); c.Level != dispatcher.CheckError || c.Message != "The release has no audience: add a list or a Telegram channel." {
		t.Fatalf("audiences check: %+v", c)
	}

	// Its previews render, text or not.
	for _, ch := range []string{"email", "telegram"} {
		if w := a.do("GET", "/v1/releases/"+id+"/preview?channel="+ch, coordToken, ""); w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "Borrador") {
			t.Fatalf("%s preview of a draft without a text: %d %.500s", ch, w.Code, w.Body)
		}
	}

	// Sent now, or scheduled: refused, naming what is missing.
	at := `{"at": "` + time.Now().Add(48*time.Hour).UTC().Format(time.RFC3339) + `"}`
	for _, body := range []string{`{}`, at} {
		p := a.draftCall("POST", "/v1/releases/"+id+"/send", coordToken, body, http.StatusConflict)
		if p.Type != ProblemChecks || !strings.Contains(p.Detail, "audiences: The release has no audience") || !strings.Contains(p.Detail, "text: ") {
			t.Fatalf("send %s: %+v", body, p)
		}
		checkNamed(t, p.Checks, "audiences")
	}
	// Nor approved: adding them is an edit, which withdraws an approval.
	p := a.draftCall("POST", "/v1/releases/"+id+"/approve", otherCoordToken, `{"version": 1}`, http.StatusConflict)
	if !strings.Contains(p.Detail, "Version 1 cannot be sent as it is") || !strings.Contains(p.Detail, "no audience") {
		t.Fatalf("approval: %+v", p)
	}
	checkNamed(t, p.Checks, "audiences")
	if rel := a.release(id); rel.Status != "draft" || rel.Version != 1 || rel.ApprovedBy != "" {
		t.Fatalf("after the refusals: %+v", rel)
	}

	// An edit adds the texts and a list; then it is sent.
	rel := a.draftCall("PATCH", "/v1/releases/"+id, coordToken, `{"body": "El texto.", "translations": [{"language": "en", "title": "Draft", "body": "The text."}], "audiences": {"lists": ["`+list+`"]}, "version": 1}`, http.StatusOK)
	if rel.Version != 2 || rel.Audiences.None() || len(rel.Warnings) != 0 {
		t.Fatalf("after the edit: %+v", rel)
	}
	if sent := a.draftCall("POST", "/v1/releases/"+id+"/send", coordToken, `{}`, http.StatusAccepted); sent.Status != "sending" && sent.Status != "scheduled" {
		t.Fatalf("send once complete: %+v", sent)
	}
}

// TestScheduledReleaseKeepsItsAudience: an edit of a scheduled release
// may not take away its audience or its text (it is due to go out),
// while a draft's may; the release stays as it was.
func TestScheduledReleaseKeepsItsAudience(t *testing.T) {
	a := newRedisAPI(t)
	list := a.newList()
	a.addMember(list, "marta@diario.example")
	id := a.newRelease(list, 200, nil)
	at := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	if rel := a.draftCall("POST", "/v1/releases/"+id+"/send", coordToken, `{"at": "`+at+`"}`, http.StatusAccepted); rel.Status != "scheduled" {
		t.Fatalf("send at: %+v", rel)
	}
	for _, tt := range []struct{ patch, field string }{
		{`{"audiences": null}`, "audiences"},
		{`{"audiences": {"lists": []}}`, "audiences"},
		{`{"audiences": {"lists": [], "telegram_followers": false}, "version": 1}`, "audiences"},
		{`{"body": " "}`, "body"},
		{`{"translations": [{"language": "en", "title": "T", "body": ""}]}`, "translations[0].body"},
	} {
		p := a.draftCall("PATCH", "/v1/releases/"+id, coordToken, tt.patch, http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != tt.field || !strings.Contains(p.Errors[0].Message, "while it is scheduled to go out") {
			t.Fatalf("PATCH %s of a scheduled release: %+v", tt.patch, p)
		}
	}
	var rel releaseOut
	a.must("GET", "/v1/releases/"+id, "", http.StatusOK, &rel)
	if rel.Status != "scheduled" {
		t.Fatalf("after the refused edits: %s", rel.Status)
	}
	if v := a.release(id); v.Version != 1 {
		t.Fatalf("after the refused edits: version %d, want 1", v.Version)
	}
	// Any other edit is taken.
	if got := a.draftCall("PATCH", "/v1/releases/"+id, coordToken, `{"title": "Otro título"}`, http.StatusOK); got.Version != 2 || got.Audiences.None() {
		t.Fatalf("an edit of the title: %+v", got)
	}
}

// schedulingStore schedules the release an edit is about to be stored
// on, as a send that lands between the edit's read and its write does.
type schedulingStore struct {
	*memStore
}

func (s schedulingStore) EditRelease(ctx context.Context, e *dispatcher.Edit) (*dispatcher.Release, error) {
	s.mu.Lock()
	s.release(e.Release.ID).Status = dispatcher.ReleaseScheduled
	s.mu.Unlock()
	return s.memStore.EditRelease(ctx, e)
}

// TestEditRacingASend: an edit that takes away a draft's audience is
// refused when the draft was scheduled in the meantime, with the reason.
func TestEditRacingASend(t *testing.T) {
	h, id := editHarness(t)
	h.srv.store = schedulingStore{h.store}
	writes := h.store.writes
	_, p := h.patch(id, `{"audiences": null, "version": 1}`, http.StatusConflict)
	if !strings.HasPrefix(p.Detail, "The release was scheduled to go out while this edit was being made, so it must keep at least one audience") {
		t.Fatalf("edit racing a send: %+v", p)
	}
	if h.store.writes != writes {
		t.Fatal("the refused edit wrote")
	}
	if rel, _ := h.store.Release(t.Context(), id); rel.Audiences.None() || rel.Version != 1 {
		t.Fatalf("after the refused edit: %+v", rel)
	}
}
