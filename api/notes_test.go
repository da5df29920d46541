package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/pregon/pregon/dispatcher"
)

// noNotes leaves the notes out of a comparison of checks or row errors
// (the tests that compare messages).
var noNotes = cmp.Options{cmpopts.IgnoreFields(RowError{}, "Code", "Args"), cmpopts.IgnoreFields(dispatcher.Check{}, "Notes")}

// wantKnownNote fails unless the note n (as decoded from JSON) has a code
// of NoteCodes with exactly the values it names, and so do the notes
// nested in its values.
func wantKnownNote(t *testing.T, where, code string, args map[string]any) {
	t.Helper()
	names, ok := NoteCodes()[code]
	if !ok {
		t.Errorf("%s: note code %q is not in NoteCodes", where, code)
		return
	}
	var got []string
	for k, v := range args {
		got = append(got, k)
		if list, ok := v.([]any); ok {
			for _, e := range list {
				if m, ok := e.(map[string]any); ok {
					c, _ := m["code"].(string)
					a, _ := m["args"].(map[string]any)
					wantKnownNote(t, where+" > "+code, c, a)
				}
			}
		}
	}
	slices.Sort(got)
	want := slices.Sorted(slices.Values(names))
	if !slices.Equal(got, want) {
		t.Errorf("%s: note %s has values %v, want %v", where, code, got, want)
	}
}

// checksJSON reads a release's checklist as JSON decodes it for a client.
func (a *redisAPI) checksJSON(id string) map[string]dispatcher.Check {
	a.t.Helper()
	var cs []dispatcher.Check
	a.must("GET", "/v1/releases/"+id+"/checks", "", http.StatusOK, &cs)
	out := map[string]dispatcher.Check{}
	for _, c := range cs {
		out[c.Name] = c
	}
	return out
}

// notesOf is a check's notes as codes, and the checks of every note.
func notesOf(t *testing.T, c dispatcher.Check) []string {
	t.Helper()
	if len(c.Notes) == 0 {
		t.Errorf("%s: no notes; message %q", c.Name, c.Message)
	}
	var codes []string
	for _, n := range c.Notes {
		wantKnownNote(t, c.Name, n.Code, n.Args)
		codes = append(codes, n.Code)
	}
	return codes
}

// TestCheckNotes: over a real Redis, each check carries its notes, one per
// statement of its message, with the codes and values NoteCodes declares;
// the message is unchanged.
func TestCheckNotes(t *testing.T) {
	a := newRedisAPI(t, func(c *Config) { c.LinkChecker = noLinks{t} })
	ctx := context.Background()

	// No text, no audience.
	var bare struct{ ID string }
	a.must("POST", "/v1/releases", `{"title":"Borrador","language":"es"}`, http.StatusCreated, &bare)
	cs := a.checksJSON(bare.ID)
	for name, want := range map[string][]string{"text": {"text.none"}, "audiences": {"audiences.none"},
		"embargo": {"embargo.none"}, "attachments": {"attachments.none"}, "links": {"links.none"}} {
		if diff := cmp.Diff(want, notesOf(t, cs[name])); diff != "" {
			t.Errorf("draft with nothing, %s notes (-want +got):\n%s", name, diff)
		}
	}
	if cs["text"].Message != "The release has no text yet: write its body before sending." {
		t.Errorf("text message changed: %q", cs["text"].Message)
	}

	// Suppressed members, a language without a version.
	list := a.newList()
	a.must("POST", "/v1/lists/"+list+"/contacts", `[{"email":"ana@example.org"},{"email":"beto@example.org","language":"fr"},
		{"email":"carla@example.org"},{"email":"dora@example.org"}]`, http.StatusOK, nil)
	for _, e := range []string{"carla@example.org", "dora@example.org"} {
		if err := a.store.AddSuppression(ctx, dispatcher.Suppression{Email: e, Reason: dispatcher.ReasonUnsubscribed}, true); err != nil {
			t.Fatal(err)
		}
	}
	var rel struct{ ID string }
	a.must("POST", "/v1/releases", `{"title":"Dragado","body":"Texto.","language":"es","audiences":{"lists":["`+list+`"]}}`, http.StatusCreated, &rel)
	cs = a.checksJSON(rel.ID)
	aud := cs["audiences"]
	if diff := cmp.Diff([]string{"audiences.receive", "audiences.suppressed"}, notesOf(t, aud)); diff != "" {
		t.Errorf("audiences notes (-want +got):\n%s", diff)
	}
	if n := aud.Notes[1].Args["n"]; n != 2.0 {
		t.Errorf("audiences.suppressed n = %v, want 2", n)
	}
	// (A value's notes are decoded as maps, whose keys json writes sorted.)
	who, _ := json.Marshal(aud.Notes[0].Args["who"])
	if string(who) != `[{"args":{"n":2},"code":"audiences.emails"}]` {
		t.Errorf("audiences.receive who = %s", who)
	}
	wantCheck(t, aud, dispatcher.CheckOK, "2 email addresses will receive the release.", "2 addresses are suppressed")
	langs := cs["languages"]
	if diff := cmp.Diff([]string{"languages.missing"}, notesOf(t, langs)); diff != "" {
		t.Errorf("languages notes (-want +got):\n%s", diff)
	}
	missing, _ := json.Marshal(langs.Notes[0].Args)
	if string(missing) != `{"missing":[{"args":{"lang":"fr","n":1},"code":"languages.missing_lang"}],"original":"es"}` {
		t.Errorf("languages.missing args = %s", missing)
	}
	wantCheck(t, langs, dispatcher.CheckWarning, "No version in fr (1 recipient): they will get the original, in es.")

	// Every member suppressed: an error that says why.
	all := a.newList()
	a.must("POST", "/v1/lists/"+all+"/contacts", `[{"email":"carla@example.org"}]`, http.StatusOK, nil)
	a.must("POST", "/v1/releases", `{"title":"Nadie","body":"Texto.","language":"es","audiences":{"lists":["`+all+`"]}}`, http.StatusCreated, &rel)
	nobody := a.checksJSON(rel.ID)["audiences"]
	why, _ := json.Marshal(nobody.Notes)
	if string(why) != `[{"code":"audiences.nobody","args":{"why":[{"args":{"n":1},"code":"audiences.all_suppressed"}]}}]` {
		t.Errorf("audiences of a list of suppressed members: notes %s", why)
	}
	notesOf(t, nobody)
	wantCheck(t, nobody, dispatcher.CheckError, "No one would receive the release: every member of its lists is suppressed (1).")

	// A create's warnings carry notes too.
	var warned struct{ Warnings []dispatcher.Check }
	a.must("POST", "/v1/releases", `{"title":"Solo título","language":"es"}`, http.StatusCreated, &warned)
	for _, c := range warned.Warnings {
		notesOf(t, c)
	}
}

