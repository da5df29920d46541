package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/internal/smtptest"
)

// correctionFixture is a sent release: a press list of ana (es), bob (en)
// and gone (es, whose mailbox refuses mail for good), and the Telegram
// channels chats, each in Spanish.
type correctionFixture struct {
	s        *service
	list, id string
	title    string
}

func sentForCorrection(t *testing.T, s *service, body string, chats ...string) *correctionFixture {
	t.Helper()
	s.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if rcpt == "gone@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	f := &correctionFixture{s: s, title: "Comunidades denuncian concesiones en el Valle Alto"}
	var list, rel obj
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	f.list = list["id"].(string)
	s.post("/v1/lists/"+f.list+"/contacts", []obj{
		{"email": "ana@example.org", "language": "es"}, {"email": "bob@example.net", "language": "en"},
		{"email": "gone@example.org", "language": "es"}}, nil)
	var channels []string
	for _, chat := range chats {
		s.tg.AddChat(chat)
		var ch obj
		if code := s.post("/v1/telegram/channels", obj{"chat_id": chat, "language": "es"}, &ch); code != 201 {
			t.Fatalf("create channel: %d %v", code, ch)
		}
		channels = append(channels, ch["id"].(string))
	}
	code := s.post("/v1/releases", obj{
		"title": f.title, "body": body, "language": "es",
		"translations": []obj{{"language": "en", "title": "Communities denounce concessions", "body": statementEN}},
		"audiences":    obj{"lists": []string{f.list}, "telegram_channels": channels}, "send": true,
	}, &rel)
	if code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	f.id = rel["id"].(string)
	if rel = s.waitFinal(f.id); rel["status"] != "sent_with_failures" {
		t.Fatalf("release %v, want sent_with_failures (gone@ fails)", rel["status"])
	}
	return f
}

// waitCorrection waits until correction id of the fixture's release is
// final and returns it as GET /v1/releases/{id}/corrections lists it.
func (f *correctionFixture) waitCorrection(t *testing.T, id string) obj {
	t.Helper()
	f.s.waitFinal(id)
	var page obj
	if code, _ := f.s.do(f.s.admin, "GET", "/v1/releases/"+f.id+"/corrections", "", nil, &page); code != 200 {
		t.Fatalf("GET corrections: %d %v", code, page)
	}
	for _, it := range page["items"].([]any) {
		if c := it.(obj); c["id"] == id {
			return c
		}
	}
	t.Fatalf("correction %s not listed: %v", id, page)
	return nil
}

// mailsAfter returns the messages the SMTP server got after the first n,
// by recipient.
func mailsAfter(t *testing.T, srv *smtptest.Server, n int) map[string]parsedEmail {
	t.Helper()
	out := map[string]parsedEmail{}
	for _, m := range srv.Messages()[n:] {
		if _, dup := out[m.To[0]]; dup {
			t.Errorf("%s got two emails", m.To[0])
		}
		out[m.To[0]] = parseEmail(t, m.Data)
	}
	return out
}

