package client_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// fakeAPI answers every request with the answer its handler gives for
// "METHOD /path", and records the last request's body and headers.
type fakeAPI struct {
	routes   map[string]func(w http.ResponseWriter, r *http.Request)
	lastBody string
	lastReq  *http.Request
}

func (f *fakeAPI) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	b, _ := io.ReadAll(r.Body)
	f.lastBody, f.lastReq = string(b), r
	h, ok := f.routes[r.Method+" "+r.URL.Path]
	if !ok {
		problem(w, 404, `{"type":"about:blank","title":"Not Found","status":404,"detail":"Nothing was found at `+r.URL.Path+`."}`)
		return
	}
	h(w, r)
}

func problem(w http.ResponseWriter, status int, body string) {
	w.Header().Set("Content-Type", "application/problem+json")
	w.WriteHeader(status)
	io.WriteString(w, body)
}

func reply(status int, v any) func(http.ResponseWriter, *http.Request) {
	return func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		json.NewEncoder(w).Encode(v)
	}
}

func newClient(t *testing.T, f *fakeAPI) *client.Client {
	t.Helper()
	srv := httptest.NewServer(f)
	t.Cleanup(srv.Close)
	c, err := client.New(srv.URL+"/", "tok", client.WithHTTPClient(srv.Client()), client.WithUserAgent("test/1"))
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func TestNewRefusesBadURLs(t *testing.T) {
	for _, u := range []string{"", "127.0.0.1:8080", "ftp://x", "http://", "://"} {
		if _, err := client.New(u, "t"); err == nil {
			t.Errorf("New(%q) = nil error", u)
		}
	}
}

// TestReleaseRoundTrip checks that a release the server marshals (a
// dispatcher.Release with dispatcher.Counts) reads back whole, counts included.
func TestReleaseRoundTrip(t *testing.T) {
	counts := dispatcher.NewCounts()
	counts.Add(dispatcher.ChannelEmail, dispatcher.DeliverySent, 3)
	counts.Add(dispatcher.ChannelEmail, dispatcher.DeliveryFailed, 1)
	counts.Add(dispatcher.ChannelTelegram, dispatcher.DeliveryQueued, 2)
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.UTC)
	rel := dispatcher.Release{ID: "R1", Status: dispatcher.ReleaseSending, Title: "T", Body: "B", Language: "es",
		Translations: []dispatcher.Translation{{Language: "en", Title: "T en", Body: "B en"}},
		Contact:      &dispatcher.PressContact{Name: "Ana"}, Audiences: dispatcher.Audiences{Lists: []string{"L1"}},
		EmbargoUntil: &at, CreatedAt: at, UpdatedAt: at, Counts: counts}
	f := &fakeAPI{routes: map[string]func(http.ResponseWriter, *http.Request){"GET /v1/releases/R 1": reply(200, &rel)}}
	got, err := newClient(t, f).GetRelease(context.Background(), "R 1")
	if err != nil {
		t.Fatal(err)
	}
	if f.lastReq.URL.EscapedPath() != "/v1/releases/R%201" || f.lastReq.Header.Get("Authorization") != "Bearer tok" ||
		f.lastReq.Header.Get("User-Agent") != "test/1" {
		t.Errorf("request %s %v", f.lastReq.URL.EscapedPath(), f.lastReq.Header)
	}
	want := rel
	want.Counts = nil
	if diff := cmp.Diff(want, got.Release); diff != "" {
		t.Errorf("release (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff(counts, &got.Counts.Counts); diff != "" {
		t.Errorf("counts (-want +got):\n%s", diff)
	}
	wantTotals := map[dispatcher.ChannelKind]int64{dispatcher.ChannelEmail: 4, dispatcher.ChannelTelegram: 2}
	if diff := cmp.Diff(wantTotals, got.Counts.ChannelTotal); diff != "" {
		t.Errorf("channel totals (-want +got):\n%s", diff)
	}
	if got.Counts.Pending() != 2 || got.Final() {
		t.Errorf("Pending = %d, Final = %v; want 2, false", got.Counts.Pending(), got.Final())
	}
}

func TestCountsKeepUnknownStatuses(t *testing.T) {
	var c client.Counts
	if err := json.Unmarshal([]byte(`{"total":3,"sent":1,"bounced":2,"note":"x","by_channel":{"email":{"total":3,"bounced":2,"sent":1}}}`), &c); err != nil {
		t.Fatal(err)
	}
	st := c.Statuses()
	if st[len(st)-1] != "bounced" || len(st) != len(dispatcher.DeliveryStatuses)+1 {
		t.Errorf("Statuses = %v, want the known ones then bounced", st)
	}
	if c.ByStatus["bounced"] != 2 || c.ByChannel["email"]["bounced"] != 2 || c.ChannelTotal["email"] != 3 {
		t.Errorf("counts %+v", c)
	}
	if err := json.Unmarshal([]byte(`{"total":"many"}`), &c); err == nil {
		t.Error("a total that is not a number: no error")
	}
}

func TestCreateReleaseBody(t *testing.T) {
	f := &fakeAPI{routes: map[string]func(http.ResponseWriter, *http.Request){
		"POST /v1/releases": reply(201, map[string]any{"id": "R1", "status": "draft", "counts": map[string]any{"total": 0}}),
	}}
	c := newClient(t, f)
	in := &client.NewRelease{Title: "T", Body: "B", Language: "es", Audiences: client.Audiences{TelegramChannels: []string{"C1"}}}
	rel, err := c.CreateRelease(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if rel.ID != "R1" || rel.Status != dispatcher.ReleaseDraft {
		t.Errorf("release %+v", rel)
	}
	want := `{"title":"T","body":"B","language":"es","audiences":{"lists":[],"telegram_channels":["C1"]},"send":false}`
	if f.lastBody != want || f.lastReq.Header.Get("Content-Type") != "application/json" {
		t.Errorf("body %s (%s), want %s", f.lastBody, f.lastReq.Header.Get("Content-Type"), want)
	}
	if in.Audiences.Lists != nil {
		t.Error("CreateRelease changed its input")
	}
}

func TestImport(t *testing.T) {
	rep := map[string]any{"added": 1, "updated": 0, "skipped": 1, "errors": []any{map[string]any{"row": 3, "email": "x", "message": "invalid email"}}, "errors_omitted": 4}
	f := &fakeAPI{routes: map[string]func(http.ResponseWriter, *http.Request){"POST /v1/lists/L1/contacts": reply(200, rep)}}
	c := newClient(t, f)
	ctx := context.Background()
	tests := []struct {
		name, wantType, wantBody string
		call                     func() (*client.ImportReport, error)
	}{
		{"csv", "text/csv; charset=utf-8", "email\na@b.c\n", func() (*client.ImportReport, error) {
			return c.ImportCSV(ctx, "L1", []byte("email\na@b.c\n"))
		}},
		{"raw json", "application/json", `[{"email":"a@b.c"}]`, func() (*client.ImportReport, error) {
			return c.ImportJSON(ctx, "L1", []byte(`[{"email":"a@b.c"}]`))
		}},
		{"contacts", "application/json", `[{"email":"a@b.c","tags":["x"]}]`, func() (*client.ImportReport, error) {
			return c.ImportContacts(ctx, "L1", []dispatcher.Contact{{Email: "a@b.c", Tags: []string{"x"}}})
		}},
		{"no contacts", "application/json", `[]`, func() (*client.ImportReport, error) { return c.ImportContacts(ctx, "L1", nil) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := tt.call()
			if err != nil {
				t.Fatal(err)
			}
			want := &client.ImportReport{Added: 1, Skipped: 1, ErrorsOmitted: 4, Errors: []client.RowError{{Row: 3, Email: "x", Message: "invalid email"}}}
			if diff := cmp.Diff(want, got); diff != "" {
				t.Errorf("report (-want +got):\n%s", diff)
			}
			if f.lastBody != tt.wantBody || f.lastReq.Header.Get("Content-Type") != tt.wantType {
				t.Errorf("sent %q as %q, want %q as %q", f.lastBody, f.lastReq.Header.Get("Content-Type"), tt.wantBody, tt.wantType)
			}
		})
	}
}

func TestErrors(t *testing.T) {
	f := &fakeAPI{routes: map[string]func(http.ResponseWriter, *http.Request){
		"POST /v1/telegram/channels": func(w http.ResponseWriter, r *http.Request) {
			problem(w, 400, `{"type":"urn:pregon:problem:invalid-request","title":"Invalid request","status":400,`+
				`"detail":"2 fields are not valid: chat_id, language.","errors":[{"field":"chat_id","message":"must be \"@name\""},{"field":"language","message":"unknown"}]}`)
		},
		"POST /v1/releases/R1/cancel": func(w http.ResponseWriter, r *http.Request) {
			problem(w, 409, `{"type":"about:blank","title":"Conflict","status":409,"detail":"The release was already sent."}`)
		},
		"POST /v1/releases": func(w http.ResponseWriter, r *http.Request) {
			problem(w, 500, `{"type":"about:blank","title":"Internal Server Error","status":500,"detail":"saved as a draft","release_id":"R4"}`)
		},
		"GET /v1/lists": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Retry-After", "7")
			problem(w, 429, `{"type":"about:blank","title":"Too Many Requests","status":429,"detail":"Slow down."}`)
		},
		"GET /v1/releases/R1": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "text/plain")
			w.WriteHeader(401)
			io.WriteString(w, "  no  \n")
		},
		"POST /v1/releases/R1/retry": func(w http.ResponseWriter, r *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(502)
			io.WriteString(w, `{"unexpected":true}`+strings.Repeat("x", 300))
		},
	}}
	c := newClient(t, f)
	ctx := context.Background()
	call := func(fn func() error) error { return fn() }
	tests := []struct {
		name     string
		err      error
		sentinel error // errors.Is holds
		status   int
		msg      string
	}{
		{"validation", call(func() error { _, err := c.CreateChannel(ctx, client.NewChannel{ChatID: "bad"}); return err }),
			client.ErrInvalid, 400,
			"POST /v1/telegram/channels: 400 Invalid request: 2 fields are not valid: chat_id, language.\n  chat_id: must be \"@name\"\n  language: unknown"},
		{"not found", call(func() error { _, err := c.GetList(ctx, "L9"); return err }),
			client.ErrNotFound, 404, "GET /v1/lists/L9: 404 Not Found: Nothing was found at /v1/lists/L9."},
		{"conflict", call(func() error { _, err := c.Cancel(ctx, "R1"); return err }),
			client.ErrConflict, 409, "POST /v1/releases/R1/cancel: 409 Conflict: The release was already sent."},
		{"created but not sent", call(func() error { _, err := c.CreateRelease(ctx, &client.NewRelease{}); return err }),
			nil, 500, "POST /v1/releases: 500 Internal Server Error: saved as a draft\n  (release R4 was created)"},
		{"rate limited", call(func() error { _, err := c.Lists(ctx, client.PageQuery{}); return err }),
			client.ErrRateLimited, 429, "GET /v1/lists: 429 Too Many Requests: Slow down."},
		{"not a problem", call(func() error { _, err := c.GetRelease(ctx, "R1"); return err }),
			client.ErrUnauthorized, 401, "GET /v1/releases/R1: 401 Unauthorized: no"},
		{"JSON that is not a problem", call(func() error { _, err := c.Retry(ctx, "R1"); return err }),
			nil, 502, `POST /v1/releases/R1/retry: 502 Bad Gateway: {"unexpected":true}` + strings.Repeat("x", 181) + "…"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.err == nil || tt.err.Error() != tt.msg {
				t.Errorf("err = %v\nwant %s", tt.err, tt.msg)
			}
			if client.StatusOf(tt.err) != tt.status {
				t.Errorf("StatusOf = %d, want %d", client.StatusOf(tt.err), tt.status)
			}
			for _, s := range []error{client.ErrInvalid, client.ErrUnauthorized, client.ErrNotFound, client.ErrConflict, client.ErrRateLimited} {
				if got := errors.Is(tt.err, s); got != (s == tt.sentinel) {
					t.Errorf("errors.Is(err, %v) = %v", s, got)
				}
			}
			if client.IsNotFound(tt.err) != (tt.status == 404) || client.IsConflict(tt.err) != (tt.status == 409) || client.IsInvalid(tt.err) != (tt.status == 400) {
				t.Error("IsNotFound, IsConflict or IsInvalid disagree with the status")
			}
		})
	}
	var e *client.Error
	if errors.As(tests[0].err, &e); e == nil || e.Field("language") != "unknown" || e.Type != "urn:pregon:problem:invalid-request" {
		t.Errorf("validation error %+v", e)
	}
	if errors.As(tests[4].err, &e); e.RetryAfter != 7*time.Second {
		t.Errorf("RetryAfter = %v, want 7s", e.RetryAfter)
	}
}

