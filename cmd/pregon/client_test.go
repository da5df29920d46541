package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// exchange is one request the fake API expects, and its answer.
type exchange struct {
	method, path string
	query        string // the exact raw query ("" for none)
	token        string // the bearer token expected; "" means "tok"
	contentType  string // checked when not ""
	json         string // the JSON body expected (compared as values), "" for none
	raw          string // the raw body expected, when not JSON
	status       int
	resp         string // the response body
	respType     string // its Content-Type; application/json when ""
}

// problem returns req answered with an about:blank problem of status and
// detail, as the API answers.
func problem(req exchange, status int, detail string) exchange {
	resp, err := json.Marshal(map[string]any{"type": "about:blank", "title": http.StatusText(status), "status": status, "detail": detail})
	if err != nil {
		panic(err)
	}
	req.status, req.respType, req.resp = status, "application/problem+json", string(resp)
	return req
}

// fakeAPI serves a script of exchanges in order and reports any request
// that differs from the next one expected.
type fakeAPI struct {
	t    *testing.T
	mu   sync.Mutex
	want []exchange
	n    int
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	f.mu.Lock()
	defer f.mu.Unlock()
	body, _ := io.ReadAll(r.Body)
	got := fmt.Sprintf("%s %s?%s", r.Method, r.URL.Path, r.URL.RawQuery)
	if f.n >= len(f.want) {
		f.t.Errorf("unexpected request %s (after the %d expected)", got, len(f.want))
		http.Error(w, "unexpected", http.StatusTeapot)
		return
	}
	x := f.want[f.n]
	f.n++
	if want := fmt.Sprintf("%s %s?%s", x.method, x.path, x.query); got != want {
		f.t.Errorf("request %d = %s, want %s", f.n, got, want)
	}
	token := x.token
	if token == "" {
		token = "tok"
	}
	if got, want := r.Header.Get("Authorization"), "Bearer "+token; got != want {
		f.t.Errorf("request %d: Authorization = %q, want %q", f.n, got, want)
	}
	if x.contentType != "" && r.Header.Get("Content-Type") != x.contentType {
		f.t.Errorf("request %d: Content-Type = %q, want %q", f.n, r.Header.Get("Content-Type"), x.contentType)
	}
	switch {
	case x.json != "":
		var gotV, wantV any
		if err := json.Unmarshal(body, &gotV); err != nil {
			f.t.Errorf("request %d: body is not JSON: %v\n%s", f.n, err, body)
		}
		if err := json.Unmarshal([]byte(x.json), &wantV); err != nil {
			f.t.Errorf("bad test: the expected body is not JSON: %v", err)
		}
		if diff := cmp.Diff(wantV, gotV); diff != "" {
			f.t.Errorf("request %d body (-want +got):\n%s", f.n, diff)
		}
	case x.raw != "":
		if string(body) != x.raw {
			f.t.Errorf("request %d body = %q, want %q", f.n, body, x.raw)
		}
	case len(body) > 0:
		f.t.Errorf("request %d: unexpected body %q", f.n, body)
	}
	ct := x.respType
	if ct == "" {
		ct = "application/json"
	}
	w.Header().Set("Content-Type", ct)
	w.WriteHeader(x.status)
	io.WriteString(w, x.resp)
}

// releaseJSON is a release as the API returns it, with counts.
func releaseJSON(id, status, counts string) string {
	if counts == "" {
		counts = `{"total":0,"by_channel":{}}`
	}
	return fmt.Sprintf(`{"id":%q,"status":%q,"title":"T","language":"es","translations":[{"language":"en","title":"T en","body":"b"}],`+
		`"embargo_until":null,"created_at":"2026-01-02T03:04:05Z","updated_at":"2026-01-02T03:04:06Z","counts":%s}`, id, status, counts)
}

const sentCounts = `{"total":3,"queued":0,"retrying":0,"sending":0,"sent":3,"failed":0,"suppressed":0,"skipped":0,"uncertain":0,"cancelled":0,` +
	`"by_channel":{"email":{"total":2,"sent":2,"failed":0},"telegram":{"total":1,"sent":1,"failed":0}}}`

