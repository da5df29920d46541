package main

import (
	"bytes"
	"context"
	_ "embed"
	"fmt"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	"net/http"
	"net/mail"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/telegramtest"
	"github.com/pregon/pregon/internal/testkit"
)

//go:embed testdata/statement_es.md
var statementES string

//go:embed testdata/statement_en.md
var statementEN string

const e2eBotToken = "424242:E2E-TOKEN"

// service is a running `pregon serve` with its real surroundings.
type service struct {
	t     *testing.T
	url   string
	smtp  *smtptest.Server
	tg    *telegramtest.Server
	env   map[string]string
	admin string
	redis *redistest.Server
}

// cli runs the pregon command line with args against s as its admin
// (PREGON_API_URL and PREGON_TOKEN, nothing else set) and returns what it
// printed and its exit code.
func (s *service) cli(args []string) (stdout, stderr string, code int) {
	var out, errb bytes.Buffer
	env := func(k string) string {
		switch k {
		case "PREGON_API_URL":
			return s.url
		case "PREGON_TOKEN":
			return s.admin
		}
		return ""
	}
	code = run(context.Background(), args, &out, &errb, env)
	return out.String(), errb.String(), code
}

// startService starts `pregon serve`; opts may change s (its env) first.
func startService(t *testing.T, opts ...func(s *service)) *service {
	t.Helper()
	rs := redistest.Start(t)
	s := &service{t: t, smtp: smtptest.Start(t), tg: telegramtest.Start(t, e2eBotToken), redis: rs}
	addr := testkit.FreeAddr(t)
	s.url = "http://" + addr
	s.env = map[string]string{
		"PREGON_REDIS_URL":        rs.URL(),
		"PREGON_HTTP_ADDR":        addr,
		"PREGON_SMTP_URL":         "smtp://" + s.smtp.Addr + "?tls=none",
		"PREGON_FROM":             "Coalición por el Territorio <prensa@coalicion.example>",
		"PREGON_TELEGRAM_TOKEN":   e2eBotToken,
		"PREGON_TELEGRAM_API_URL": s.tg.URL(),
		"PREGON_OUTBOX_DIR":       t.TempDir(),
		"PREGON_RETRY_BASE":       "100ms",
		"PREGON_MAX_ATTEMPTS":     "4",
		"PREGON_CONCURRENCY":      "4",
		"PREGON_LOG_LEVEL":        "info",
	}
	for _, o := range opts {
		o(s)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan int, 1)
	logs := &testkit.Buffer{}
	go func() { done <- run(ctx, []string{"serve"}, io.Discard, logs, s.getenv) }()
	t.Cleanup(func() {
		cancel()
		defer func() {
			if t.Failed() {
				t.Logf("pregon's log:\n%s", logs)
			}
		}()
		select {
		case code := <-done:
			if code != 0 {
				t.Errorf("pregon serve exited %d", code)
			}
		case <-time.After(30 * time.Second):
			t.Errorf("pregon serve did not stop")
		}
	})
	testkit.WaitFor(t, "pregon serve to be ready", 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		select {
		case code := <-done:
			t.Fatalf("pregon serve exited %d before it was ready", code)
		default:
		}
		resp, err := http.Get(s.url + "/readyz")
		if err != nil {
			return false, err.Error()
		}
		resp.Body.Close()
		return resp.StatusCode == 200, resp.Status
	})
	s.admin = s.token("admin")
	return s
}

func (s *service) getenv(k string) string { return s.env[k] }

// token creates a token with the CLI, as an operator would.
func (s *service) token(role string) string {
	s.t.Helper()
	var out, errb bytes.Buffer
	if code := run(context.Background(), []string{"token", "create", "--name", "e2e-" + role, "--role", role}, &out, &errb, s.getenv); code != 0 {
		s.t.Fatalf("token create exited %d: %s", code, errb.String())
	}
	tok := strings.TrimSpace(out.String())
	if tok == "" || strings.Contains(tok, "\n") {
		s.t.Fatalf("token create printed %q, want the token alone", out.String())
	}
	return tok
}

