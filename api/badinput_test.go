package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"golang.org/x/net/html"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/pregon/pregon/templates"
)

// badInput is one entry of the bad-input catalogue (issue 4, item 3): a
// request and what the API must answer. Unless accepted is set, the answer
// is an application/problem+json error with the status (naming the fields,
// when given) and nothing is written: no store write, no send.
type badInput struct {
	item, name string
	method     string // "" means POST
	path       string // {list}, {release} and {channel} name ones that exist
	ctype      string // "" means application/json
	body       string
	chunked    bool // send the body without a Content-Length
	status     int  // the answer's status; 0 means 400
	fields     []string
	detail     string // a substring of the problem's detail
	// accepted marks input that is handled rather than refused; check then
	// says how.
	accepted bool
	check    func(t *testing.T, h *harness, w *httptest.ResponseRecorder)
}

// TestBadInputCatalogue is the bad-input catalogue, whole, in one table.
// Other tests go deeper on some entries (TestCreateReleaseValidation,
// TestImportRefused, TestImportCSVShapes, TestOversizedBody, TestExport*,
// FuzzImportCSV, and the renderers' fuzz tests in templates and
// channels/email).
func TestBadInputCatalogue(t *testing.T) {
	const mib = 1 << 20
	release := func(edit func(map[string]any)) string {
		m := map[string]any{"title": "Comunicado", "body": "Cuerpo del comunicado.", "language": "es",
			"audiences": map[string]any{"lists": []string{"{list}"}}}
		if edit != nil {
			edit(m)
		}
		b, _ := json.Marshal(m)
		return string(b)
	}
	set := func(k string, v any) string { return release(func(m map[string]any) { m[k] = v }) }
	emoji := strings.Repeat("👩🏽‍🌾 Las compañeras de Ñuu Savi dijeron «¡basta!» 🇲🇽. "+
		"قالت المجتمعات إنها لن تسمح بذلك. הקהילות אמרו די. "+"Cafe\u0301 y n\u0303 combinadas. ", 60)

	catalogue := []badInput{
		// Malformed and truncated JSON.
		{item: "malformed JSON", name: "list: trailing comma", path: "/v1/lists", body: "{\n  \"name\": \"Prensa\",\n}", detail: "Malformed JSON at line 3, column 1"},
		{item: "malformed JSON", name: "release: single quotes", path: "/v1/releases", body: "{'title': 'x'}", detail: "Malformed JSON"},
		{item: "malformed JSON", name: "channel: not JSON at all", path: "/v1/telegram/channels", body: "chat_id=@canal", detail: "Malformed JSON"},
		{item: "malformed JSON", name: "contacts: two values", path: "/v1/lists/{list}/contacts", body: `[] []`, detail: "after the JSON value"},
		{item: "malformed JSON", name: "send: invalid UTF-8", path: "/v1/releases/{release}/send", body: "{\"at\":\"\xff\"}", detail: "UTF-8"},
		{item: "truncated JSON", name: "release", path: "/v1/releases", body: release(nil)[:40], detail: "ends too early"},
		{item: "truncated JSON", name: "contacts", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org"},`, detail: "ends too early"},
		{item: "truncated JSON", name: "empty body", path: "/v1/lists", body: "", detail: "empty"},

		// Wrong types.
		{item: "wrong types", name: "title is a number", path: "/v1/releases", body: set("title", 7), fields: []string{"title"}, detail: "must be a string, not a number"},
		{item: "wrong types", name: "lists is a string", path: "/v1/releases", body: set("audiences", map[string]any{"lists": "{list}"}), fields: []string{"audiences.lists"}},
		{item: "wrong types", name: "send is a string", path: "/v1/releases", body: set("send", "yes"), fields: []string{"send"}},
		{item: "wrong types", name: "tags is a string", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","tags":"a;b"}]`, fields: []string{"tags"}},
		{item: "wrong types", name: "body is an array", path: "/v1/lists", body: `[{"name":"Prensa","kind":"press"}]`, detail: "must be an object"},
		{item: "wrong types", name: "contacts is an object", path: "/v1/lists/{list}/contacts", body: `{"email":"ana@example.org"}`, detail: "must be an array"},

		// Unknown fields, named.
		{item: "unknown fields", name: "release", path: "/v1/releases", body: set("attachments_url", "x"), fields: []string{"attachments_url"}, detail: `"attachments_url"`},
		{item: "unknown fields", name: "release audiences", path: "/v1/releases", body: set("audiences", map[string]any{"emails": []string{"a@example.org"}}), fields: []string{"emails"}},
		{item: "unknown fields", name: "list", path: "/v1/lists", body: `{"name":"P","kind":"press","colour":"red"}`, fields: []string{"colour"}},
		{item: "unknown fields", name: "channel", path: "/v1/telegram/channels", body: `{"chat_id":"@canal_prensa","bot_token":"1:x"}`, fields: []string{"bot_token"}},
		{item: "unknown fields", name: "contact", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","phone":"1"}]`, fields: []string{"phone"}},
		{item: "unknown fields", name: "send", path: "/v1/releases/{release}/send", body: `{"when":"now"}`, fields: []string{"when"}},

		// Names repeated in one JSON object (issue 9, item 10): refused, named.
		{item: "duplicate keys", name: "release title", path: "/v1/releases", body: `{"title":"A","title":"B","body":"x","language":"es","audiences":{"lists":["{list}"]}}`,
			fields: []string{"title"}, detail: "appears twice"},
		{item: "duplicate keys", name: "nested in a translation", path: "/v1/releases",
			body:   `{"title":"A","body":"x","language":"es","translations":[{"language":"en","title":"T","body":"b"},{"language":"pt","language":"fr","title":"T","body":"b"}],"audiences":{"lists":["{list}"]}}`,
			fields: []string{"translations[1].language"}},
		{item: "duplicate keys", name: "list", path: "/v1/lists", body: `{"name":"P","kind":"press","name":"Q"}`, fields: []string{"name"}},
		{item: "duplicate keys", name: "contact email", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","email":"beto@example.org"}]`,
			fields: []string{"email"}, detail: "Contact 1"},
		{item: "duplicate keys", name: "contact attribute", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","attributes":{"city":"a","city":"b"}}]`,
			fields: []string{"attributes.city"}},

		// Control characters (issue 9, item 10): refused in names, titles and text.
		{item: "control characters", name: "list name with ESC", path: "/v1/lists", body: `{"name":"Prensa\u001b[31m","kind":"press"}`, fields: []string{"name"}, detail: "control characters"},
		{item: "control characters", name: "release title with U+2028", path: "/v1/releases", body: set("title", "Comunicado\u2028Bcc"), fields: []string{"title"}},
		{item: "control characters", name: "release title with U+2029", path: "/v1/releases", body: set("title", "Comunicado\u2029Bcc"), fields: []string{"title"}},
		{item: "control characters", name: "release title with C1 (U+0085)", path: "/v1/releases", body: set("title", "Comuni\u0085cado"), fields: []string{"title"}},
		{item: "control characters", name: "body with NUL", path: "/v1/releases", body: set("body", "Cuerpo\x00 con NUL"), fields: []string{"body"}},
		{item: "control characters", name: "body with form feed", path: "/v1/releases", body: set("body", "Cuerpo\fsigue"), fields: []string{"body"}},
		{item: "control characters", name: "summary with VT", path: "/v1/releases", body: set("summary", "Resumen\vsigue"), fields: []string{"summary"}},
		{item: "control characters", name: "translation body with ESC", path: "/v1/releases",
			body: set("translations", []any{map[string]any{"language": "en", "title": "T", "body": "x\x1by"}}), fields: []string{"translations[0].body"}},
		{item: "control characters", name: "channel title with FF", path: "/v1/telegram/channels", body: `{"chat_id":"@canal_prensa","title":"a\fb"}`, fields: []string{"title"}},
		{item: "control characters", name: "body keeps tabs and line breaks", path: "/v1/releases", status: 201, accepted: true,
			body: set("body", "Párrafo\tuno.\r\n\r\nPárrafo dos.\n"), check: func(*testing.T, *harness, *httptest.ResponseRecorder) {}},
		{item: "control characters", name: "contact name in CSV with ESC: row refused", path: "/v1/lists/{list}/contacts", ctype: "text/csv",
			body: "email,name\nana@example.org,Ana\x1b[2J\nbeto@example.org,Beto\n", accepted: true,
			check: imported(ImportResult{Added: 1, Errors: []RowError{{Row: 2, Email: "ana@example.org", Message: "name " + controlMessage}}}, "beto@example.org")},
		{item: "control characters", name: "contact outlet in JSON with NUL: row refused", path: "/v1/lists/{list}/contacts",
			body: `[{"email":"ana@example.org","outlet":"Radio\u0000"}]`, accepted: true,
			check: imported(ImportResult{Errors: []RowError{{Row: 1, Email: "ana@example.org", Message: "outlet " + controlMessage}}})},

		// Contact attributes are bounded (issue 9, item 10).
		{item: "attributes", name: "too many keys", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","attributes":` + attrs(maxAttributes+1, 1) + `},{"email":"beto@example.org","attributes":` + attrs(maxAttributes, 1) + `}]`,
			accepted: true, check: imported(ImportResult{Added: 1, Errors: []RowError{{Row: 1, Email: "ana@example.org", Message: "attributes: more than 50 keys"}}}, "beto@example.org")},
		{item: "attributes", name: "value too long", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","attributes":` + attrs(1, maxAttrValLen+1) + `}]`,
			accepted: true, check: imported(ImportResult{Errors: []RowError{{Row: 1, Email: "ana@example.org", Message: `attributes: the value of "k00" is longer than 1024 characters`}}})},
		{item: "attributes", name: "key too long", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","attributes":{"` + strings.Repeat("k", maxAttrKeyLen+1) + `":"v"}}]`,
			accepted: true, check: func(t *testing.T, h *harness, w *httptest.ResponseRecorder) {
				if !strings.Contains(w.Body.String(), "is longer than 64 characters") || len(h.members(h.store.lists[0].ID)) != 0 {
					t.Errorf("a 65-character attribute key was not refused: %s", w.Body)
				}
			}},
		{item: "attributes", name: "a 5.6 MB contact", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","attributes":` + attrs(5000, 1100) + `}]`,
			accepted: true, check: imported(ImportResult{Errors: []RowError{{Row: 1, Email: "ana@example.org", Message: "attributes: more than 50 keys"}}})},

		// URLs are checked at input (issue 9, item 11).
		{item: "URL", name: "source_url with a quote", path: "/v1/releases", body: set("source_url", `https://example.org/a"onmouseover="x`), fields: []string{"source_url"}},
		{item: "URL", name: "source_url with credentials", path: "/v1/releases", body: set("source_url", "https://user:secret@example.org/"), fields: []string{"source_url"}, detail: "password"},
		{item: "URL", name: "source_url without a host", path: "/v1/releases", body: set("source_url", "https:///comunicado"), fields: []string{"source_url"}},
		{item: "URL", name: "source_url relative", path: "/v1/releases", body: set("source_url", "/comunicado"), fields: []string{"source_url"}},
		{item: "URL", name: "source_url javascript:", path: "/v1/releases", body: set("source_url", "javascript:alert(1)"), fields: []string{"source_url"}},
		{item: "URL", name: "source_url with a space", path: "/v1/releases", body: set("source_url", "https://example.org/a b"), fields: []string{"source_url"}},
		{item: "URL", name: "source_url with angle brackets", path: "/v1/releases", body: set("source_url", "https://example.org/<b>"), fields: []string{"source_url"}},
		{item: "URL", name: "source_url with a control character", path: "/v1/releases", body: set("source_url", "https://example.org/\x1b"), fields: []string{"source_url"}},

		// Addresses (issue 9, item 12): the rows are refused, with the reason.
		{item: "addresses", name: "hyphen label, IP literal, non-ASCII local part, IDN domain", path: "/v1/lists/{list}/contacts", ctype: "text/csv",
			body: "email\na@-example.org\na@[127.0.0.1]\njosé@example.org\nana@münchen.de\n", accepted: true,
			check: imported(ImportResult{Added: 1, Errors: []RowError{
				{Row: 2, Email: "a@-example.org", Message: `invalid email: the domain "-example.org" has a label that starts or ends with "-"`},
				{Row: 3, Email: "a@[127.0.0.1]", Message: "invalid email: an IP address in brackets is not accepted as a domain"},
				{Row: 4, Email: "josé@example.org", Message: "invalid email: the part before @ has non-ASCII letters, which mail servers accept only with SMTPUTF8 (not supported)"},
			}}, "ana@xn--mnchen-3ya.de")},

		// Oversized bodies and uploads.
		{item: "oversized", name: "JSON over 1 MiB", path: "/v1/releases", body: set("body", strings.Repeat("x", mib)), status: 413, detail: "larger than"},
		{item: "oversized", name: "JSON over 1 MiB, chunked", path: "/v1/lists", body: `{"name":"` + strings.Repeat("x", mib) + `"}`, chunked: true, status: 413},
		{item: "oversized", name: "CSV over 10 MiB", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "email\n" + strings.Repeat("ana@example.org\n", 10*mib/16+1), status: 413},
		{item: "oversized", name: "CSV over 10 MiB, chunked", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "email\n" + strings.Repeat("ana@example.org\n", 10*mib/16+1), chunked: true, status: 413},

		// CSV uploads.
		{item: "CSV", name: "Latin-1, not UTF-8", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "email,name\njose@example.org,Jos\xe9 N\xfa\xf1ez\n", detail: "not UTF-8"},
		{item: "CSV", name: "byte order mark", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "\uFEFFemail,name\nana@example.org,Ana\n",
			accepted: true, check: imported(ImportResult{Added: 1, Errors: []RowError{}}, "ana@example.org")},
		{item: "CSV", name: "missing header", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "ana@example.org,Ana\nbeto@example.org,Beto\n", detail: "no email column"},
		{item: "CSV", name: "extra columns", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "email,name,notes,city\nana@example.org,Ana,llamar,Oaxaca,extra\n",
			accepted: true, check: imported(ImportResult{Added: 1, Errors: []RowError{}}, "ana@example.org")},
		{item: "CSV", name: "duplicate emails", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "email\nana@example.org\nANA@Example.org\n ana@example.org \n",
			accepted: true, check: imported(ImportResult{Added: 1, Skipped: 2, Errors: []RowError{}}, "ana@example.org")},
		{item: "CSV", name: "invalid addresses", path: "/v1/lists/{list}/contacts", ctype: "text/csv",
			body:     "email\nana@example.org\nnot-an-address\nana@localhost\nana@@example.org\nbeto@example.org\n",
			accepted: true, check: imported(ImportResult{Added: 2, Errors: []RowError{
				{Row: 3, Email: "not-an-address", Message: "invalid email"}, {Row: 4, Email: "ana@localhost", Message: `invalid email: the domain "localhost" is not a full domain name`},
				{Row: 5, Email: "ana@@example.org", Message: "invalid email"}}}, "ana@example.org", "beto@example.org")},
		{item: "CSV", name: "formula cells", path: "/v1/lists/{list}/contacts", ctype: "text/csv",
			body:     "email,name,outlet\nana@example.org,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\",@SUM(A1)\n",
			accepted: true, check: exportedDefused(`'=HYPERLINK("http://evil","x")`, "'@SUM(A1)")},
		{item: "CSV", name: "unclosed quote", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "email,name\nana@example.org,\"Ana\nbeto@example.org,B\n", detail: "not closed"},

		// Markdown that tries to run something.
		{item: "Markdown", name: "raw HTML, script, javascript: links", path: "/v1/releases", status: 201, accepted: true,
			body: set("body", "Hola <b onclick=\"x()\">negrita</b>\n\n<script>alert(1)</script>\n\n<img src=x onerror=alert(1)>\n\n"+
				"[pulse](javascript:alert(1)) [otro](JAVASCRIPT:alert(1)) <a href=\"javascript:x\">a</a> [data](data:text/html;base64,PHNjcmlwdD4=)\n\n"+
				"<iframe src=\"https://evil.example\"></iframe>\n\n[bien](https://example.org/)"),
			check: previewIsHarmless},

		// Go template syntax is text.
		{item: "template syntax", name: "{{.Secret}} in title and body", path: "/v1/releases", status: 201, accepted: true,
			body: release(func(m map[string]any) {
				m["title"], m["body"] = "{{.Secret}} y {{template \"x\"}}", "Cuerpo {{.Secret}} {{range .}}{{end}}"
			}),
			check: previewPrintsLiterally("{{.Secret}}", `{{template "x"}}`, "{{range .}}{{end}}")},

		// CR and LF in one-line fields: refused, or made one line; never a header.
		{item: "CR/LF", name: "release title", path: "/v1/releases", body: set("title", "Comunicado\r\nBcc: todos@example.org"), fields: []string{"title"}, detail: "single line"},
		{item: "CR/LF", name: "translation title", path: "/v1/releases", body: set("translations", []any{map[string]any{"language": "en", "title": "A\nB", "body": "x"}}), fields: []string{"translations[0].title"}},
		{item: "CR/LF", name: "press contact name", path: "/v1/releases", body: set("contact", map[string]any{"name": "Ana\r\nBcc: x@example.org", "email": "prensa@example.org"}), fields: []string{"contact.name"}},
		{item: "CR/LF", name: "list name", path: "/v1/lists", body: `{"name":"Prensa\r\nX-Evil: 1","kind":"press"}`, fields: []string{"name"}},
		{item: "CR/LF", name: "channel title", path: "/v1/telegram/channels", body: `{"chat_id":"@canal_prensa","title":"a\nb"}`, fields: []string{"title"}},
		{item: "CR/LF", name: "contact name in CSV: made one line", path: "/v1/lists/{list}/contacts", ctype: "text/csv", body: "email,name\nana@example.org,\"Ana\r\nBcc: x@example.org\"\n",
			accepted: true, check: member("ana@example.org", "Ana Bcc: x@example.org")},
		{item: "CR/LF", name: "contact name in JSON: made one line", path: "/v1/lists/{list}/contacts", body: `[{"email":"ana@example.org","name":"Ana\r\nBcc: x@example.org"}]`,
			accepted: true, check: member("ana@example.org", "Ana Bcc: x@example.org")},

		// Emoji, right-to-left text and combining characters.
		{item: "Unicode", name: "emoji, RTL and combining characters", path: "/v1/releases", status: 201, accepted: true,
			body: release(func(m map[string]any) {
				m["title"], m["summary"], m["body"] = "👩🏽‍🌾 قالت Ñuu Savi", "הקהילות e\u0301", emoji
			}),
			check: previewHandlesUnicode("👩🏽‍🌾 قالت Ñuu Savi", "Cafe\u0301")},

		// Unknown ids, in paths and in audiences.
		{item: "unknown ids", name: "list", method: "GET", path: "/v1/lists/lst_nope", status: 404},
		{item: "unknown ids", name: "list contacts", method: "GET", path: "/v1/lists/lst_nope/contacts", status: 404},
		{item: "unknown ids", name: "list export", method: "GET", path: "/v1/lists/lst_nope/contacts?format=csv", status: 404},
		{item: "unknown ids", name: "import into a list", path: "/v1/lists/lst_nope/contacts", ctype: "text/csv", body: "email\nana@example.org\n", status: 404},
		{item: "unknown ids", name: "remove from a list", method: "DELETE", path: "/v1/lists/lst_nope/contacts/ana@example.org", status: 404},
		{item: "unknown ids", name: "release", method: "GET", path: "/v1/releases/rel_nope", status: 404},
		{item: "unknown ids", name: "send", path: "/v1/releases/rel_nope/send", status: 404},
		{item: "unknown ids", name: "cancel", path: "/v1/releases/rel_nope/cancel", status: 404},
		{item: "unknown ids", name: "retry", path: "/v1/releases/rel_nope/retry", status: 404},
		{item: "unknown ids", name: "deliveries", method: "GET", path: "/v1/releases/rel_nope/deliveries", status: 404},
		{item: "unknown ids", name: "preview", method: "GET", path: "/v1/releases/rel_nope/preview?channel=email", status: 404},
		{item: "unknown ids", name: "audience list", path: "/v1/releases", body: set("audiences", map[string]any{"lists": []string{"{list}", "lst_nope"}}),
			fields: []string{"audiences.lists[1]"}, detail: `unknown list id "lst_nope"`},
		{item: "unknown ids", name: "audience channel", path: "/v1/releases", body: set("audiences", map[string]any{"telegram_channels": []string{"tgc_nope"}}),
			fields: []string{"audiences.telegram_channels[0]"}},

		// A release to send with no audience (a draft may have none yet).
		{item: "no audience", name: "audiences missing", path: "/v1/releases", body: release(func(m map[string]any) { delete(m, "audiences"); m["send"] = true }), fields: []string{"audiences"}},
		{item: "no audience", name: "audiences empty", path: "/v1/releases", body: release(func(m map[string]any) {
			m["audiences"], m["send"] = map[string]any{"lists": []string{}, "telegram_channels": []string{}}, true
		}), fields: []string{"audiences"}},
	}

	renderer, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range catalogue {
		t.Run(c.item+"/"+c.name, func(t *testing.T) {
			h := newHarness(t, func(cfg *Config) { cfg.Previewer = renderer })
			ids := strings.NewReplacer("{list}", h.newList("Prensa"), "{channel}", h.newChannel("@canal_prensa"))
			relID := createRelease(t, h, ids.Replace(release(nil)))
			ids = strings.NewReplacer("{list}", h.store.lists[0].ID, "{channel}", h.store.channels[0].ID, "{release}", relID)
			writes, sends := h.store.writes, len(h.sender.sends)

			method := c.method
			if method == "" {
				method = "POST"
			}
			ctype := c.ctype
			if ctype == "" && method == "POST" {
				ctype = "application/json"
			}
			r := httptestRequest(method, ids.Replace(c.path), ids.Replace(c.body), c.chunked)
			r.Header.Set("Authorization", "Bearer "+coordToken)
			if ctype != "" {
				r.Header.Set("Content-Type", ctype)
			}
			w := h.serve(r)

			if c.accepted {
				want := c.status
				if want == 0 {
					want = http.StatusOK
				}
				if w.Code != want {
					t.Fatalf("status %d, want %d: %s", w.Code, want, w.Body)
				}
				c.check(t, h, w)
				return
			}
			status := c.status
			if status == 0 {
				status = http.StatusBadRequest
			}
			p := problemOf(t, w, status)
			if c.fields != nil || status == http.StatusBadRequest {
				if diff := cmp.Diff(c.fields, fieldsOf(p)); diff != "" {
					t.Errorf("fields (-want +got):\n%s\nproblem %+v", diff, p)
				}
			}
			if !strings.Contains(p.Detail, c.detail) {
				t.Errorf("detail %q lacks %q", p.Detail, c.detail)
			}
			if h.store.writes != writes || len(h.sender.sends) != sends || h.store.upsertCalls != 0 {
				t.Errorf("a refused request wrote: %d writes, %d sends, %d upserts", h.store.writes-writes, len(h.sender.sends)-sends, h.store.upsertCalls)
			}
		})
	}
}

// createRelease creates a release and returns its id.
func createRelease(t *testing.T, h *harness, body string) string {
	t.Helper()
	var rel dispatcher.Release
	h.mustJSON("POST", "/v1/releases", body, http.StatusCreated, &rel)
	return rel.ID
}

// imported checks an import report and that the list holds exactly emails.
func imported(want ImportResult, emails ...string) func(*testing.T, *harness, *httptest.ResponseRecorder) {
	return func(t *testing.T, h *harness, w *httptest.ResponseRecorder) {
		var got ImportResult
		if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil {
			t.Fatal(err)
		}
		if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), noNotes); diff != "" {
			t.Errorf("import report (-want +got):\n%s", diff)
		}
		var members []string
		for e := range h.members(h.store.lists[0].ID) {
			members = append(members, e)
		}
		if diff := cmp.Diff(emails, members, cmpSorted); diff != "" {
			t.Errorf("members (-want +got):\n%s", diff)
		}
	}
}

var cmpSorted = cmp.Transformer("sort", func(in []string) []string {
	out := append([]string(nil), in...)
	for i := range out {
		for j := i + 1; j < len(out); j++ {
			if out[j] < out[i] {
				out[i], out[j] = out[j], out[i]
			}
		}
	}
	return out
})

// member checks that a contact was stored with a name.
func member(email, name string) func(*testing.T, *harness, *httptest.ResponseRecorder) {
	return func(t *testing.T, h *harness, w *httptest.ResponseRecorder) {
		if got := h.members(h.store.lists[0].ID)[email].Name; got != name {
			t.Errorf("name %q, want %q", got, name)
		}
	}
}

// exportedDefused checks that the list's CSV export holds cells, as they
// are, in its first data row.
func exportedDefused(cells ...string) func(*testing.T, *harness, *httptest.ResponseRecorder) {
	return func(t *testing.T, h *harness, w *httptest.ResponseRecorder) {
		recs := h.export(h.store.lists[0].ID)
		for _, c := range cells {
			found := false
			for _, cell := range recs[1] {
				found = found || cell == c
			}
			if !found {
				t.Errorf("export row %q lacks the defused cell %q", recs[1], c)
			}
		}
	}
}

// preview returns the release's preview in a channel.
func preview(t *testing.T, h *harness, w *httptest.ResponseRecorder, channel string) (id string, p struct {
	Subject, Text, HTML string
	Messages            []string
}) {
	t.Helper()
	var rel dispatcher.Release
	if err := json.Unmarshal(w.Body.Bytes(), &rel); err != nil {
		t.Fatal(err)
	}
	resp := h.do("GET", "/v1/releases/"+rel.ID+"/preview?channel="+channel, viewerToken, "", "")
	if resp.Code != http.StatusOK {
		t.Fatalf("preview %s: %d %s", channel, resp.Code, resp.Body)
	}
	if err := json.Unmarshal(resp.Body.Bytes(), &p); err != nil {
		t.Fatal(err)
	}
	return rel.ID, p
}

// previewIsHarmless checks that the email's HTML runs nothing (no script,
// event handler, frame or script/data URL, parsed as a browser would) and
// that every Telegram message is valid Telegram HTML whose links are web links.
func previewIsHarmless(t *testing.T, h *harness, w *httptest.ResponseRecorder) {
	_, email := preview(t, h, w, "email")
	z := html.NewTokenizer(strings.NewReader(email.HTML))
	for tt := z.Next(); tt != html.ErrorToken; tt = z.Next() {
		if tt != html.StartTagToken && tt != html.SelfClosingTagToken {
			continue
		}
		tok := z.Token()
		switch tok.Data {
		case "script", "iframe", "img", "object", "embed", "form":
			if tok.Data != "img" || hasAttr(tok, "onerror") {
				t.Errorf("email HTML has <%s>:\n%s", tok.Data, email.HTML)
			}
		}
		for _, a := range tok.Attr {
			v := strings.ToLower(strings.TrimSpace(a.Val))
			if strings.HasPrefix(a.Key, "on") || strings.HasPrefix(v, "javascript:") || strings.HasPrefix(v, "data:") {
				t.Errorf("email HTML has %s=%q:\n%s", a.Key, a.Val, email.HTML)
			}
		}
	}
	if !errors.Is(z.Err(), io.EOF) {
		t.Errorf("email HTML does not parse: %v", z.Err())
	}
	if !strings.Contains(email.HTML, `href="https://example.org/"`) {
		t.Errorf("the safe link was lost:\n%s", email.HTML)
	}
	_, tg := preview(t, h, w, "telegram")
	for i, m := range tg.Messages {
		if _, err := telegramtest.ParseHTML(m); err != nil {
			t.Errorf("Telegram message %d is not valid Telegram HTML: %v\n%s", i, err, m)
		}
		for _, part := range strings.Split(m, `href="`)[1:] {
			if !strings.HasPrefix(part, "https://") && !strings.HasPrefix(part, "http://") {
				t.Errorf("Telegram message %d links to %q", i, part)
			}
		}
		if strings.Contains(strings.ToLower(m), "<script") || strings.Contains(m, "<iframe") {
			t.Errorf("Telegram message %d has markup from the body:\n%s", i, m)
		}
	}
}

func hasAttr(tok html.Token, key string) bool {
	for _, a := range tok.Attr {
		if a.Key == key {
			return true
		}
	}
	return false
}

// previewPrintsLiterally checks that template syntax typed in a release
// comes out of every preview as typed.
func previewPrintsLiterally(texts ...string) func(*testing.T, *harness, *httptest.ResponseRecorder) {
	return func(t *testing.T, h *harness, w *httptest.ResponseRecorder) {
		_, email := preview(t, h, w, "email")
		_, tg := preview(t, h, w, "telegram")
		for _, s := range texts[:1] {
			if !strings.Contains(email.Subject, s) {
				t.Errorf("subject %q lacks %q", email.Subject, s)
			}
		}
		all := []string{email.Text, email.HTML, strings.Join(tg.Messages, "\n")}
		for _, out := range all {
			for _, s := range texts {
				if !strings.Contains(html.UnescapeString(out), s) {
					t.Errorf("output lacks %q:\n%s", s, out)
				}
			}
		}
	}
}

// previewHandlesUnicode checks that a release in many scripts renders:
// the subject as typed, the text intact, and Telegram messages each within
// Telegram's 4096 UTF-16 code units and valid.
func previewHandlesUnicode(subject, inBody string) func(*testing.T, *harness, *httptest.ResponseRecorder) {
	return func(t *testing.T, h *harness, w *httptest.ResponseRecorder) {
		_, email := preview(t, h, w, "email")
		if email.Subject != subject || !strings.Contains(email.Text, inBody) || !strings.Contains(email.HTML, inBody) {
			t.Errorf("email: subject %q, text has %q: %v", email.Subject, inBody, strings.Contains(email.Text, inBody))
		}
		_, tg := preview(t, h, w, "telegram")
		if len(tg.Messages) < 2 {
			t.Errorf("%d Telegram messages for a long release, want it split", len(tg.Messages))
		}
		for i, m := range tg.Messages {
			text, err := telegramtest.ParseHTML(m)
			if err != nil {
				t.Errorf("message %d: %v", i, err)
			}
			if n := telegramtest.UTF16Len(text); n > telegramtest.MaxMessageLength {
				t.Errorf("message %d is %d UTF-16 code units, over Telegram's %d", i, n, telegramtest.MaxMessageLength)
			}
			if strings.ContainsRune(text, '\uFFFD') {
				t.Errorf("message %d has a replacement character: a character was cut", i)
			}
		}
	}
}

// attrs returns a JSON object of n attributes whose values are size characters.
func attrs(n, size int) string {
	m := map[string]string{}
	for i := range n {
		m[fmt.Sprintf("k%02d", i)] = strings.Repeat("v", size)
	}
	b, _ := json.Marshal(m)
	return string(b)
}