func TestClient(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	csvFile := write("press.csv", "email,name\nana@example.org,Ana\nnot-an-address,X\n")
	jsonFile := write("press.json", `[{"email":"ana@example.org"}]`)
	txtFile := write("press.txt", "x")
	relFile := write("rel.md", "---\ntitle: Título\nsummary: Resumen\nlanguage: es\ncontact_name: Ana\ncontact_email: prensa@example.org\n---\n\nCuerpo “citado”.\n")
	trFile := write("rel.en.md", "---\ntitle: Title\nlanguage: en\n---\nQuoted “body”.\n")
	badFile := write("bad.md", "no front matter\n")
	tzFile := write("rel.tz.md", "---\ntitle: Título\nlanguage: es\ntimezone: America/Mexico_City\n---\nCuerpo.\n")
	draftFile := write("draft.md", "---\ntitle: Borrador\nlanguage: es\n---\n")

	wantRelease := `{"title":"Título","summary":"Resumen","body":"Cuerpo “citado”.","language":"es",
		"translations":[{"language":"en","title":"Title","body":"Quoted “body”."}],
		"contact":{"name":"Ana","email":"prensa@example.org"},
		"audiences":{"lists":["L1","L2"],"telegram_channels":["C1"]},"send":false}`

	tests := []cliCase{
		{
			name: "list create",
			args: []string{"list", "create", "--name", "Prensa MX", "--kind", "press", "--description", "Medios"},
			script: []exchange{{method: "POST", path: "/v1/lists", contentType: "application/json",
				json:   `{"name":"Prensa MX","kind":"press","description":"Medios"}`,
				status: 201, resp: `{"id":"L1","name":"Prensa MX","kind":"press","created_at":"2026-01-02T03:04:05Z"}`}},
			wantStdout: "L1\n",
		},
		{
			name: "--token overrides PREGON_TOKEN",
			args: []string{"list", "create", "--kind", "subscribers", "--name", "Subs", "--token", "flagtok"},
			script: []exchange{{method: "POST", path: "/v1/lists", token: "flagtok", json: `{"name":"Subs","kind":"subscribers"}`,
				status: 201, resp: `{"id":"L2"}`}},
			wantStdout: "L2\n",
		},
		{
			name:    "list create without --kind",
			args:    []string{"list", "create", "--name", "X"},
			wantErr: "--kind must be press or subscribers",
		},
		{
			name:    "no token",
			args:    []string{"list", "create", "--name", "X", "--kind", "press"},
			env:     map[string]string{"PREGON_TOKEN": ""},
			wantErr: "no API token: set PREGON_TOKEN or pass --token",
		},
		{
			name: "list import CSV with a bad row",
			args: []string{"list", "import", "L1", csvFile},
			script: []exchange{{method: "POST", path: "/v1/lists/L1/contacts", contentType: "text/csv; charset=utf-8",
				raw:    "email,name\nana@example.org,Ana\nnot-an-address,X\n",
				status: 200, resp: `{"added":1,"updated":0,"skipped":0,"errors":[{"row":3,"email":"not-an-address","message":"invalid email"}]}`}},
			wantStdout: csvFile + ": 1 added, 0 updated, 0 skipped (repeated in the file), 1 error\nrow 3 not-an-address: invalid email\n",
		},
		{
			name:    "list import with the arguments swapped",
			args:    []string{"list", "import", jsonFile, "L1"},
			wantErr: "L1: want a .csv file",
		},
		{
			name: "list import JSON",
			args: []string{"list", "import", "L1", jsonFile},
			script: []exchange{{method: "POST", path: "/v1/lists/L1/contacts", contentType: "application/json",
				json: `[{"email":"ana@example.org"}]`, status: 200, resp: `{"added":0,"updated":1,"skipped":0,"errors":[]}`}},
			wantStdout: jsonFile + ": 0 added, 1 updated, 0 skipped (repeated in the file), 0 errors\n",
		},
		{
			name:    "list import of a text file",
			args:    []string{"list", "import", "L1", txtFile},
			wantErr: "want a .csv file",
		},
		{
			name:    "list import without a file",
			args:    []string{"list", "import", "L1"},
			wantErr: "list import: missing LIST_ID and FILE",
		},
		{
			name: "list contacts reads every page",
			args: []string{"list", "contacts", "L1"},
			script: []exchange{
				{method: "GET", path: "/v1/lists/L1/contacts", query: "limit=500", status: 200,
					resp: `{"items":[{"email":"ana@example.org","name":"Ana","outlet":"Diario","language":"es","tags":["a","b"],"status":"confirmed","suppressed":null}],"next_cursor":"c1"}`},
				{method: "GET", path: "/v1/lists/L1/contacts", query: "cursor=c1&limit=500", status: 200,
					resp: `{"items":[{"email":"bob@example.net","status":"unsubscribed","suppressed":{"reason":"unsubscribed","at":null}}],"next_cursor":""}`},
			},
			wantStdout: "EMAIL            NAME  OUTLET  LANGUAGE  TAGS  STATUS        SUPPRESSED\n" +
				"ana@example.org  Ana   Diario  es        a;b   confirmed     -\n" +
				"bob@example.net  -     -       -         -     unsubscribed  unsubscribed\n",
			wantStderr: "2 contacts",
		},
		{
			name: "list contacts --status pending",
			args: []string{"list", "contacts", "--status", "pending", "L1"},
			script: []exchange{
				{method: "GET", path: "/v1/lists/L1/contacts", query: "limit=500&status=pending", status: 200,
					resp: `{"items":[{"email":"ana@example.org","status":"pending","suppressed":null}],"next_cursor":""}`},
			},
			wantStdout: "EMAIL            NAME  OUTLET  LANGUAGE  TAGS  STATUS   SUPPRESSED\n" +
				"ana@example.org  -     -       -         -     pending  -\n",
			wantStderr: "1 contact",
		},
		{
			name:    "list contacts --status maybe",
			args:    []string{"list", "contacts", "--status", "maybe", "L1"},
			wantErr: "want pending, confirmed or unsubscribed",
		},
		{
			name: "channel add",
			args: []string{"channel", "add", "--chat", "@pregon_demo", "--title", "Demo", "--language", "es"},
			script: []exchange{{method: "POST", path: "/v1/telegram/channels",
				json:   `{"chat_id":"@pregon_demo","title":"Demo","language":"es"}`,
				status: 201, resp: `{"id":"C1","chat_id":"@pregon_demo","status":"active"}`}},
			wantStdout: "C1\n",
		},
		{
			name: "channel add --exists-ok finds the registered channel",
			args: []string{"channel", "add", "--chat", "@pregon_demo", "--exists-ok"},
			script: []exchange{
				problem(exchange{method: "POST", path: "/v1/telegram/channels", json: `{"chat_id":"@pregon_demo"}`},
					409, "A channel with chat_id @pregon_demo is already registered."),
				{method: "GET", path: "/v1/telegram/channels", query: "limit=500", status: 200,
					resp: `{"items":[{"id":"C0","chat_id":"@other"},{"id":"C9","chat_id":"@Pregon_Demo"}],"next_cursor":""}`},
			},
			wantStdout: "C9\n",
			wantStderr: "already registered",
		},
		{
			name: "channel add shows the problem's field errors",
			args: []string{"channel", "add", "--chat", "bad"},
			script: []exchange{{method: "POST", path: "/v1/telegram/channels", json: `{"chat_id":"bad"}`,
				status: 400, respType: "application/problem+json",
				resp: `{"type":"urn:pregon:problem:invalid-request","title":"Invalid request","status":400,` +
					`"detail":"chat_id must be \"@name\".","errors":[{"field":"chat_id","message":"must be \"@name\""}]}`}},
			wantErr: "POST /v1/telegram/channels: 400 Invalid request: chat_id must be \"@name\".\n  chat_id: must be \"@name\"",
		},
		{
			name: "channel list",
			args: []string{"channel", "list"},
			script: []exchange{{method: "GET", path: "/v1/telegram/channels", query: "limit=500", status: 200,
				resp: `{"items":[{"id":"C1","chat_id":"@pregon_demo","title":"Demo","language":"es","status":"active"}],"next_cursor":""}`}},
			wantStdout: "ID  CHAT          TITLE  LANGUAGE  STATUS\nC1  @pregon_demo  Demo   es        active\n",
		},
		{
			name: "release send with flags after the file",
			args: []string{"release", "send", "--list", "L1", relFile, "--list", "L2", "--channel", "C1", "--translation", trFile},
			script: []exchange{{method: "POST", path: "/v1/releases", contentType: "application/json", json: wantRelease,
				status: 201, resp: releaseJSON("R1", "draft", "")},
				{method: "GET", path: "/v1/releases/R1/checks", status: 200, resp: okChecks},
				{method: "POST", path: "/v1/releases/R1/send", json: `{}`, status: 202, resp: releaseJSON("R1", "sending", "")}},
			wantStdout: "R1\n",
			wantStderr: "ok       languages  Every recipient has a version in their language (es, en).\n" +
				"warning  links      1 of 2 links may be broken: https://example.org/x (answered 404 Not Found).\n",
		},
		{
			name:    "release send of a file without a body",
			args:    []string{"release", "send", draftFile, "--list", "L1"},
			wantErr: "draft.md: the body after the front matter is empty (only a draft, saved with --draft, may have no text yet)",
		},
		{
			name: "release send --draft with a title alone: no text, no audience yet",
			args: []string{"release", "send", draftFile, "--draft"},
			script: []exchange{{method: "POST", path: "/v1/releases",
				json:   `{"title":"Borrador","body":"","language":"es","audiences":{"lists":[],"telegram_channels":[]},"send":false}`,
				status: 201, resp: releaseJSON("R5", "draft", "")}},
			wantStdout: "R5\n",
		},
		{
			name: "release send --draft with an embargo",
			args: []string{"release", "send", relFile, "--channel", "C1", "--draft", "--embargo", "2026-06-01T09:00:00-06:00"},
			script: []exchange{{method: "POST", path: "/v1/releases",
				json: `{"title":"Título","summary":"Resumen","body":"Cuerpo “citado”.","language":"es",
					"contact":{"name":"Ana","email":"prensa@example.org"},
					"audiences":{"lists":[],"telegram_channels":["C1"]},"embargo_until":"2026-06-01T09:00:00-06:00","send":false}`,
				status: 201, resp: releaseJSON("R2", "draft", "")}},
			wantStdout: "R2\n",
		},
		{
			name: "release send with a time zone and an early list",
			args: []string{"release", "send", tzFile, "--list", "L1", "--early-list", "E1", "--embargo", "2026-06-01T09:00:00-06:00"},
			script: []exchange{{method: "POST", path: "/v1/releases",
				json: `{"title":"Título","body":"Cuerpo.","language":"es","timezone":"America/Mexico_City",
					"audiences":{"lists":["L1"],"early_lists":["E1"],"telegram_channels":[]},"embargo_until":"2026-06-01T09:00:00-06:00","send":false}`,
				status: 201, resp: releaseJSON("R3", "draft", "")},
				{method: "GET", path: "/v1/releases/R3/checks", status: 200, resp: okChecks},
				{method: "POST", path: "/v1/releases/R3/send", json: `{}`, status: 202, resp: releaseJSON("R3", "scheduled", "")}},
			wantStdout: "R3\n",
		},
		{
			name: "release send --wait polls until sent",
			args: []string{"release", "send", relFile, "--list", "L1", "--list", "L2", "--channel", "C1", "--translation", trFile, "--wait"},
			script: []exchange{
				{method: "POST", path: "/v1/releases", json: wantRelease, status: 201, resp: releaseJSON("R1", "draft", "")},
				{method: "GET", path: "/v1/releases/R1/checks", status: 200, resp: okChecks},
				{method: "POST", path: "/v1/releases/R1/send", json: `{}`, status: 202, resp: releaseJSON("R1", "scheduled", "")},
				{method: "GET", path: "/v1/releases/R1", status: 200,
					resp: releaseJSON("R1", "sending", `{"total":3,"queued":2,"sent":1,"by_channel":{}}`)},
				{method: "GET", path: "/v1/releases/R1", status: 200,
					resp: releaseJSON("R1", "sending", `{"total":3,"queued":2,"sent":1,"by_channel":{}}`)},
				{method: "GET", path: "/v1/releases/R1", status: 200, resp: releaseJSON("R1", "sent", sentCounts)},
			},
			wantStdout: "R1\n",
			wantStderr: "release R1: scheduled\nrelease R1: sending, 1 of 3 done (queued 2, sent 1)\nrelease R1: sent, 3 of 3 done (sent 3)\n",
		},
		{
			name: "release send --wait fails when deliveries failed",
			args: []string{"release", "send", relFile, "--list", "L1", "--wait"},
			script: []exchange{
				{method: "POST", path: "/v1/releases", status: 201,
					json: `{"title":"Título","summary":"Resumen","body":"Cuerpo “citado”.","language":"es",
						"contact":{"name":"Ana","email":"prensa@example.org"},
						"audiences":{"lists":["L1"],"telegram_channels":[]},"send":false}`,
					resp: releaseJSON("R3", "draft", "")},
				{method: "GET", path: "/v1/releases/R3/checks", status: 200, resp: okChecks},
				{method: "POST", path: "/v1/releases/R3/send", json: `{}`, status: 202, resp: releaseJSON("R3", "sending", "")},
				{method: "GET", path: "/v1/releases/R3", status: 200,
					resp: releaseJSON("R3", "sent_with_failures", `{"total":2,"sent":1,"failed":1,"by_channel":{}}`)},
			},
			wantStdout: "R3\n",
			wantErr:    "release R3 ended sent_with_failures; see: pregon release deliveries R3 --status failed",
		},
		{
			name: "release send reports a created release the server could not send",
			args: []string{"release", "send", relFile, "--channel", "C1"},
			script: []exchange{{method: "POST", path: "/v1/releases", status: 500, respType: "application/problem+json",
				json: `{"title":"Título","summary":"Resumen","body":"Cuerpo “citado”.","language":"es",
					"contact":{"name":"Ana","email":"prensa@example.org"},
					"audiences":{"lists":[],"telegram_channels":["C1"]},"send":false}`,
				resp: `{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"saved as a draft","release_id":"R4"}`}},
			wantErr: "POST /v1/releases: 500 Internal Server Error: saved as a draft\n  (release R4 was created)",
		},
		{
			name:    "release send without an audience",
			args:    []string{"release", "send", relFile},
			wantErr: "name at least one audience with --list or --channel",
		},
		{
			name:    "release send --draft --wait",
			args:    []string{"release", "send", relFile, "--list", "L1", "--draft", "--wait"},
			wantErr: "cannot go with --draft",
		},
		{
			name:    "release send with a bad embargo",
			args:    []string{"release", "send", relFile, "--list", "L1", "--embargo", "tomorrow"},
			wantErr: `--embargo "tomorrow" is not an RFC 3339 time`,
		},
		{
			name:    "release send of a file without front matter",
			args:    []string{"release", "send", badFile, "--list", "L1"},
			wantErr: badFile + ": line 1: the file must start with a front matter block",
		},
		{
			name:    "release send with two files",
			args:    []string{"release", "send", relFile, trFile, "--list", "L1"},
			wantErr: "unexpected argument",
		},
		{
			name:   "release status",
			args:   []string{"release", "status", "R1"},
			script: []exchange{{method: "GET", path: "/v1/releases/R1", status: 200, resp: releaseJSON("R1", "sent", sentCounts)}},
			wantStdout: "release:    R1\ntitle:      T\nstatus:     sent\nlanguages:  es, en\ntime zone:  UTC\nembargo:    none\nupdated:    2026-01-02T03:04:06Z\n\n" +
				"CHANNEL   TOTAL  QUEUED  RETRYING  SENT  FAILED\n" +
				"email     2      0       0         2     0\n" +
				"telegram  1      0       0         1     0\n" +
				"all       3      0       0         3     0\n",
		},
		{
			name: "release status shows unusual statuses that occur",
			args: []string{"release", "status", "R1"},
			script: []exchange{{method: "GET", path: "/v1/releases/R1", status: 200,
				resp: releaseJSON("R1", "sending", `{"total":2,"sent":1,"suppressed":1,"by_channel":{"email":{"total":2,"sent":1,"suppressed":1}}}`)}},
			wantStdout: "release:    R1\ntitle:      T\nstatus:     sending\nlanguages:  es, en\ntime zone:  UTC\nembargo:    none\nupdated:    2026-01-02T03:04:06Z\n\n" +
				"CHANNEL  TOTAL  QUEUED  RETRYING  SENT  FAILED  SUPPRESSED\n" +
				"email    2      0       0         1     0       1\n" +
				"all      2      0       0         1     0       1\n",
		},
		{
			name: "release status in the release's time zone",
			args: []string{"release", "status", "R1"},
			script: []exchange{{method: "GET", path: "/v1/releases/R1", status: 200,
				resp: strings.Replace(releaseJSON("R1", "scheduled", ""), `"embargo_until":null`,
					`"embargo_until":"2026-02-04T16:00:00Z","scheduled_at":"2026-02-04T16:00:00Z","timezone":"America/Mexico_City"`, 1)}},
			wantStdout: "release:    R1\ntitle:      T\nstatus:     scheduled\nlanguages:  es, en\ntime zone:  America/Mexico_City\n" +
				"embargo:    2026-02-04T10:00:00-06:00\nscheduled:  2026-02-04T10:00:00-06:00\nupdated:    2026-01-01T21:04:06-06:00\n\n" +
				"CHANNEL  TOTAL  QUEUED  RETRYING  SENT  FAILED\nall      0      0       0         0     0\n",
		},
		{
			name:    "release status of an unknown release",
			args:    []string{"release", "status", "nope"},
			script:  []exchange{problem(exchange{method: "GET", path: "/v1/releases/nope"}, 404, "Nothing was found at /v1/releases/nope.")},
			wantErr: "GET /v1/releases/nope: 404 Not Found: Nothing was found at /v1/releases/nope.",
		},
		{
			name:    "a bad token",
			args:    []string{"release", "status", "R1"},
			script:  []exchange{{method: "GET", path: "/v1/releases/R1", status: 401, respType: "text/plain", resp: "no"}},
			wantErr: "GET /v1/releases/R1: 401 Unauthorized: no\n  (check PREGON_TOKEN or --token)",
		},
		{
			name: "release deliveries with filters, every page",
			args: []string{"release", "deliveries", "R1", "--status", "failed", "--channel", "email"},
			script: []exchange{
				{method: "GET", path: "/v1/releases/R1/deliveries", query: "channel=email&limit=500&status=failed", status: 200,
					resp: `{"items":[{"channel":"email","recipient":"ana@example.org","language":"es","status":"failed","attempts":5,` +
						`"last_error":"550 mailbox\nunavailable","message_ids":[]}],"next_cursor":"x"}`},
				{method: "GET", path: "/v1/releases/R1/deliveries", query: "channel=email&cursor=x&limit=500&status=failed", status: 200,
					resp: `{"items":[{"channel":"telegram","recipient":"@pregon_demo","language":"es","status":"sent","attempts":1,` +
						`"last_error":"","message_ids":["11","12"]}],"next_cursor":""}`},
			},
			wantStdout: "RECIPIENT        CHANNEL   LANGUAGE  STATUS  ATTEMPTS  LAST_ERROR               MESSAGE_IDS\n" +
				"ana@example.org  email     es        failed  5         550 mailbox unavailable  -\n" +
				"@pregon_demo     telegram  es        sent    1         -                        11 12\n",
			wantStderr: "2 deliveries",
		},
		{
			name: "release preview telegram",
			args: []string{"release", "preview", "R1", "--channel", "telegram", "--language", "en"},
			script: []exchange{{method: "GET", path: "/v1/releases/R1/preview", query: "channel=telegram&language=en", status: 200,
				resp: `{"channel":"telegram","language":"en","messages":["<b>One</b>","Two"]}`}},
			wantStdout: "--- message 1 of 2 (en, 10 characters) ---\n<b>One</b>\n--- message 2 of 2 (en, 3 characters) ---\nTwo\n",
		},
		{
			name: "release cancel",
			args: []string{"release", "cancel", "R1"},
			script: []exchange{{method: "POST", path: "/v1/releases/R1/cancel", status: 200,
				resp: releaseJSON("R1", "cancelled", `{"total":2,"cancelled":2,"by_channel":{}}`)}},
			wantStdout: "release R1: cancelled, 2 of 2 done (cancelled 2)\n",
		},
		{
			name: "release cancel of a sent release",
			args: []string{"release", "cancel", "R1"},
			script: []exchange{problem(exchange{method: "POST", path: "/v1/releases/R1/cancel"},
				409, "The release was already sent; it cannot be cancelled.")},
			wantErr: "POST /v1/releases/R1/cancel: 409 Conflict: The release was already sent; it cannot be cancelled.",
		},
		{
			name:       "release retry",
			args:       []string{"release", "retry", "R1"},
			script:     []exchange{{method: "POST", path: "/v1/releases/R1/retry", status: 202, resp: `{"requeued":1}`}},
			wantStdout: "release R1: 1 delivery queued again\n",
		},
		{
			name:    "an unknown command",
			args:    []string{"release", "publish", "R1"},
			wantErr: `release: unknown command "publish"`,
		},
		{
			name:    "no command",
			args:    []string{"channel"},
			wantErr: "channel: which command?",
		},
	}
	runCLICases(t, tests)
}

