package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/linkcheck"
)

// checksOf reads a release's checklist as a viewer, by name, and checks
// that it lists every check once, in order.
func checksOf(t *testing.T, w *httptest.ResponseRecorder) map[string]dispatcher.Check {
	t.Helper()
	if w.Code != http.StatusOK {
		t.Fatalf("GET checks: status %d; body %s", w.Code, w.Body)
	}
	var cs []dispatcher.Check
	if err := json.Unmarshal(w.Body.Bytes(), &cs); err != nil {
		t.Fatalf("checks: %v in %s", err, w.Body)
	}
	var names []string
	out := map[string]dispatcher.Check{}
	for _, c := range cs {
		names = append(names, c.Name)
		out[c.Name] = c
		if c.Message == "" || !oneOf(c.Level, []dispatcher.CheckLevel{dispatcher.CheckOK, dispatcher.CheckWarning, dispatcher.CheckError}) {
			t.Errorf("check %+v: want a level and a message", c)
		}
	}
	if diff := cmp.Diff([]string{"text", "languages", "embargo", "audiences", "attachments", "links"}, names); diff != "" {
		t.Errorf("check names (-want +got):\n%s", diff)
	}
	return out
}

// wantCheck checks one check's level and that its message holds each of parts.
func wantCheck(t *testing.T, c dispatcher.Check, level dispatcher.CheckLevel, parts ...string) {
	t.Helper()
	if c.Level != level {
		t.Errorf("%s: level %s, want %s; message %q", c.Name, c.Level, level, c.Message)
	}
	for _, p := range parts {
		if !strings.Contains(c.Message, p) {
			t.Errorf("%s: message %q lacks %q", c.Name, c.Message, p)
		}
	}
}

// newCheckRelease creates a draft release from fields over a minimal one
// and returns its id.
func (h *harness) newCheckRelease(fields map[string]any) string {
	h.t.Helper()
	m := map[string]any{"title": "Comunicado", "body": "Texto del comunicado.", "language": "es"}
	for k, v := range fields {
		m[k] = v
	}
	b, err := json.Marshal(m)
	if err != nil {
		h.t.Fatal(err)
	}
	var r dispatcher.Release
	h.mustJSON("POST", "/v1/releases", string(b), http.StatusCreated, &r)
	return r.ID
}

// noLinks is a link checker for tests whose releases must ask no link.
type noLinks struct{ t *testing.T }

func (n noLinks) Check(ctx context.Context, urls []string) linkcheck.Report {
	n.t.Errorf("links asked: %v", urls)
	return linkcheck.Report{}
}