// TestCorrectionEndToEnd: a correction of a sent release edits its Telegram
// post in place and mails only those whose email was sent, in their
// language; asked for twice, it is made once; its counts are its own.
func TestCorrectionEndToEnd(t *testing.T) {
	s := startService(t)

	// Before sending, a correction is refused: the release is edited instead.
	var draft, prob obj
	s.post("/v1/lists", obj{"name": "Otra", "kind": "press"}, &draft)
	s.post("/v1/releases", obj{"title": "Borrador", "body": "Texto.", "language": "es", "audiences": obj{"lists": []string{draft["id"].(string)}}}, &draft)
	if code := s.post("/v1/releases/"+draft["id"].(string)+"/corrections", obj{"note": "Cifra corregida.", "body": "Otro texto."}, &prob); code != 409 ||
		!strings.Contains(prob["detail"].(string), "edit it (PATCH) before sending") {
		t.Errorf("correction of a draft: %d %v, want 409", code, prob)
	}

	f := sentForCorrection(t, s, statementES, "@canal_prensa")
	before := s.tg.Messages("@canal_prensa")
	if len(before) < 2 {
		t.Fatalf("the statement went as %d Telegram messages, want at least 2", len(before))
	}
	mailed := len(s.smtp.Messages())
	if mailed != 2 {
		t.Fatalf("SMTP server got %d messages, want ana@ and bob@", mailed)
	}

	corrected := strings.Replace(statementES, "Valle Alto", "Valle Alto (corregido)", -1)
	if corrected == statementES {
		t.Fatal("the fixture has no “Valle Alto” to correct")
	}
	in := obj{"note": "El número de concesiones era tres, no cuatro.", "body": corrected}
	// Bad input changes nothing.
	if code := s.post("/v1/releases/"+f.id+"/corrections", obj{"body": corrected}, &prob); code != 400 {
		t.Errorf("correction without a note: %d %v, want 400", code, prob)
	}
	if code := s.post("/v1/releases/"+f.id+"/corrections", obj{"note": "Nada.", "body": statementES}, &prob); code != 400 {
		t.Errorf("correction that changes nothing: %d %v, want 400", code, prob)
	}
	var first, second obj
	if code := s.post("/v1/releases/"+f.id+"/corrections", in, &first); code != 202 {
		t.Fatalf("correction: %d %v, want 202", code, first)
	}
	if code := s.post("/v1/releases/"+f.id+"/corrections", in, &second); code != 200 || second["id"] != first["id"] {
		t.Fatalf("the same correction again: %d %v, want 200 with %v", code, second, first["id"])
	}
	cid := first["id"].(string)
	if first["release_id"] != f.id || first["version"] != 2.0 || first["retraction"] != false || first["note"] != in["note"] {
		t.Errorf("correction = %v", first)
	}
	c := f.waitCorrection(t, cid)
	counts := c["counts"].(obj)
	byCh := counts["by_channel"].(obj)
	if counts["total"] != 3.0 || byCh["email"].(obj)["sent"] != 2.0 || byCh["telegram"].(obj)["sent"] != 1.0 {
		t.Errorf("correction counts = %v, want 2 emails and 1 Telegram post sent, nothing else", counts)
	}

	// The release has the corrected text at version 2, and its own counts.
	var rel obj
	s.do(s.admin, "GET", "/v1/releases/"+f.id, "", nil, &rel)
	if rel["version"] != 2.0 || rel["body"] != corrected {
		t.Errorf("release after the correction: version %v, corrected body %v", rel["version"], rel["body"] == corrected)
	}
	if rc := rel["counts"].(obj); rc["total"] != 4.0 || rc["sent"] != 3.0 || rc["failed"] != 1.0 {
		t.Errorf("release counts = %v, want its own 3 sent and 1 failed", rc)
	}
	// The correction is no release of its own in the listings.
	for _, q := range []string{"", "?status=sent", "?status=draft", "?status=scheduled", "?status=sending"} {
		var page obj
		s.do(s.admin, "GET", "/v1/releases"+q, "", nil, &page)
		for _, it := range page["items"].([]any) {
			if it.(obj)["id"] == cid {
				t.Errorf("GET /v1/releases%s lists the correction", q)
			}
		}
	}

	// Email: ana (es) and bob (en) only; gone@, whose email failed, nothing.
	got := mailsAfter(t, s.smtp, mailed)
	if len(got) != 2 {
		t.Errorf("the correction was mailed to %d addresses, want 2 (ana@, bob@)", len(got))
	}
	for to, want := range map[string]string{
		"ana@example.org": "CORRECCIÓN: " + f.title,
		"bob@example.net": "CORRECTION: Communities denounce concessions",
	} {
		e, ok := got[to]
		if !ok {
			t.Errorf("%s got no correction", to)
			continue
		}
		if e.subject != want {
			t.Errorf("%s: subject %q, want %q", to, e.subject, want)
		}
		label := strings.SplitN(want, ":", 2)[0]
		if !strings.HasPrefix(e.text, label+": El número de concesiones") || !strings.Contains(e.html, "El número de concesiones era tres") {
			t.Errorf("%s: the note is not at the top:\n%.300s", to, e.text)
		}
	}
	if strings.Contains(got["ana@example.org"].text, "Valle Alto") && !strings.Contains(got["ana@example.org"].text, "(corregido)") {
		t.Error("ana@'s correction lacks the corrected text")
	}
	if _, ok := got["gone@example.org"]; ok {
		t.Error("gone@, whose email of the release failed, got the correction")
	}

	// Telegram: the same messages, each edited once, the first with the note.
	after := s.tg.Messages("@canal_prensa")
	if len(after) < len(before) {
		t.Fatalf("the chat has %d messages, had %d", len(after), len(before))
	}
	var all strings.Builder
	for i, m := range after[:len(before)] {
		if m.Edits != 1 {
			t.Errorf("message %d: %d edits, want 1", i+1, m.Edits)
		}
		all.WriteString(m.PlainText)
	}
	if !strings.HasPrefix(after[0].PlainText, "Corrección: El número de concesiones era tres") {
		t.Errorf("the first message does not start with the note: %.120q", after[0].PlainText)
	}
	if !strings.Contains(all.String(), "Valle Alto (corregido)") {
		t.Error("the edited post lacks the corrected text")
	}
	for _, m := range after[len(before):] {
		if m.ReplyTo != int64(len(before)) {
			t.Errorf("extra message %d replies to %d, want the post's last message %d", m.ID, m.ReplyTo, len(before))
		}
	}

	// The CLI lists it.
	out, errb, code := s.cli([]string{"release", "corrections", f.id})
	if code != 0 {
		t.Fatalf("release corrections exited %d: %s", code, errb)
	}
	if !strings.Contains(out, cid) || !strings.Contains(out, "correction") || !strings.Contains(out, "El número de concesiones") {
		t.Errorf("release corrections printed:\n%s", out)
	}
}