// cliCase is one run of the CLI against a fakeAPI that expects script.
type cliCase struct {
	name       string
	args       []string
	env        map[string]string // added to PREGON_API_URL and PREGON_TOKEN=tok
	script     []exchange
	wantStdout string
	wantStderr string // a substring of stderr, when not ""
	wantErr    string // a substring of the error, when not ""
}

// runCLICases runs each case as a subtest: the error, stdout, stderr, and
// that the client made every request of its script.
func runCLICases(t *testing.T, tests []cliCase) {
	t.Helper()
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{t: t, want: tt.script}
			srv := httptest.NewServer(api)
			defer srv.Close()
			env := map[string]string{"PREGON_API_URL": srv.URL + "/", "PREGON_TOKEN": "tok"}
			maps.Copy(env, tt.env)
			var stdout, stderr strings.Builder
			c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] },
				http: srv.Client(), poll: time.Millisecond}
			err := c.run(context.Background(), tt.args[0], tt.args[1:])
			switch {
			case tt.wantErr == "" && err != nil:
				t.Errorf("err = %v", err)
			case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
				t.Errorf("err = %v, want one containing %q", err, tt.wantErr)
			}
			if stdout.String() != tt.wantStdout {
				t.Errorf("stdout:\n%s\nwant:\n%s", stdout.String(), tt.wantStdout)
			}
			if !strings.Contains(stderr.String(), tt.wantStderr) {
				t.Errorf("stderr:\n%s\nwant it to contain:\n%s", stderr.String(), tt.wantStderr)
			}
			api.mu.Lock()
			defer api.mu.Unlock()
			if api.n != len(api.want) {
				t.Errorf("the client made %d of the %d requests expected", api.n, len(api.want))
			}
		})
	}
}