// TestChecksAudiencesAndLanguages: over a real Redis, the audience is
// counted as dispatch plans it (each address once across lists and early
// lists, suppressed addresses left out, Telegram channels), and the
// languages of those who get something are compared with the versions.
func TestChecksAudiencesAndLanguages(t *testing.T) {
	a := newRedisAPI(t, func(c *Config) { c.LinkChecker = linkcheck.New(linkcheck.Config{}) })
	ctx := context.Background()
	l1, l2, early := a.newList(), a.newList(), a.newList()
	a.must("POST", "/v1/lists/"+l1+"/contacts", `[{"email":"ana@example.org","language":"es"},{"email":"marta@example.org","language":"fr"},
		{"email":"luis@example.org","language":"de"},{"email":"lola@example.org","language":"es-MX"}]`, http.StatusOK, nil)
	a.must("POST", "/v1/lists/"+l2+"/contacts", `[{"email":"ana@example.org","language":"es"},{"email":"pedro@example.org","language":"pt"},
		{"email":"marta@example.org","language":"fr"}]`, http.StatusOK, nil)
	a.must("POST", "/v1/lists/"+early+"/contacts", `[{"email":"sofia@example.org","language":"en"},{"email":"zoe@example.org"}]`, http.StatusOK, nil)
	if err := a.store.Suppress(ctx, "luis@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	var ch dispatcher.TelegramChannel
	a.must("POST", "/v1/telegram/channels", `{"chat_id":"@canal_fr","language":"fr"}`, http.StatusCreated, &ch)

	in := fmt.Sprintf(`{"title":"Comunicado","body":"Texto.","language":"es",
		"translations":[{"language":"en","title":"Statement","body":"Text."}],
		"audiences":{"lists":[%q,%q],"early_lists":[%q],"telegram_channels":[%q]}}`, l1, l2, early, ch.ID)
	var rel releaseOut
	a.must("POST", "/v1/releases", in, http.StatusCreated, &rel)

	cs := checksOf(t, a.do("GET", "/v1/releases/"+rel.ID+"/checks", viewerToken, ""))
	// ana, marta, lola, pedro, sofia, zoe; luis is suppressed.
	wantCheck(t, cs["audiences"], dispatcher.CheckOK, "6 email addresses and 1 Telegram channel will receive the release.",
		"2 addresses are on more than one list; each will get one email.", "1 address is suppressed")
	// fr: marta and the channel; pt: pedro. es-MX reads es; de is suppressed.
	wantCheck(t, cs["languages"], dispatcher.CheckWarning, "No version in fr (2 recipients) or pt (1 recipient): they will get the original, in es.")
	for _, lang := range []string{"de (", "es-mx (", "en ("} {
		if strings.Contains(cs["languages"].Message, lang) {
			t.Errorf("languages: %q names %s", cs["languages"].Message, lang)
		}
	}
	wantCheck(t, cs["links"], dispatcher.CheckOK, "No links in the text.")
	wantCheck(t, cs["attachments"], dispatcher.CheckOK, "No attachments.")
	wantCheck(t, cs["embargo"], dispatcher.CheckOK, "No embargo")
	wantCheck(t, cs["text"], dispatcher.CheckOK, "Each of the 2 versions has its text.")

	// Every version there: no warning.
	a.must("POST", "/v1/releases", fmt.Sprintf(`{"title":"Comunicado","body":"Texto.","language":"es",
		"translations":[{"language":"fr","title":"Communiqué","body":"Texte."},{"language":"pt","title":"Comunicado","body":"Texto."}],
		"audiences":{"lists":[%q,%q],"telegram_channels":[%q]}}`, l1, l2, ch.ID), http.StatusCreated, &rel)
	cs = checksOf(t, a.do("GET", "/v1/releases/"+rel.ID+"/checks", viewerToken, ""))
	wantCheck(t, cs["languages"], dispatcher.CheckOK, "Every recipient has a version in their language (es, fr, pt).")
	wantCheck(t, cs["audiences"], dispatcher.CheckOK, "4 email addresses and 1 Telegram channel")
}

// TestSendRefusedWithoutRecipients: a release whose lists hold only
// suppressed addresses has no one to go to: the audiences check is an error,
// send and create with send answer 409 naming it and send nothing; once the
// list has someone who can be mailed, the send is accepted.
func TestSendRefusedWithoutRecipients(t *testing.T) {
	a := newRedisAPI(t, func(c *Config) { c.LinkChecker = noLinks{t} })
	ctx := context.Background()
	list := a.newList()
	a.addMember(list, "ana@example.org", "luis@example.org")
	for _, e := range []string{"ana@example.org", "luis@example.org"} {
		if err := a.store.Suppress(ctx, e, "hard_bounce"); err != nil {
			t.Fatal(err)
		}
	}
	in := fmt.Sprintf(`{"title":"Comunicado","body":"Texto.","language":"es","audiences":{"lists":[%q]}}`, list)
	var rel releaseOut
	a.must("POST", "/v1/releases", in, http.StatusCreated, &rel)

	w := a.do("GET", "/v1/releases/"+rel.ID+"/checks?fields=all", viewerToken, "")
	if w.Code != http.StatusOK {
		t.Fatalf("checks: %d %s", w.Code, w.Body)
	}
	var cs []dispatcher.Check
	if err := json.Unmarshal(w.Body.Bytes(), &cs); err != nil {
		t.Fatal(err)
	}
	var aud dispatcher.Check
	for _, c := range cs {
		if c.Name == "audiences" {
			aud = c
		}
	}
	wantCheck(t, aud, dispatcher.CheckError, "No one would receive the release: every member of its lists is suppressed (2).")

	p := problemOf(t, a.do("POST", "/v1/releases/"+rel.ID+"/send", coordToken, `{}`), http.StatusConflict)
	if p.Type != ProblemChecks || !strings.Contains(p.Detail, "audiences: No one would receive") || len(p.Checks) != 1 || p.Checks[0].Name != "audiences" {
		t.Errorf("send: problem %+v, want the audiences check named", p)
	}
	p = problemOf(t, a.do("POST", "/v1/releases", coordToken, strings.Replace(in, "{", `{"send":true,`, 1)), http.StatusConflict)
	if p.ReleaseID == "" || !strings.Contains(p.Detail, "saved as a draft") || len(p.Checks) != 1 || p.Checks[0].Name != "audiences" {
		t.Errorf("create with send: problem %+v, want the draft's id and the audiences check", p)
	}
	for _, id := range []string{rel.ID, p.ReleaseID} {
		var got releaseOut
		a.must("GET", "/v1/releases/"+id, "", http.StatusOK, &got)
		if got.Status != "draft" || got.ScheduledAt != nil {
			t.Errorf("release %s: status %s, scheduled_at %v; want a draft never scheduled", id, got.Status, got.ScheduledAt)
		}
	}

	a.addMember(list, "marta@example.org")
	a.must("POST", "/v1/releases/"+rel.ID+"/send", `{}`, http.StatusAccepted, &rel)
	if rel.Status == "draft" || rel.ScheduledAt == nil {
		t.Errorf("send once fixed: status %s, scheduled_at %v; want it on its way", rel.Status, rel.ScheduledAt)
	}
	// Sending it again is idempotent, whatever the checks say now.
	if err := a.store.Suppress(ctx, "marta@example.org", "complaint"); err != nil {
		t.Fatal(err)
	}
	a.must("POST", "/v1/releases/"+rel.ID+"/send", `{}`, http.StatusAccepted, nil)
}

func TestChecksAudiencesLevels(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.LinkChecker = noLinks{t} })
	empty, full := h.newList("Vacía"), h.newList("Prensa")
	h.addMember(full, "ana@example.org")
	ch := h.newChannel("@canal")
	channel := func(status string) { h.store.channels[0].Status = status }

	for _, c := range []struct {
		name     string
		lists    []string
		channels []string
		status   string
		level    dispatcher.CheckLevel
		message  string
	}{
		{"empty list", []string{empty}, nil, "", dispatcher.CheckError, "No one would receive the release: its lists have no members."},
		{"empty list, inactive channel", []string{empty}, []string{ch}, "unavailable", dispatcher.CheckError,
			"No one would receive the release: its lists have no members and its Telegram channel is not active."},
		{"inactive channel", nil, []string{ch}, "unavailable", dispatcher.CheckError, "No one would receive the release: its Telegram channel is not active."},
		{"active channel", []string{empty}, []string{ch}, "active", dispatcher.CheckOK, "1 Telegram channel will receive the release."},
		{"one address", []string{full, empty}, []string{ch}, "unavailable", dispatcher.CheckOK,
			"1 email address will receive the release. 1 Telegram channel is not active and will be skipped."},
	} {
		t.Run(c.name, func(t *testing.T) {
			channel(c.status)
			id := h.newCheckRelease(map[string]any{"audiences": map[string]any{"lists": c.lists, "telegram_channels": c.channels}})
			cs := checksOf(t, h.do("GET", "/v1/releases/"+id+"/checks", viewerToken, "", ""))
			wantCheck(t, cs["audiences"], c.level, c.message)
			w := h.json("POST", "/v1/releases/"+id+"/send", "")
			if c.level == dispatcher.CheckError {
				problemOf(t, w, http.StatusConflict)
			} else if w.Code != http.StatusAccepted {
				t.Errorf("send: %d %s", w.Code, w.Body)
			}
		})
	}
}

