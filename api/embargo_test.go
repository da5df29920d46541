package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
)

// TestSendAtBeforeEmbargoRefused: POST /send {"at": now} on a release whose
// embargo is an hour away used to send it at once. It answers 409 with a
// problem that names the embargo, and the release stays a draft; an "at" at
// or after the embargo, or none, schedules it.
func TestSendAtBeforeEmbargoRefused(t *testing.T) {
	a := newRedisAPI(t)
	list := a.newList()
	a.addMember(list, "ana@example.org")
	embargo := time.Now().Add(time.Hour).Truncate(time.Second)
	id := a.newRelease(list, 2000, &embargo)

	for _, at := range []time.Time{time.Now(), embargo.Add(-time.Second), time.Now().Add(-time.Hour)} {
		w := a.do("POST", "/v1/releases/"+id+"/send", coordToken, `{"at":`+rfc(at)+`}`)
		p := problemOf(t, w, http.StatusConflict)
		emb := embargo.UTC().Format(time.RFC3339)
		if !strings.Contains(p.Detail, emb) || !strings.Contains(p.Detail, `"at"`) || !strings.Contains(p.Detail, "omitted") {
			t.Errorf("at %s: detail %q: want the embargo time %s, and that at must be at or after it, or omitted", at, p.Detail, emb)
		}
		if len(p.Errors) != 1 || p.Errors[0].Field != "at" {
			t.Errorf("at %s: errors %+v, want one for the field at", at, p.Errors)
		}
	}
	var rel releaseOut
	a.must("GET", "/v1/releases/"+id, "", http.StatusOK, &rel)
	if rel.Status != "draft" || rel.ScheduledAt != nil {
		t.Fatalf("after refused sends: status %q, scheduled_at %v; want a draft, never scheduled", rel.Status, rel.ScheduledAt)
	}

	// At the embargo itself: scheduled for then.
	a.must("POST", "/v1/releases/"+id+"/send", `{"at":`+rfc(embargo)+`}`, http.StatusAccepted, &rel)
	if rel.Status != "scheduled" || rel.ScheduledAt == nil || !rel.ScheduledAt.Equal(embargo) {
		t.Fatalf("send at the embargo: status %q, scheduled_at %v; want scheduled at %s", rel.Status, rel.ScheduledAt, embargo)
	}
	// Without at: at the embargo.
	id2 := a.newRelease(list, 2000, &embargo)
	a.must("POST", "/v1/releases/"+id2+"/send", `{}`, http.StatusAccepted, &rel)
	if rel.Status != "scheduled" || rel.ScheduledAt == nil || !rel.ScheduledAt.Equal(embargo) {
		t.Fatalf("send without at: status %q, scheduled_at %v; want scheduled at the embargo %s", rel.Status, rel.ScheduledAt, embargo)
	}
}

// TestScheduledAtShownAndBounded: a release shows scheduled_at (null until
// it is scheduled), and an "at" more than a year ahead is a 400 field error.
func TestScheduledAtShownAndBounded(t *testing.T) {
	a := newRedisAPI(t)
	list := a.newList()
	a.addMember(list, "ana@example.org")
	id := a.newRelease(list, 500, nil)

	w := a.do("GET", "/v1/releases/"+id, viewerToken, "")
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(w.Body.Bytes(), &raw); err != nil {
		t.Fatal(err)
	}
	if got, ok := raw["scheduled_at"]; !ok || string(got) != "null" {
		t.Fatalf("draft: scheduled_at = %s (present %v), want null", got, ok)
	}

	for _, at := range []string{`"9999-12-31T23:59:59Z"`, rfc(time.Now().AddDate(1, 0, 2))} {
		p := problemOf(t, a.do("POST", "/v1/releases/"+id+"/send", coordToken, `{"at":`+at+`}`), http.StatusBadRequest)
		if len(p.Errors) != 1 || p.Errors[0].Field != "at" || !strings.Contains(p.Errors[0].Message, "one year") {
			t.Errorf("at %s: errors %+v, want one for at saying one year", at, p.Errors)
		}
	}

	at := time.Now().Add(2 * time.Hour).Truncate(time.Second)
	var rel releaseOut
	a.must("POST", "/v1/releases/"+id+"/send", `{"at":`+rfc(at)+`}`, http.StatusAccepted, &rel)
	if rel.ScheduledAt == nil || !rel.ScheduledAt.Equal(at) {
		t.Fatalf("send response: scheduled_at %v, want %s", rel.ScheduledAt, at)
	}
	for _, path := range []string{"/v1/releases/" + id, "/v1/releases?status=scheduled"} {
		w := a.do("GET", path, viewerToken, "")
		if !strings.Contains(w.Body.String(), `"scheduled_at":`+rfc(at)) {
			t.Errorf("GET %s: %.300s lacks scheduled_at %s", path, w.Body, at.UTC().Format(time.RFC3339))
		}
	}
}