func TestClientWaitTimeout(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		if strings.HasSuffix(r.URL.Path, "/checks") {
			io.WriteString(w, "[]")
			return
		}
		if r.Method == http.MethodPost {
			w.WriteHeader(http.StatusCreated)
		}
		io.WriteString(w, releaseJSON("R1", "sending", `{"total":1,"queued":1,"by_channel":{}}`))
	}))
	defer srv.Close()
	file := filepath.Join(t.TempDir(), "r.md")
	if err := os.WriteFile(file, []byte("---\ntitle: T\nlanguage: es\n---\nB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	var stdout, stderr strings.Builder
	c := &cli{stdout: &stdout, stderr: &stderr, http: srv.Client(), poll: time.Millisecond,
		getenv: func(k string) string { return map[string]string{"PREGON_API_URL": srv.URL, "PREGON_TOKEN": "tok"}[k] }}
	err := c.run(context.Background(), "release", []string{"send", file, "--list", "L1", "--wait", "--timeout", "50ms"})
	if err == nil || !strings.Contains(err.Error(), "release R1 is still sending after 50ms") {
		t.Fatalf("err = %v, want a timeout", err)
	}
	if stdout.String() != "R1\n" {
		t.Errorf("stdout = %q, want the id", stdout.String())
	}
}

func TestClientUnreachable(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	var stdout, stderr strings.Builder
	err := clientCmd(context.Background(), "channel", []string{"list", "--api-url", url, "--token", "t"}, &stdout, &stderr,
		func(string) string { return "" })
	if err == nil || !strings.Contains(err.Error(), "cannot reach Pregón at "+url) {
		t.Fatalf("err = %v, want one saying the API cannot be reached", err)
	}
}