// TestChecksEmbargo: no embargo, one ahead (shown in the release's time
// zone, or the server's), and one already past, which refuses the send of
// a draft until it is moved.
func TestChecksEmbargo(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.LinkChecker = noLinks{t}; c.Timezone = "Europe/Madrid" })
	list := h.newList("Prensa")
	h.addMember(list, "ana@example.org")
	aud := map[string]any{"lists": []string{list}}
	embargo := func(id string) dispatcher.Check {
		t.Helper()
		return checksOf(t, h.do("GET", "/v1/releases/"+id+"/checks", viewerToken, "", ""))["embargo"]
	}

	none := h.newCheckRelease(map[string]any{"audiences": aud})
	wantCheck(t, embargo(none), dispatcher.CheckOK, "No embargo")

	ahead := h.newCheckRelease(map[string]any{"audiences": aud, "embargo_until": "2026-02-04T16:00:00Z"})
	wantCheck(t, embargo(ahead), dispatcher.CheckOK, "Embargoed until 4 February 2026, 17:00 (Europe/Madrid).")
	h.store.release(ahead).Timezone = "America/Mexico_City"
	wantCheck(t, embargo(ahead), dispatcher.CheckOK, "Embargoed until 4 February 2026, 10:00 (America/Mexico_City).")

	past := h.newCheckRelease(map[string]any{"audiences": aud, "embargo_until": t0.Add(-time.Minute).Format(time.RFC3339)})
	h.store.release(past).Timezone = "America/Mexico_City"
	wantCheck(t, embargo(past), dispatcher.CheckError, "The embargo, 1 June 2025, 02:59 (America/Mexico_City), has already passed")
	p := problemOf(t, h.json("POST", "/v1/releases/"+past+"/send", ""), http.StatusConflict)
	if len(p.Checks) != 1 || p.Checks[0].Name != "embargo" || !strings.Contains(p.Detail, "embargo: The embargo") {
		t.Errorf("send: problem %+v, want the embargo check named", p)
	}
	if n := len(h.sender.sends); n != 0 {
		t.Fatalf("%d sends, want none", n)
	}
	later := t0.Add(time.Hour)
	h.store.release(past).EmbargoUntil = &later
	if w := h.json("POST", "/v1/releases/"+past+"/send", ""); w.Code != http.StatusAccepted {
		t.Fatalf("send once moved: %d %s", w.Code, w.Body)
	}
	// Past for a release on its way is no error: it lifted.
	earlier := t0.Add(-time.Hour)
	h.store.release(past).EmbargoUntil = &earlier
	wantCheck(t, embargo(past), dispatcher.CheckOK, "The embargo lifted on 1 June 2025, 02:00 (America/Mexico_City).")

	// Create with send: refused on a past embargo, with the draft's id.
	w := h.json("POST", "/v1/releases", `{"title":"T","body":"B","language":"es","send":true,"embargo_until":"2020-01-01T00:00:00Z",
		"audiences":{"lists":["`+list+`"]}}`)
	p = problemOf(t, w, http.StatusConflict)
	if p.ReleaseID == "" || len(p.Checks) != 1 || p.Checks[0].Name != "embargo" {
		t.Errorf("create with send: problem %+v", p)
	}
	if n := len(h.sender.sends); n != 1 {
		t.Errorf("%d sends, want the one accepted above", n)
	}
}