// TestCorrectionDeletedPostAndRetraction: where the post was deleted, the
// correction is a reply to it; a retraction edits the post to the
// withdrawal note and mails WITHDRAWN / RETIRADO; both from the CLI.
func TestCorrectionDeletedPostAndRetraction(t *testing.T) {
	s := startService(t)
	f := sentForCorrection(t, s, "Tres concesiones mineras se otorgaron sin consulta.", "@canal_a", "@canal_b")
	if n := len(s.tg.Messages("@canal_b")); n != 1 {
		t.Fatalf("@canal_b got %d messages, want 1", n)
	}
	s.tg.DeleteMessage("@canal_b", 1)
	mailed := len(s.smtp.Messages())

	cli := func(args ...string) string {
		t.Helper()
		out, errb, code := s.cli(args)
		if code != 0 {
			t.Fatalf("pregon %s exited %d: %s", strings.Join(args, " "), code, errb)
		}
		return strings.TrimSpace(out)
	}
	file := filepath.Join(t.TempDir(), "corregido.md")
	if err := os.WriteFile(file, []byte("---\ntitle: "+f.title+"\nlanguage: es\n---\n\nDos concesiones mineras se otorgaron sin consulta.\n"), 0o600); err != nil {
		t.Fatal(err)
	}
	cid := cli("release", "correct", f.id, "--note", "Eran dos concesiones, no tres.", "-f", file)
	if c := f.waitCorrection(t, cid); c["status"] != "sent" {
		t.Errorf("correction %v, want sent", c)
	}
	a := s.tg.Messages("@canal_a")
	if len(a) != 1 || a[0].Edits != 1 || !strings.Contains(a[0].PlainText, "Dos concesiones") || !strings.HasPrefix(a[0].PlainText, "Corrección: Eran dos") {
		t.Errorf("@canal_a: %+v, want its one message edited to the corrected text", a)
	}
	b := s.tg.Messages("@canal_b")
	// Telegram posts a reply to a deleted message as a plain message.
	if len(b) != 2 || b[1].PlainText != "Corrección: Eran dos concesiones, no tres." {
		t.Errorf("@canal_b: %+v, want a reply to the deleted post with the note", b)
	}
	mails := mailsAfter(t, s.smtp, mailed)
	if len(mails) != 2 {
		t.Errorf("the correction was mailed to %d addresses, want 2", len(mails))
	}
	mailed = len(s.smtp.Messages())

	// A retraction: the post says so, and no statement goes out.
	rid := cli("release", "correct", f.id, "--note", "Publicado por error.", "--retract")
	if c := f.waitCorrection(t, rid); c["retraction"] != true || c["version"] != 3.0 {
		t.Errorf("retraction %v, want version 3", c)
	}
	a = s.tg.Messages("@canal_a")
	if len(a) != 1 || a[0].Edits != 2 || !strings.HasPrefix(a[0].PlainText, "RETIRADO: Publicado por error.") || strings.Contains(a[0].PlainText, "concesiones mineras") {
		t.Errorf("@canal_a after the retraction: %+v", a)
	}
	if b = s.tg.Messages("@canal_b"); len(b) != 3 || !strings.HasPrefix(b[2].PlainText, "RETIRADO: Publicado por error.") {
		t.Errorf("@canal_b after the retraction: %+v", b)
	}
	mails = mailsAfter(t, s.smtp, mailed)
	for to, want := range map[string]string{"ana@example.org": "RETIRADO: ", "bob@example.net": "WITHDRAWN: "} {
		e := mails[to]
		if !strings.HasPrefix(e.subject, want) || strings.Contains(e.text, "concesiones mineras se otorgaron") || strings.Contains(e.text, "The communities") {
			t.Errorf("%s: subject %q, text:\n%s", to, e.subject, e.text)
		}
	}
	if out := cli("release", "corrections", f.id); strings.Count(out, "\n") != 2 || !strings.Contains(out, "retraction") {
		t.Errorf("release corrections printed:\n%s", out)
	}
}