func TestNetErrorAndCancel(t *testing.T) {
	srv := httptest.NewServer(http.NotFoundHandler())
	url := srv.URL
	srv.Close()
	c, err := client.New(url, "t")
	if err != nil {
		t.Fatal(err)
	}
	_, err = c.Channels(context.Background(), client.PageQuery{})
	var ne *client.NetError
	if !errors.As(err, &ne) || ne.BaseURL != url || !strings.Contains(err.Error(), "GET /v1/telegram/channels: cannot reach Pregón at "+url) {
		t.Errorf("err = %v, want a *NetError", err)
	}

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = c.GetRelease(ctx, "R1")
	if !errors.Is(err, context.Canceled) || errors.As(err, &ne) {
		t.Errorf("err = %v, want context.Canceled and no *NetError", err)
	}
}

func TestEachPage(t *testing.T) {
	var queries []string
	pages := map[string]string{
		"":   `{"items":[{"email":"a@x.org"},{"email":"b@x.org"}],"next_cursor":"c1"}`,
		"c1": `{"items":[{"email":"c@x.org"}],"next_cursor":"c2"}`,
		"c2": `{"items":[],"next_cursor":""}`,
		"c3": `{"items":[{"email":"d@x.org"}],"next_cursor":"c3"}`,
	}
	f := &fakeAPI{routes: map[string]func(http.ResponseWriter, *http.Request){
		"GET /v1/lists/L1/contacts": func(w http.ResponseWriter, r *http.Request) {
			queries = append(queries, r.URL.RawQuery)
			w.Header().Set("Content-Type", "application/json")
			io.WriteString(w, pages[r.URL.Query().Get("cursor")])
		},
	}}
	c := newClient(t, f)
	fetch := func(ctx context.Context, pq client.PageQuery) (*client.Page[dispatcher.Contact], error) {
		return c.Contacts(ctx, "L1", pq)
	}
	all, err := client.All(context.Background(), 2, fetch)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, ct := range all {
		got = append(got, ct.Email)
	}
	if diff := cmp.Diff([]string{"a@x.org", "b@x.org", "c@x.org"}, got); diff != "" {
		t.Errorf("contacts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"limit=2", "cursor=c1&limit=2", "cursor=c2&limit=2"}, queries); diff != "" {
		t.Errorf("queries (-want +got):\n%s", diff)
	}

	pages[""] = pages["c3"]
	if _, err := client.All(context.Background(), 0, fetch); err == nil || !strings.Contains(err.Error(), `cursor "c3" twice`) {
		t.Errorf("a repeated cursor: err = %v", err)
	}
	stop := errors.New("stop")
	if err := client.EachPage(context.Background(), 0, fetch, func([]dispatcher.Contact) error { return stop }); !errors.Is(err, stop) {
		t.Errorf("each's error: err = %v", err)
	}
}

func TestEndpoints(t *testing.T) {
	f := &fakeAPI{routes: map[string]func(http.ResponseWriter, *http.Request){
		"POST /v1/lists":                 reply(201, dispatcher.List{ID: "L1", Name: "P", Kind: dispatcher.ListPress}),
		"POST /v1/releases/R1/send":      reply(202, map[string]any{"id": "R1", "status": "scheduled"}),
		"POST /v1/releases/R1/retry":     reply(202, map[string]int{"requeued": 5}),
		"GET /v1/releases/R1/preview":    reply(200, client.Preview{Channel: "telegram", Language: "en", Messages: []string{"a", "b"}}),
		"GET /v1/releases/R1/deliveries": reply(200, client.Page[dispatcher.Delivery]{Items: []dispatcher.Delivery{{ID: "D1", Status: "failed"}}}),
		"PUT /v1/raw": func(w http.ResponseWriter, r *http.Request) {
			problem(w, 415, `{"type":"about:blank","title":"Unsupported Media Type","status":415,"detail":"want JSON"}`)
		},
		"GET /v1/releases": reply(200, client.Page[client.Release]{Items: []client.Release{{Release: dispatcher.Release{ID: "R1"}}}, NextCursor: "n"}),
	}}
	c := newClient(t, f)
	ctx := context.Background()
	check := func(what string, err error, wantReq, wantBody string) {
		t.Helper()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		got := f.lastReq.Method + " " + f.lastReq.URL.RequestURI()
		if got != wantReq || f.lastBody != wantBody {
			t.Errorf("%s sent %s %q, want %s %q", what, got, f.lastBody, wantReq, wantBody)
		}
	}
	l, err := c.CreateList(ctx, client.NewList{Name: "P", Kind: dispatcher.ListPress})
	check("CreateList", err, "POST /v1/lists", `{"name":"P","kind":"press"}`)
	if l.ID != "L1" {
		t.Errorf("list %+v", l)
	}
	at := time.Date(2026, 6, 1, 9, 0, 0, 0, time.FixedZone("", -6*3600))
	_, err = c.Send(ctx, "R1", at)
	check("Send at", err, "POST /v1/releases/R1/send", `{"at":"2026-06-01T09:00:00-06:00"}`)
	_, err = c.Send(ctx, "R1", time.Time{})
	check("Send now", err, "POST /v1/releases/R1/send", `{}`)
	n, err := c.Retry(ctx, "R1")
	check("Retry", err, "POST /v1/releases/R1/retry", "")
	if n != 5 {
		t.Errorf("Retry = %d, want 5", n)
	}
	p, err := c.Preview(ctx, "R1", dispatcher.ChannelTelegram, "en")
	check("Preview", err, "GET /v1/releases/R1/preview?channel=telegram&language=en", "")
	if len(p.Messages) != 2 {
		t.Errorf("preview %+v", p)
	}
	ds, err := c.Deliveries(ctx, "R1", client.DeliveryFilter{Status: dispatcher.DeliveryFailed, Channel: dispatcher.ChannelEmail}, client.PageQuery{Limit: 10, Cursor: "x"})
	check("Deliveries", err, "GET /v1/releases/R1/deliveries?channel=email&cursor=x&limit=10&status=failed", "")
	if len(ds.Items) != 1 || ds.Items[0].ID != "D1" {
		t.Errorf("deliveries %+v", ds)
	}
	rs, err := c.ListReleases(ctx, client.PageQuery{})
	check("ListReleases", err, "GET /v1/releases", "")
	if len(rs.Items) != 1 || rs.NextCursor != "n" {
		t.Errorf("releases %+v", rs)
	}
	err = c.Do(ctx, http.MethodPut, "/v1/raw", url.Values{"a": {"b"}}, "text/plain", []byte("x"), nil)
	if client.StatusOf(err) != 415 || f.lastReq.URL.RawQuery != "a=b" || f.lastBody != "x" || f.lastReq.Header.Get("Content-Type") != "text/plain" {
		t.Errorf("Do: err %v, sent %q %q as %q", err, f.lastReq.URL.RawQuery, f.lastBody, f.lastReq.Header.Get("Content-Type"))
	}
}
