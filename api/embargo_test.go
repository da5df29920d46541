package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"
	_ "time/tzdata" // time zones, wherever the tests run
)

// TestSendAtBeforeEmbargoRefused: POST /send {"at": now} on a release whose
// embargo is an hour away used to send it at once. For a release without
// early lists it answers 409 with a problem that names the embargo, and the
// release stays a draft; an "at" at or after the embargo, or none,
// schedules it.
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

// TestSendBeforeEmbargoWithEarlyLists: a release with early lists may be
// sent before its embargo: without "at" its early tier goes at once, with
// an "at" before the embargo then; either way it is scheduled, and neither
// is a conflict.
func TestSendBeforeEmbargoWithEarlyLists(t *testing.T) {
	a := newRedisAPI(t)
	early, public := a.newList(), a.newList()
	a.addMember(early, "marta@diario.example")
	a.addMember(public, "luis@example.org")
	embargo := time.Now().Add(time.Hour).Truncate(time.Second)
	create := func() string {
		b, _ := json.Marshal(map[string]any{"title": "T", "body": "B", "language": "es", "embargo_until": embargo.Format(time.RFC3339),
			"audiences": map[string][]string{"lists": {public}, "early_lists": {early}}})
		var r releaseOut
		a.must("POST", "/v1/releases", string(b), http.StatusCreated, &r)
		return r.ID
	}
	var rel releaseOut
	before := time.Now()
	a.must("POST", "/v1/releases/"+create()+"/send", `{}`, http.StatusAccepted, &rel)
	if rel.Status != "scheduled" || rel.ScheduledAt == nil || rel.ScheduledAt.Before(before.Truncate(time.Millisecond)) || !rel.ScheduledAt.Before(embargo) {
		t.Errorf("send without at: %s, scheduled_at %v; want scheduled now (the early tier), before the embargo %s", rel.Status, rel.ScheduledAt, embargo)
	}
	at := embargo.Add(-30 * time.Minute)
	a.must("POST", "/v1/releases/"+create()+"/send", `{"at":`+rfc(at)+`}`, http.StatusAccepted, &rel)
	if rel.Status != "scheduled" || rel.ScheduledAt == nil || !rel.ScheduledAt.Equal(at) {
		t.Errorf("send at %s: %s, scheduled_at %v; want scheduled then", at, rel.Status, rel.ScheduledAt)
	}
}

// TestReleaseTimezone: a release keeps the time zone it is created with,
// or gets the server's (Config.Timezone); an unknown one is a 400 field
// error that creates nothing. Times are stored, and shown, in UTC.
func TestReleaseTimezone(t *testing.T) {
	a := newRedisAPI(t, func(c *Config) { c.Timezone = "Europe/Madrid" })
	list := a.newList()
	create := func(zone string) (int, map[string]any) {
		in := map[string]any{"title": "T", "body": "B", "language": "es", "embargo_until": "2026-02-04T10:00:00-06:00",
			"audiences": map[string][]string{"lists": {list}}}
		if zone != "" {
			in["timezone"] = zone
		}
		b, _ := json.Marshal(in)
		w := a.do("POST", "/v1/releases", coordToken, string(b))
		var out map[string]any
		if err := json.Unmarshal(w.Body.Bytes(), &out); err != nil {
			t.Fatal(err)
		}
		return w.Code, out
	}
	for zone, want := range map[string]string{"America/Mexico_City": "America/Mexico_City", "": "Europe/Madrid"} {
		code, out := create(zone)
		if code != http.StatusCreated || out["timezone"] != want || out["embargo_until"] != "2026-02-04T16:00:00Z" {
			t.Errorf("timezone %q: %d, timezone %v, embargo_until %v; want 201, %s, 2026-02-04T16:00:00Z", zone, code, out["timezone"], out["embargo_until"], want)
		}
	}
	code, out := create("Mars/Olympus_Mons")
	if code != http.StatusBadRequest || !strings.Contains(out["detail"].(string), "timezone") {
		t.Errorf("unknown zone: %d %v; want a 400 naming the field timezone", code, out)
	}
	var page struct{ Items []any }
	a.must("GET", "/v1/releases", "", http.StatusOK, &page)
	if len(page.Items) != 2 {
		t.Errorf("%d releases stored, want the 2 good ones", len(page.Items))
	}
	if _, err := New(Config{Store: a.store, Sender: a.srv.sender, Previewer: a.srv.previewer, Timezone: "Nowhere/Land"}); err == nil {
		t.Error("New accepted Config.Timezone Nowhere/Land")
	}
}