// do sends a request and decodes the JSON answer into out (when not nil).
func (s *service) do(token, method, path, ctype string, body any, out any) (int, http.Header) {
	s.t.Helper()
	resp := testkit.Do(s.t, testkit.Request{Method: method, URL: s.url + path, Token: token, Body: body, ContentType: ctype})
	if out != nil && len(resp.Body) > 0 {
		resp.Decode(s.t, out)
	}
	return resp.Status, resp.Header
}

func (s *service) post(path string, body, out any) int {
	s.t.Helper()
	code, _ := s.do(s.admin, "POST", path, "application/json", body, out)
	return code
}

type obj = map[string]any

// TestEndToEnd drives the running service only through its HTTP API, as a
// coordinator would, and checks what the SMTP server and the Telegram API got.
func TestEndToEnd(t *testing.T) {
	s := startService(t)

	var press, subs obj
	if code := s.post("/v1/lists", obj{"name": "Prensa MX", "kind": "press"}, &press); code != 201 {
		t.Fatalf("create list: %d %v", code, press)
	}
	if code := s.post("/v1/lists", obj{"name": "Suscriptores", "kind": "subscribers"}, &subs); code != 201 {
		t.Fatalf("create list: %d %v", code, subs)
	}
	var rep obj
	contacts := []obj{
		{"email": "Ana.Lopez@Example.org", "name": "Ana López", "outlet": "La Jornada", "language": "es"},
		{"email": "bob@example.net", "name": "Bob Reporter", "outlet": "The Wire", "language": "en"},
		{"email": "carla@example.org", "name": "Carla Núñez", "language": "es"},
	}
	if code := s.post("/v1/lists/"+press["id"].(string)+"/contacts", contacts, &rep); code != 200 || rep["added"] != 3.0 {
		t.Fatalf("import JSON: %d %v", code, rep)
	}
	csv := "email,name,outlet,language,tags\n" +
		"ana.lopez@example.org,Ana López,La Jornada,es,minería\n" + // also on the press list
		"not-an-address,Nadie,,es,\n" +
		"dan@example.org,Dan,,en,\n"
	code, _ := s.do(s.admin, "POST", "/v1/lists/"+subs["id"].(string)+"/contacts", "text/csv", csv, &rep)
	if code != 200 || rep["added"] != 2.0 {
		t.Fatalf("import CSV: %d %v", code, rep)
	}
	errs, _ := rep["errors"].([]any)
	if len(errs) != 1 || errs[0].(obj)["row"] != 3.0 || errs[0].(obj)["email"] != "not-an-address" {
		t.Errorf("CSV errors = %v, want row 3 not-an-address", rep["errors"])
	}
	s.tg.AddChat("@canal_prensa")
	var channel obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_prensa", "title": "Canal", "language": "es"}, &channel); code != 201 {
		t.Fatalf("create channel: %d %v", code, channel)
	}

	title := "Comunidades denuncian concesiones “exprés” en el Valle Alto"
	var rel obj
	code = s.post("/v1/releases", obj{
		"title": title, "summary": "Tres concesiones mineras sin consulta previa.", "body": statementES, "language": "es",
		"translations": []obj{{"language": "en", "title": "Communities denounce “fast-track” concessions", "body": statementEN}},
		"contact":      obj{"name": "Lucía Pérez", "email": "lucia@coalicion.example", "phone": "+52 55 5555 0000"},
		"source_url":   "https://coalicion.example/comunicados/valle-alto",
		"audiences":    obj{"lists": []string{press["id"].(string), subs["id"].(string)}, "telegram_channels": []string{channel["id"].(string)}},
		"send":         true,
	}, &rel)
	if code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	// A second send while it is going out answers 202 and sends nothing again.
	var again obj
	if code := s.post("/v1/releases/"+id+"/send", nil, &again); code != 202 {
		t.Fatalf("second send: %d %v", code, again)
	}

	rel = s.waitFinal(id)
	if rel["status"] != "sent" {
		t.Fatalf("release status = %v, counts %v", rel["status"], rel["counts"])
	}
	counts := rel["counts"].(obj)
	if counts["total"] != 5.0 || counts["sent"] != 5.0 {
		t.Errorf("counts = %v, want 5 sent of 5", counts)
	}
	if byCh := counts["by_channel"].(obj); byCh["email"].(obj)["sent"] != 4.0 || byCh["telegram"].(obj)["sent"] != 1.0 {
		t.Errorf("by_channel = %v, want 4 email and 1 telegram", byCh)
	}

	// The SMTP server got one email per person, in their language.
	msgs := s.smtp.WaitFor(t, 4, 10*time.Second)
	if len(msgs) != 4 {
		t.Fatalf("SMTP server got %d messages, want 4", len(msgs))
	}
	seen := map[string]bool{}
	for _, m := range msgs {
		if len(m.To) != 1 {
			t.Fatalf("message to %v: want exactly one recipient", m.To)
		}
		to := m.To[0]
		if seen[to] {
			t.Errorf("%s got two emails", to)
		}
		seen[to] = true
		e := parseEmail(t, m.Data)
		wantSubject, wantText := title, "Las comunidades agrupadas"
		if to == "bob@example.net" || to == "dan@example.org" {
			wantSubject, wantText = "Communities denounce “fast-track” concessions", "The communities of the Upper Valley"
		}
		if e.subject != wantSubject {
			t.Errorf("%s: subject %q, want %q", to, e.subject, wantSubject)
		}
		if !strings.Contains(e.text, wantText) || !strings.Contains(e.html, wantText) {
			t.Errorf("%s: body lacks %q", to, wantText)
		}
		if e.header.Get("Reply-To") == "" || !strings.Contains(e.header.Get("Reply-To"), "lucia@coalicion.example") {
			t.Errorf("%s: Reply-To = %q", to, e.header.Get("Reply-To"))
		}
		if e.header.Get("Cc") != "" || e.header.Get("Bcc") != "" {
			t.Errorf("%s: has Cc/Bcc", to)
		}
		if tos, _ := e.header.AddressList("To"); len(tos) != 1 || !strings.EqualFold(tos[0].Address, to) {
			t.Errorf("To header = %v, want %s alone", e.header.Get("To"), to)
		}
	}
	for _, want := range []string{"ana.lopez@example.org", "bob@example.net", "carla@example.org", "dan@example.org"} {
		if !seen[want] {
			t.Errorf("%s got no email", want)
		}
	}

	// The statement is longer than one Telegram message: it went as several,
	// each accepted by the fake (which enforces Telegram's limits).
	posts := s.tg.Messages("@canal_prensa")
	if len(posts) < 2 {
		t.Fatalf("telegram got %d messages, want the statement split into at least 2", len(posts))
	}
	var all strings.Builder
	for _, p := range posts {
		all.WriteString(p.PlainText)
	}
	for _, frag := range []string{"Valle Alto", "«No estamos en contra del desarrollo", "Asamblea de Jóvenes por el Territorio", "Lucía Pérez"} {
		if !strings.Contains(all.String(), frag) {
			t.Errorf("telegram posts lack %q", frag)
		}
	}

	// The deliveries API tells the same story.
	var page obj
	if code, _ := s.do(s.admin, "GET", "/v1/releases/"+id+"/deliveries?limit=2", "", nil, &page); code != 200 {
		t.Fatalf("deliveries: %d", code)
	}
	items := page["items"].([]any)
	got := len(items)
	for next, _ := page["next_cursor"].(string); next != ""; next, _ = page["next_cursor"].(string) {
		page = nil
		s.do(s.admin, "GET", "/v1/releases/"+id+"/deliveries?limit=2&cursor="+next, "", nil, &page)
		items = append(items, page["items"].([]any)...)
		got += len(page["items"].([]any))
	}
	if got != 5 {
		t.Fatalf("deliveries listed %d, want 5", got)
	}
	for _, it := range items {
		d := it.(obj)
		if d["status"] != "sent" || d["attempts"] != 1.0 || len(d["message_ids"].([]any)) == 0 {
			t.Errorf("delivery %v: want sent after 1 attempt with message ids", d)
		}
		if d["channel"] == "telegram" && len(d["message_ids"].([]any)) != len(posts) {
			t.Errorf("telegram delivery records %d ids for %d posts", len(d["message_ids"].([]any)), len(posts))
		}
	}
	var failed obj
	s.do(s.admin, "GET", "/v1/releases/"+id+"/deliveries?status=failed", "", nil, &failed)
	if n := len(failed["items"].([]any)); n != 0 {
		t.Errorf("%d failed deliveries listed, want 0", n)
	}
}

