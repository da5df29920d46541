package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/telegramtest"
)

// unsubscribeLink matches an unsubscribe link of Pregón's (GET /u/{token}).
var unsubscribeLink = regexp.MustCompile(`https?://[^\s"'<>]+/u/[A-Za-z0-9_.~=-]+`)

// TestEndToEndTestSend sends tests of a draft release through the running
// service and checks that each address and chat got what the preview shows
// (the same subject, text and HTML, and the same Telegram messages), marked
// [TEST], that a refused address is reported failed, and that the release
// was left as it was: no deliveries, no counts, still a draft.
func TestEndToEndTestSend(t *testing.T) {
	s := startService(t)
	s.smtp.SetHandler(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == "gone@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	s.tg.AddChat("@canal_pruebas")
	var list, rel obj
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	s.post("/v1/lists/"+list["id"].(string)+"/contacts", []obj{{"email": "ana@example.org", "language": "es"}}, nil)
	code := s.post("/v1/releases", obj{
		"title": "Comunidades denuncian concesiones “exprés”", "summary": "Tres concesiones sin consulta.", "body": statementES, "language": "es",
		"translations": []obj{{"language": "en", "title": "Communities denounce “fast-track” concessions", "body": statementEN}},
		"contact":      obj{"name": "Lucía Pérez", "email": "lucia@coalicion.example", "phone": "+52 55 5555 0000"},
		"source_url":   "https://coalicion.example/comunicados/valle-alto",
		"audiences":    obj{"lists": []string{list["id"].(string)}},
	}, &rel)
	if code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)

	// In English, through the API.
	var test obj
	status, h := s.do(s.admin, "POST", "/v1/releases/"+id+"/test", "application/json",
		obj{"emails": []string{"Tester@Example.org", "gone@example.org"}, "telegram_chat_ids": []string{"@Canal_Pruebas"}, "language": "en"}, &test)
	if status != 202 {
		t.Fatalf("test send: %d %v", status, test)
	}
	tid, _ := test["id"].(string)
	if test["status"] != "pending" || test["language"] != "en" || test["version"] != 1.0 || h.Get("Location") != "/v1/releases/"+id+"/tests/"+tid {
		t.Errorf("202 body %v, Location %q; want a pending test in en of version 1 and its address", test, h.Get("Location"))
	}
	test = s.waitTest(id, tid)
	want := map[string]string{"email tester@example.org": "sent", "email gone@example.org": "failed", "telegram @canal_pruebas": "sent"}
	got := map[string]string{}
	for _, it := range test["results"].([]any) {
		r := it.(obj)
		got[r["channel"].(string)+" "+r["recipient"].(string)] = r["status"].(string)
		if r["status"] == "failed" && !strings.Contains(r["error"].(string), "550") {
			t.Errorf("failed result %v lacks the server's 550 reply", r)
		}
		if r["status"] == "sent" && len(r["message_ids"].([]any)) == 0 {
			t.Errorf("sent result %v has no message ids", r)
		}
	}
	if len(got) != len(want) || got["email tester@example.org"] != "sent" || got["email gone@example.org"] != "failed" || got["telegram @canal_pruebas"] != "sent" {
		t.Errorf("results %v, want %v", got, want)
	}

	var preview obj
	if code, _ := s.do(s.admin, "GET", "/v1/releases/"+id+"/preview?channel=email&language=en", "", nil, &preview); code != 200 {
		t.Fatalf("preview: %d %v", code, preview)
	}
	msgs := s.smtp.Messages()
	if len(msgs) != 1 || len(msgs[0].To) != 1 || msgs[0].To[0] != "tester@example.org" {
		t.Fatalf("SMTP server got %d messages (%v), want one to tester@example.org", len(msgs), msgs)
	}
	checkTestEmail(t, msgs[0], preview)

	var tgPreview obj
	s.do(s.admin, "GET", "/v1/releases/"+id+"/preview?channel=telegram&language=en", "", nil, &tgPreview)
	checkTestPost(t, s.tg.Messages("@canal_pruebas"), tgPreview)

	// In the release's own language (whose post is split in several
	// messages), through the CLI; a failed recipient fails the command.
	s.smtp.SetHandler(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == "gone@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	s.tg.AddChat("@otro_canal")
	var out, errb bytes.Buffer
	env := map[string]string{"PREGON_API_URL": s.url, "PREGON_TOKEN": s.admin}
	exit := run(context.Background(), []string{"release", "test", id, "--email", "prensa@example.org", "--email", "gone@example.org", "--telegram", "@otro_canal"},
		&out, &errb, func(k string) string { return env[k] })
	if exit != 1 || !strings.Contains(errb.String(), "1 of 3 recipients failed") {
		t.Errorf("release test exited %d, stderr %q; want 1 and the failure counted", exit, errb.String())
	}
	for _, line := range []string{"prensa@example.org", "gone@example.org", "@otro_canal"} {
		if !regexp.MustCompile(regexp.QuoteMeta(line) + `\s+\S+\s+(sent|failed)`).MatchString(out.String()) {
			t.Errorf("release test output lacks a result for %s:\n%s", line, out.String())
		}
	}
	if !regexp.MustCompile(`gone@example.org\s+email\s+failed\s+.*550`).MatchString(out.String()) {
		t.Errorf("release test output does not show gone@ failed with the 550 reply:\n%s", out.String())
	}
	s.do(s.admin, "GET", "/v1/releases/"+id+"/preview?channel=email", "", nil, &preview)
	var esMail *smtptest.Message
	for _, m := range s.smtp.Messages() {
		if m.To[0] == "prensa@example.org" {
			esMail = &m
		}
	}
	if esMail == nil {
		t.Fatal("prensa@example.org got no test email")
	}
	checkTestEmail(t, *esMail, preview)
	s.do(s.admin, "GET", "/v1/releases/"+id+"/preview?channel=telegram", "", nil, &tgPreview)
	if n := len(tgPreview["messages"].([]any)); n < 2 {
		t.Fatalf("the Spanish post is %d message(s); the test wants one split in several", n)
	}
	checkTestPost(t, s.tg.Messages("@otro_canal"), tgPreview)

	// Nothing changed on the release.
	var after obj
	s.do(s.admin, "GET", "/v1/releases/"+id, "", nil, &after)
	if after["status"] != "draft" || after["version"] != 1.0 || after["counts"].(obj)["total"] != 0.0 {
		t.Errorf("after test sends the release is %v, version %v, counts %v; want a draft of version 1 with no counts",
			after["status"], after["version"], after["counts"])
	}
	var page obj
	s.do(s.admin, "GET", "/v1/releases/"+id+"/deliveries", "", nil, &page)
	if n := len(page["items"].([]any)); n != 0 {
		t.Errorf("the release has %d deliveries after test sends, want 0", n)
	}
	if n := len(s.tg.Messages("@canal_pruebas")) + len(s.tg.Messages("@otro_canal")); int64(n) != s.tg.Total() {
		t.Errorf("Telegram got %d messages in all, %d of them in the test chats", s.tg.Total(), n)
	}
}

// waitTest polls a test send until it is no longer pending.
func (s *service) waitTest(rid, tid string) obj {
	s.t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var test obj
		if code, _ := s.do(s.admin, "GET", "/v1/releases/"+rid+"/tests/"+tid, "", nil, &test); code != 200 {
			s.t.Fatalf("get test: %d %v", code, test)
		}
		if test["status"] != "pending" {
			return test
		}
		if time.Now().After(deadline) {
			s.t.Fatalf("test send still pending: %v", test)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkTestEmail checks that a test email is the email preview, but for the
// "[TEST] " in front of its subject and the unsubscribe link, which is its
// recipient's own (the one in its List-Unsubscribe header).
func checkTestEmail(t *testing.T, m smtptest.Message, preview obj) {
	t.Helper()
	e := parseEmail(t, m.Data)
	if want := "[TEST] " + preview["subject"].(string); e.subject != want {
		t.Errorf("%s: subject %q, want %q", m.To[0], e.subject, want)
	}
	own := unsubscribeLink.FindString(e.header.Get("List-Unsubscribe"))
	if own == "" {
		t.Fatalf("%s: no unsubscribe link in List-Unsubscribe %q", m.To[0], e.header.Get("List-Unsubscribe"))
	}
	for _, part := range []struct{ name, got, want string }{
		{"text", e.text, preview["text"].(string)},
		{"html", e.html, preview["html"].(string)},
	} {
		got := strings.ReplaceAll(part.got, "\r\n", "\n")
		if !strings.Contains(got, own) {
			t.Errorf("%s: the %s part lacks the recipient's own unsubscribe link", m.To[0], part.name)
		}
		got = unsubscribeLink.ReplaceAllString(got, "LINK")
		want := unsubscribeLink.ReplaceAllString(strings.ReplaceAll(part.want, "\r\n", "\n"), "LINK")
		if !strings.Contains(want, "LINK") {
			t.Errorf("the %s preview has no unsubscribe link to compare", part.name)
		}
		if got != want {
			t.Errorf("%s: the %s part differs from the preview:\ngot:\n%s\nwant:\n%s", m.To[0], part.name, got, want)
		}
	}
	if e.header.Get("Reply-To") == "" || e.header.Get("Message-Id") == "" {
		t.Errorf("%s: Reply-To %q, Message-Id %q: want both, as in a real delivery", m.To[0], e.header.Get("Reply-To"), e.header.Get("Message-Id"))
	}
}

// checkTestPost checks that a test post is the Telegram preview with a
// "[TEST]" line in front: on its own, or at the start of the first message.
func checkTestPost(t *testing.T, got []telegramtest.Message, preview obj) {
	t.Helper()
	var want []string
	for _, m := range preview["messages"].([]any) {
		want = append(want, m.(string))
	}
	var texts []string
	for _, m := range got {
		texts = append(texts, m.Text)
	}
	if len(texts) == 0 || !strings.HasPrefix(got[0].PlainText, "[TEST]") {
		t.Fatalf("test post %q does not start with [TEST]", texts)
	}
	if texts[0] == "<b>[TEST]</b>" {
		texts = texts[1:]
	} else {
		texts[0] = strings.TrimPrefix(texts[0], "<b>[TEST]</b>\n")
	}
	if strings.Join(texts, "\n---\n") != strings.Join(want, "\n---\n") {
		t.Errorf("test post, [TEST] line taken off, differs from the preview:\ngot  %q\nwant %q", texts, want)
	}
}

// TestEndToEndTestSendEarlyCopy: a test send of a release with an embargo
// and early lists can send the early copy ("copy": "early"): the real SMTP
// server gets the embargoed email, "[TEST] EMBARGOED UNTIL ...", exactly as
// the early copy's preview shows it; the default stays the public copy.
// The early copy goes to no Telegram chat, and a release without early
// lists has none.
func TestEndToEndTestSendEarlyCopy(t *testing.T) {
	s := startService(t)
	var list, rel, plain obj
	s.post("/v1/lists", obj{"name": "Agencias", "kind": "press"}, &list)
	lid := list["id"].(string)
	s.post("/v1/lists/"+lid+"/contacts", []obj{{"email": "agencia@example.org", "language": "en"}}, nil)
	embargo := time.Now().Add(48 * time.Hour).UTC().Format(time.RFC3339)
	if code := s.post("/v1/releases", obj{"title": "Communities halt the dredging", "body": statementEN, "language": "en",
		"embargo_until": embargo, "timezone": "America/Mexico_City", "contact": obj{"name": "Lucía Pérez", "email": "lucia@coalicion.example"},
		"audiences": obj{"early_lists": []string{lid}}}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)

	var bad obj
	if code, _ := s.do(s.admin, "POST", "/v1/releases/"+id+"/test", "application/json",
		obj{"emails": []string{"tester@example.org"}, "telegram_chat_ids": []string{"@canal_pruebas"}, "copy": "early"}, &bad); code != 400 {
		t.Errorf("early copy to a Telegram chat: %d %v, want 400", code, bad)
	}
	var test obj
	if code, _ := s.do(s.admin, "POST", "/v1/releases/"+id+"/test", "application/json",
		obj{"emails": []string{"tester@example.org"}, "copy": "early"}, &test); code != 202 || test["copy"] != "early" {
		t.Fatalf("test send of the early copy: %d %v", code, test)
	}
	if got := s.waitTest(id, test["id"].(string)); got["status"] != "done" || got["results"].([]any)[0].(obj)["status"] != "sent" {
		t.Fatalf("test send: %v", got)
	}
	var preview obj
	if code, _ := s.do(s.admin, "GET", "/v1/releases/"+id+"/preview?channel=email&copy=early", "", nil, &preview); code != 200 {
		t.Fatalf("preview of the early copy: %d %v", code, preview)
	}
	msgs := s.smtp.Messages()
	if len(msgs) != 1 {
		t.Fatalf("SMTP server got %d messages, want 1", len(msgs))
	}
	checkTestEmail(t, msgs[0], preview)
	if subj := parseEmail(t, msgs[0].Data).subject; !strings.HasPrefix(subj, "[TEST] EMBARGOED UNTIL ") || !strings.Contains(subj, "(America/Mexico_City)") {
		t.Errorf("early test subject %q, want [TEST] EMBARGOED UNTIL … (America/Mexico_City)", subj)
	}

	// The default is the public copy: no embargo line.
	if code, _ := s.do(s.admin, "POST", "/v1/releases/"+id+"/test", "application/json", obj{"emails": []string{"otro@example.org"}}, &test); code != 202 {
		t.Fatalf("test send: %d %v", code, test)
	}
	s.waitTest(id, test["id"].(string))
	for _, m := range s.smtp.Messages() {
		if subj := parseEmail(t, m.Data).subject; m.To[0] == "otro@example.org" && subj != "[TEST] Communities halt the dredging" {
			t.Errorf("public test subject %q, want the plain one", subj)
		}
	}

	s.post("/v1/releases", obj{"title": "Sin embargo", "body": "Texto.", "language": "es", "audiences": obj{"lists": []string{lid}}}, &plain)
	if code, _ := s.do(s.admin, "POST", "/v1/releases/"+plain["id"].(string)+"/test", "application/json",
		obj{"emails": []string{"tester@example.org"}, "copy": "early"}, &bad); code != 409 {
		t.Errorf("early copy of a release without early lists: %d %v, want 409", code, bad)
	}
}