// TestChecksLinks: every link of every version and the source URL is
// asked; one that does not answer, or answers an error, is a warning naming
// it, never an error; the send does not ask them.
func TestChecksLinks(t *testing.T) {
	var mu sync.Mutex
	var asked []string
	web := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mu.Lock()
		asked = append(asked, r.Method+" "+r.URL.Path)
		mu.Unlock()
		if strings.HasPrefix(r.URL.Path, "/missing") {
			w.WriteHeader(http.StatusNotFound)
		}
	}))
	defer web.Close()
	allowed := linkcheck.New(linkcheck.Config{AllowPrivate: true})
	var checker LinkChecker = allowed
	h := newHarness(t, func(c *Config) {
		c.LinkChecker = linkCheckerFunc(func(ctx context.Context, urls []string) linkcheck.Report { return checker.Check(ctx, urls) })
	})
	list := h.newList("Prensa")
	h.addMember(list, "ana@example.org")
	aud := map[string]any{"lists": []string{list}}
	links := func(id string) dispatcher.Check {
		t.Helper()
		return checksOf(t, h.do("GET", "/v1/releases/"+id+"/checks", viewerToken, "", ""))["links"]
	}

	good := h.newCheckRelease(map[string]any{"audiences": aud,
		"body":       "Lea el [informe](" + web.URL + "/informe) o escriba a <prensa@example.org> o [aquí](mailto:prensa@example.org).",
		"source_url": web.URL + "/fuente"})
	wantCheck(t, links(good), dispatcher.CheckOK, "All 2 links answer.")

	bad := h.newCheckRelease(map[string]any{"audiences": aud,
		"body": "Lea el [informe](" + web.URL + "/informe) y <" + web.URL + "/missing-es>.",
		"translations": []map[string]any{{"language": "en", "title": "Statement",
			"body": "Read the [report](" + web.URL + "/missing-en) and the [same one](" + web.URL + "/informe)."}},
		"source_url": web.URL + "/fuente"})
	wantCheck(t, links(bad), dispatcher.CheckWarning, "2 of 4 links may be broken: "+
		web.URL+"/missing-es (answered 404 Not Found); "+web.URL+"/missing-en (answered 404 Not Found)")
	mu.Lock()
	n := len(asked)
	mu.Unlock()
	if w := h.json("POST", "/v1/releases/"+bad+"/send", ""); w.Code != http.StatusAccepted {
		t.Errorf("send with broken links: %d %s, want 202 (links only warn)", w.Code, w.Body)
	}
	mu.Lock()
	if len(asked) != n {
		t.Errorf("the send asked links: %v", asked[n:])
	}
	mu.Unlock()

	// By default the test server, on loopback, is not asked at all.
	checker = linkcheck.New(linkcheck.Config{})
	mu.Lock()
	asked = nil
	mu.Unlock()
	wantCheck(t, links(good), dispatcher.CheckWarning, web.URL+"/informe (not checked: it points to a private network address)")
	mu.Lock()
	if len(asked) != 0 {
		t.Errorf("the default checker reached the loopback server: %v", asked)
	}
	mu.Unlock()

	// More links than the cap: the rest are named as not checked.
	checker = allowed
	var body strings.Builder
	for i := range 30 {
		fmt.Fprintf(&body, "[enlace %d](%s/p%d) ", i, web.URL, i)
	}
	many := h.newCheckRelease(map[string]any{"audiences": aud, "body": body.String()})
	wantCheck(t, links(many), dispatcher.CheckOK, "All 25 links answer. 5 more links were not checked: only the first 25 are.")

	none := h.newCheckRelease(map[string]any{"audiences": aud})
	wantCheck(t, links(none), dispatcher.CheckOK, "No links in the text.")
}