// TestAttachmentNotes: files over the limits are errors whose notes give
// the sizes in bytes; a file for a missing language is a warning note.
func TestAttachmentNotes(t *testing.T) {
	s := &Server{attach: AttachmentLimits{MaxFileBytes: 1 << 20, MaxReleaseBytes: 3 << 19}.withDefaults()}
	rel := &dispatcher.Release{Language: "es", Attachments: []dispatcher.Attachment{
		{Filename: "grande.pdf", Size: 2 << 20}, {Filename: "rapport.pdf", Language: "fr", Size: 10}}}
	c := s.attachmentsCheck(rel)
	want := []dispatcher.Note{
		{Code: "attachments.total", Args: map[string]any{"n": 2, "size": int64(2<<20 + 10)}},
		{Code: "attachments.file_too_big", Args: map[string]any{"file": "grande.pdf", "size": int64(2 << 20), "max": int64(1 << 20)}},
		{Code: "attachments.too_big", Args: map[string]any{"size": int64(2<<20 + 10), "max": int64(3 << 19)}},
		{Code: "attachments.no_language", Args: map[string]any{"file": "rapport.pdf", "lang": "fr"}},
	}
	if diff := cmp.Diff(want, c.Notes); diff != "" {
		t.Errorf("notes (-want +got):\n%s", diff)
	}
	wantCheck(t, c, dispatcher.CheckError, "2 files, 2.0 MB in all.", "grande.pdf is 2 MB, over the limit of 1 MB per file.",
		"rapport.pdf is for fr")
	for _, n := range c.Notes {
		b, _ := json.Marshal(n)
		var back dispatcher.Note
		json.Unmarshal(b, &back)
		wantKnownNote(t, "attachments", back.Code, back.Args)
	}
}