// TestEndToEndFailuresAndRetry shows a permanent failure recorded with the
// server's reply, a transient one retried to success, and the coordinator's
// retry of failed deliveries.
func TestEndToEndFailuresAndRetry(t *testing.T) {
	s := startService(t)
	var rejectGone atomic.Bool
	rejectGone.Store(true)
	s.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		switch {
		case rcpt == "slow@example.org" && attempt <= 2:
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again"}
		case rcpt == "gone@example.org" && rejectGone.Load():
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "refused by policy"}
		}
		return nil
	})
	var list, rel obj
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	s.post("/v1/lists/"+list["id"].(string)+"/contacts", []obj{{"email": "slow@example.org"}, {"email": "gone@example.org"}, {"email": "fine@example.org"}}, nil)
	if code := s.post("/v1/releases", obj{"title": "Aviso", "body": "Texto.", "language": "es", "audiences": obj{"lists": []string{list["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	rel = s.waitFinal(id)
	if rel["status"] != "sent_with_failures" {
		t.Fatalf("status = %v, want sent_with_failures", rel["status"])
	}
	var failed obj
	s.do(s.admin, "GET", "/v1/releases/"+id+"/deliveries?status=failed&channel=email", "", nil, &failed)
	items := failed["items"].([]any)
	if len(items) != 1 {
		t.Fatalf("failed deliveries = %v, want gone@ alone", items)
	}
	d := items[0].(obj)
	if d["recipient"] != "gone@example.org" || !strings.Contains(d["last_error"].(string), "550") || !strings.Contains(d["last_error"].(string), "refused by policy") || d["attempts"] != 1.0 {
		t.Errorf("failed delivery = %v, want gone@ after 1 attempt with the 550 reply", d)
	}
	var all obj
	s.do(s.admin, "GET", "/v1/releases/"+id+"/deliveries", "", nil, &all)
	for _, it := range all["items"].([]any) {
		d := it.(obj)
		if d["recipient"] == "slow@example.org" && (d["status"] != "sent" || d["attempts"] != 3.0) {
			t.Errorf("slow@: %v, want sent after 3 attempts", d)
		}
	}

	// The mailbox is fixed; the coordinator retries the failed deliveries.
	rejectGone.Store(false)
	var rr obj
	if code := s.post("/v1/releases/"+id+"/retry", nil, &rr); code != 202 || rr["requeued"] != 1.0 {
		t.Fatalf("retry: %d %v", code, rr)
	}
	rel = s.waitFinal(id)
	if rel["status"] != "sent" || rel["counts"].(obj)["sent"] != 3.0 {
		t.Fatalf("after retry: %v %v", rel["status"], rel["counts"])
	}
	got := map[string]int{}
	for _, m := range s.smtp.Messages() {
		got[m.To[0]]++
	}
	if got["fine@example.org"] != 1 || got["slow@example.org"] != 1 || got["gone@example.org"] != 1 {
		t.Errorf("emails received per address = %v, want one each", got)
	}
}

// TestEndToEndBadInput checks that bad requests get the right status and a
// problem+json body, and leave nothing behind.
func TestEndToEndBadInput(t *testing.T) {
	s := startService(t)
	viewer := s.token("viewer")
	var list obj
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	lid := list["id"].(string)
	good := obj{"title": "T", "body": "B", "language": "es", "audiences": obj{"lists": []string{lid}}}
	with := func(k string, v any) obj {
		o := obj{}
		for kk, vv := range good {
			o[kk] = vv
		}
		if v == nil {
			delete(o, k)
		} else {
			o[k] = v
		}
		return o
	}
	cases := []struct {
		name   string
		token  string
		method string
		path   string
		body   any
		status int
		field  string
	}{
		{"malformed JSON", s.admin, "POST", "/v1/releases", `{"title": "T", "body": `, 400, ""},
		{"missing title", s.admin, "POST", "/v1/releases", with("title", nil), 400, "title"},
		{"unknown list", s.admin, "POST", "/v1/releases", with("audiences", obj{"lists": []string{"lst_00000000000000000000000000"}}), 400, "audiences.lists[0]"},
		{"no audience, to send", s.admin, "POST", "/v1/releases", obj{"title": "T", "body": "B", "language": "es", "audiences": obj{}, "send": true}, 400, "audiences"},
		{"no text, to send", s.admin, "POST", "/v1/releases", obj{"title": "T", "language": "es", "audiences": obj{"lists": []string{lid}}, "send": true}, 400, "body"},
		{"no token", "", "POST", "/v1/releases", good, 401, ""},
		{"bad token", "pgn_nope", "GET", "/v1/releases", nil, 401, ""},
		{"viewer may not write", viewer, "POST", "/v1/releases", good, 403, ""},
		{"unknown release", s.admin, "GET", "/v1/releases/rel_00000000000000000000000000", nil, 404, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var p obj
			code, h := s.do(tc.token, tc.method, tc.path, "application/json", tc.body, &p)
			if code != tc.status {
				t.Fatalf("status %d, want %d (%v)", code, tc.status, p)
			}
			if ct, _, _ := mime.ParseMediaType(h.Get("Content-Type")); ct != "application/problem+json" {
				t.Errorf("Content-Type %q, want application/problem+json", h.Get("Content-Type"))
			}
			if p["status"] != float64(tc.status) || p["title"] == "" {
				t.Errorf("problem = %v", p)
			}
			if tc.field != "" {
				found := false
				errs, _ := p["errors"].([]any)
				for _, e := range errs {
					if e.(obj)["field"] == tc.field {
						found = true
					}
				}
				if !found {
					t.Errorf("errors %v lack field %q", p["errors"], tc.field)
				}
			}
		})
	}
	var page obj
	s.do(viewer, "GET", "/v1/releases", "", nil, &page)
	if n := len(page["items"].([]any)); n != 0 {
		t.Errorf("%d releases exist after only bad requests, want 0", n)
	}
	// A CSV with bad rows imports the good ones and reports each bad one.
	var rep obj
	csv := "email,name\nok1@example.org,Uno\nbad@,Dos\nok2@example.org,Tres\n,Cuatro\nalso bad,Cinco\n"
	code, _ := s.do(s.admin, "POST", "/v1/lists/"+lid+"/contacts", "text/csv", csv, &rep)
	if code != 200 || rep["added"] != 2.0 || len(rep["errors"].([]any)) != 3 {
		t.Fatalf("import: %d %v; want 2 added and 3 errors", code, rep)
	}
	var rows []float64
	for _, e := range rep["errors"].([]any) {
		rows = append(rows, e.(obj)["row"].(float64))
	}
	if fmt.Sprint(rows) != "[3 5 6]" {
		t.Errorf("error rows = %v, want [3 5 6]", rows)
	}
}

func (s *service) waitFinal(id string) obj {
	s.t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		var rel obj
		if code, _ := s.do(s.admin, "GET", "/v1/releases/"+id, "", nil, &rel); code != 200 {
			s.t.Fatalf("get release: %d %v", code, rel)
		}
		switch rel["status"] {
		case "sent", "sent_with_failures", "cancelled":
			return rel
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("release still %v: %v", rel["status"], rel["counts"])
		}
		time.Sleep(50 * time.Millisecond)
	}
}

type parsedEmail struct {
	header     mail.Header
	subject    string
	text, html string
}

func parseEmail(t *testing.T, data []byte) parsedEmail {
	t.Helper()
	m, err := mail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatalf("parse message: %v", err)
	}
	var e parsedEmail
	e.header = m.Header
	dec := new(mime.WordDecoder)
	if e.subject, err = dec.DecodeHeader(m.Header.Get("Subject")); err != nil {
		t.Fatalf("decode subject: %v", err)
	}
	mt, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("Content-Type %q, want multipart/alternative", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var r io.Reader = p
		if p.Header.Get("Content-Transfer-Encoding") == "quoted-printable" {
			r = quotedprintable.NewReader(p)
		}
		b, _ := io.ReadAll(r)
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		switch ct {
		case "text/plain":
			e.text = string(b)
		case "text/html":
			e.html = string(b)
		}
	}
	if e.text == "" || e.html == "" {
		t.Fatalf("message lacks a text or html part")
	}
	return e
}