type linkCheckerFunc func(ctx context.Context, urls []string) linkcheck.Report

func (f linkCheckerFunc) Check(ctx context.Context, urls []string) linkcheck.Report {
	return f(ctx, urls)
}

func TestChecksUnknownRelease(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.LinkChecker = noLinks{t} })
	problemOf(t, h.do("GET", "/v1/releases/r404/checks", viewerToken, "", ""), http.StatusNotFound)
}

// TestChecksScanCapped: past the cap on list members read, the audience and
// languages checks say they read only part of the lists.
func TestChecksScanCapped(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.LinkChecker = noLinks{t} })
	h.srv.maxScan = 3
	l1, l2 := h.newList("Prensa"), h.newList("Suscriptores")
	h.addMember(l1, "a@example.org", "b@example.org")
	h.addMember(l2, "c@example.org", "d@example.org")
	id := h.newCheckRelease(map[string]any{"audiences": map[string]any{"lists": []string{l1, l2}}})
	cs := checksOf(t, h.do("GET", "/v1/releases/"+id+"/checks", viewerToken, "", ""))
	wantCheck(t, cs["audiences"], dispatcher.CheckOK, "At least 3 email addresses will receive the release.", "Only the first 3 list members were read.")
	wantCheck(t, cs["languages"], dispatcher.CheckOK, "Only the first 3 list members were read.")

	// Every member read: no word of a cap.
	h.srv.maxScan = 4
	cs = checksOf(t, h.do("GET", "/v1/releases/"+id+"/checks", viewerToken, "", ""))
	wantCheck(t, cs["audiences"], dispatcher.CheckOK, "4 email addresses will receive the release.")
	if strings.Contains(cs["audiences"].Message, "Only") || strings.Contains(cs["audiences"].Message, "least") {
		t.Errorf("audiences: %q speaks of a cap", cs["audiences"].Message)
	}
}