// TestImportRowNotes: over a real Redis, each refused row carries its code
// and values; the rows are in file order, an erased address (refused when
// its batch is saved) among the rows refused as they were read.
func TestImportRowNotes(t *testing.T) {
	a := newRedisAPI(t)
	a.store.SetErasureSecret([]byte("secret of the test"))
	if _, err := a.store.Erase(context.Background(), "olga@example.org"); err != nil {
		t.Fatal(err)
	}
	list := a.newList()
	csv := "email,name,language\n" +
		"ana@example.org,Ana,es\n" + // 2
		"olga@example.org,Olga,es\n" + // 3: erased
		"no-es-correo,Nadie,es\n" + // 4
		"beto@example.org,Be\"to,es\n" + // 5: a bare quote
		"carla@example.org,Carla,español\n" + // 6
		"dora@example.org," + strings.Repeat("x", maxTextLen+1) + ",es\n" // 7
	r := a.doCSV(list, csv)
	var got ImportResult
	if err := json.Unmarshal(r, &got); err != nil {
		t.Fatal(err)
	}
	want := []RowError{
		{Row: 3, Email: "olga@example.org", Message: "erased on request", Code: "row.erased"},
		{Row: 4, Email: "no-es-correo", Message: "invalid email", Code: "row.email_invalid"},
		{Row: 5, Email: "beto@example.org", Message: `malformed CSV line: bare " in non-quoted-field`, Code: "row.csv_bare_quote"},
		{Row: 6, Email: "carla@example.org", Message: "invalid language (use a code like es, en or pt-BR)", Code: "row.language_invalid"},
		{Row: 7, Email: "dora@example.org", Message: "name is longer than 200 characters", Code: "row.name_too_long", Args: map[string]any{"max": 200.0}},
	}
	if diff := cmp.Diff(want, got.Errors); diff != "" {
		t.Errorf("refused rows (-want +got):\n%s", diff)
	}
	for _, e := range got.Errors {
		wantKnownNote(t, "row", e.Code, e.Args)
	}
}

// TestEmailRowNotes: each way an address is refused has its code in
// NoteCodes, with the domain when the domain is at fault.
func TestEmailRowNotes(t *testing.T) {
	for addr, want := range map[string]string{
		"nadie":                                  "row.email_invalid",
		strings.Repeat("a", 65) + "@example.org": "row.email_local_too_long",
		"josé@example.org":                       "row.email_local_non_ascii",
		"a@[127.0.0.1]":                          "row.email_ip_literal",
		"a@-example.org":                         "row.email_domain_hyphen",
		"a@example":                              "row.email_domain_not_full",
		"a@example.123":                          "row.email_domain_ip",
		"a@exa_mple.org":                         "row.email_domain_invalid",
		"a@" + strings.Repeat("x", 64) + ".org":  "row.email_domain_label",
	} {
		_, why := contactOf(dispatcher.Contact{Email: addr})
		if why.Note.Code != want || !strings.HasPrefix(why.Message, "invalid email") {
			t.Errorf("%.30s: %q %q, want %s", addr, why.Note.Code, why.Message, want)
		}
		b, _ := json.Marshal(why.Note)
		var n dispatcher.Note
		json.Unmarshal(b, &n)
		wantKnownNote(t, addr, n.Code, n.Args)
	}
}

// doCSV uploads a CSV to list as a coordinator and returns the answer.
func (a *redisAPI) doCSV(list, csv string) []byte {
	a.t.Helper()
	req := httptest.NewRequest("POST", "/v1/lists/"+list+"/contacts", strings.NewReader(csv))
	req.Header.Set("Authorization", "Bearer "+coordToken)
	req.Header.Set("Content-Type", "text/csv")
	r := httptest.NewRecorder()
	a.srv.ServeHTTP(r, req)
	if r.Code != http.StatusOK {
		a.t.Fatalf("import: %d %s", r.Code, r.Body)
	}
	return r.Body.Bytes()
}

// TestRowErrorsKeepFileOrder: past maxRowErrors, the report keeps the
// first rows of the file, whatever order they were refused in.
func TestRowErrorsKeepFileOrder(t *testing.T) {
	im := newImporter(nil, "l")
	for row := maxRowErrors + 10; row >= 1; row-- {
		im.rowError(row*2, "x", refused("bad", "row.email_invalid"))
	}
	im.rowError(3, "y", refused("bad", "row.erased"))
	if n := len(im.res.Errors); n != maxRowErrors || im.res.ErrorsOmitted != 11 {
		t.Fatalf("%d errors, %d omitted; want %d and 11", n, im.res.ErrorsOmitted, maxRowErrors)
	}
	rows := make([]int, len(im.res.Errors))
	for i, e := range im.res.Errors {
		rows[i] = e.Row
	}
	if !slices.IsSorted(rows) || rows[0] != 2 || rows[1] != 3 || rows[2] != 4 || rows[len(rows)-1] != 2*(maxRowErrors-1) {
		t.Errorf("rows kept: %v ... %v", rows[:4], rows[len(rows)-2:])
	}
}
