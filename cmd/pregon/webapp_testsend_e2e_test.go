package main

import (
	"context"
	"fmt"
	"html"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/internal/testkit"
)

// holdSMTP makes the SMTP server keep the email to rcpt waiting at RCPT TO
// until the returned function is called (at the latest when the test
// ends), so that a test delivery to it is pending for as long as a test
// needs to look at it.
func (s *service) holdSMTP(rcpt string) (release func()) {
	held := make(chan struct{})
	var once sync.Once
	release = func() { once.Do(func() { close(held) }) }
	s.t.Cleanup(release)
	s.smtp.SetHandler(func(to string, _ int) *smtp.SMTPError {
		if to == rcpt {
			<-held
		}
		return nil
	})
	return release
}

// testKeys counts the test sends stored in Redis.
func (s *service) testKeys() int {
	s.t.Helper()
	keys, err := s.redis.Client(s.t).Keys(context.Background(), "pregon:test:*").Result()
	if err != nil {
		s.t.Fatal(err)
	}
	return len(keys)
}

// auditActions are the actions the audit log holds about a release.
func (s *service) auditActions(rid string) []string {
	s.t.Helper()
	var p struct {
		Items []struct{ Action string }
	}
	if code, _ := s.do(s.admin, "GET", "/v1/audit?release="+rid, "", nil, &p); code != 200 {
		s.t.Fatalf("audit: %d", code)
	}
	var out []string
	for _, e := range p.Items {
		out = append(out, e.Action)
	}
	return out
}

// TestWebAppTestSendForm sends tests from the release page without
// JavaScript, as a new press officer would: a bad address or chat among the
// lines brings the form back with what she typed and, beside the field,
// the bad line named in her language (Spanish, then English), and nothing
// is stored, queued, recorded or sent; so do too many addresses and none.
// Good input goes to the result page, which carries a refresh tag (inside
// noscript, for browsers without JavaScript) while the delivery is pending
// and drops it once the delivery is sent.
func TestWebAppTestSendForm(t *testing.T) {
	s := startService(t)
	pw := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	release := s.holdSMTP("ana@coalicion.example")
	var list, rel obj
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	if code := s.post("/v1/releases", obj{"title": "Comunidades piden consulta", "body": statementES, "language": "es",
		"translations": []obj{{"language": "en", "title": "Communities ask to be consulted", "body": statementEN}},
		"audiences":    obj{"lists": []string{list["id"].(string)}}}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	rid := rel["id"].(string)
	relPage := "/app/releases/" + rid
	b := s.browser()
	b.signIn("ana@coalicion.example", pw)
	tok := b.csrf(relPage)

	refused := func(name, query string, form url.Values, want ...string) {
		t.Helper()
		form.Set("csrf", tok)
		p := b.do("POST", relPage+"/test"+query, form)
		if p.status != http.StatusUnprocessableEntity {
			t.Fatalf("%s: %d → %q, want 422 and the form again\n%.3000s", name, p.status, p.location, p.body)
		}
		body := html.UnescapeString(p.body)
		for _, w := range want {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the page lacks %q\n%.5000s", name, w, body)
			}
		}
		for _, bad := range []string{"emails[", "telegram_chat_ids[", `class="problem"`} {
			if strings.Contains(body, bad) {
				t.Errorf("%s: the page shows %q, want only the messages beside the fields\n%.5000s", name, bad, body)
			}
		}
		if n := s.testKeys(); n != 0 {
			t.Errorf("%s: %d test sends stored, want none", name, n)
		}
	}
	refused("a bad address and a bad chat", "", url.Values{"emails": {"ana@coalicion.example\r\nana@\r\n"}, "chats": {"@canal_prensa\r\n\r\n12345"}, "language": {"en"}},
		`<textarea id="t-emails" name="emails" rows="2" aria-invalid="true" aria-describedby="t-emails-err">`+"ana@coalicion.example\r\nana@\r\n</textarea>",
		"@canal_prensa\r\n\r\n12345</textarea>",
		"Línea 2, «ana@», no es una dirección de correo.",
		"Línea 3, «12345», no es un chat de Telegram",
		`<option value="en" selected>en</option>`)
	refused("in English", "?lang=en", url.Values{"emails": {"ana@, luis@coalicion.example\nx@y.example"}, "chats": {""}},
		"Line 1, «ana@», is not an email address.", "ana@, luis@coalicion.example\nx@y.example</textarea>")
	refused("too many", "?lang=es", url.Values{"emails": {strings.Repeat("a@coalicion.example\n", 11)}},
		"Direcciones escritas: 11. Una prueba va como mucho a 10")
	refused("none", "", url.Values{"emails": {"  \n"}, "chats": {""}}, "Escribe al menos una dirección de correo o un chat de Telegram.")
	for _, a := range s.auditActions(rid) {
		if a == "release.test" {
			t.Errorf("the audit log records a test send of %s after refused input only", rid)
		}
	}
	if n := s.smtp.Count(); n != 0 {
		t.Errorf("the SMTP server got %d emails after refused input only", n)
	}

	// Good input: the result page, pending, then sent.
	p := b.do("POST", relPage+"/test", url.Values{"csrf": {tok}, "emails": {"ana@coalicion.example"}, "language": {"es"}})
	if p.status != http.StatusSeeOther || !strings.HasPrefix(p.location, relPage+"/tests/") {
		t.Fatalf("a good test send: %d → %q\n%.3000s", p.status, p.location, p.body)
	}
	testPage := p.location
	const refresh = `<noscript><meta http-equiv="refresh" content="2"></noscript>`
	if p = b.get(testPage); p.status != 200 || !strings.Contains(p.body, refresh) || !strings.Contains(p.body, `data-waiting="true"`) ||
		!strings.Contains(p.body, "pendiente") || !strings.Contains(p.body, `src="/app/static/test.js"`) {
		t.Errorf("the result page while the email is held: %d, want it pending with a refresh tag and test.js\n%.3000s", p.status, p.body)
	}
	release()
	s.waitTest(rid, strings.TrimPrefix(testPage, relPage+"/tests/"))
	if p = b.get(testPage); p.status != 200 || strings.Contains(p.body, "http-equiv") || !strings.Contains(p.body, `data-waiting="false"`) ||
		!strings.Contains(p.body, `<strong class="t-sent">enviado</strong>`) {
		t.Errorf("the result page once sent: %d, want it final, without a refresh tag\n%.3000s", p.status, p.body)
	}
	s.smtp.WaitFor(t, 1, 30*time.Second)
}

// TestWebAppPreviewAndDraftChecks: the preview shows Telegram posts only
// when a Telegram channel is among the audiences (else one line saying so,
// with a link to the audiences); a draft's page says what is left to do
// ("Falta:", "To do:") where the send confirmation still says "Error:".
func TestWebAppPreviewAndDraftChecks(t *testing.T) {
	s := startService(t)
	pw := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	vpw := s.user("vero@coalicion.example", "", "viewer")
	s.tg.AddChat("@canal_prensa")
	var ch, list, emailOnly, both, bare obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_prensa", "title": "Canal de prensa", "language": "es"}, &ch); code != 201 {
		t.Fatalf("create channel: %d %v", code, ch)
	}
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	lid := list["id"].(string)
	s.post("/v1/lists/"+lid+"/contacts", []obj{{"email": "marta@diario.example"}}, nil)
	for _, c := range []struct {
		out *obj
		in  obj
	}{
		{&emailOnly, obj{"title": "Solo correo", "body": statementES, "language": "es", "audiences": obj{"lists": []string{lid}}}},
		{&both, obj{"title": "Correo y Telegram", "body": statementES, "language": "es", "audiences": obj{"lists": []string{lid}, "telegram_channels": []string{ch["id"].(string)}}}},
		{&bare, obj{"title": "Borrador sin audiencia", "language": "es"}},
	} {
		if code := s.post("/v1/releases", c.in, c.out); code != 201 {
			t.Fatalf("create release %v: %d %v", c.in["title"], code, *c.out)
		}
	}
	b := s.browser()
	b.signIn("ana@coalicion.example", pw)

	const noTG = "Ningún canal de Telegram está entre las audiencias"
	emailPage := "/app/releases/" + emailOnly["id"].(string)
	p := b.get(emailPage + "/preview")
	if p.status != 200 || !strings.Contains(p.body, noTG) || strings.Contains(p.body, `id="h-tg"`) || !strings.Contains(p.body, `href="`+emailPage+`/edit#audiences"`) {
		t.Errorf("preview of a release with no Telegram audience: %d, want the one line and a link to its audiences\n%.4000s", p.status, p.body)
	}
	p = b.get("/app/releases/" + both["id"].(string) + "/preview?lang=en")
	if p.status != 200 || strings.Contains(p.body, "No Telegram channel") || !strings.Contains(p.body, `id="h-tg"`) || !strings.Contains(p.body, `class="tg"`) {
		t.Errorf("preview of a release to a Telegram channel: %d, want its posts\n%.4000s", p.status, p.body)
	}
	p = b.get(emailPage + "/preview?lang=en")
	if !strings.Contains(p.body, "No Telegram channel is among the audiences") {
		t.Errorf("the English preview lacks the line saying nothing goes to Telegram\n%.4000s", p.body)
	}

	// A viewer reads the same line, with no link to edit.
	v := s.browser()
	v.signIn("vero@coalicion.example", vpw)
	if p = v.get(emailPage + "/preview?lang=es"); !strings.Contains(p.body, noTG) || strings.Contains(p.body, "/edit#audiences") {
		t.Errorf("a viewer's preview: want the line without a link to edit\n%.4000s", p.body)
	}

	// The draft with only a title: what is left to do, not errors.
	barePage := "/app/releases/" + bare["id"].(string)
	p = b.get(barePage + "?lang=es")
	checks := section(p.body, `id="h-checks"`)
	if p.status != 200 || !strings.Contains(checks, `<li class="c-todo"><strong>Falta:</strong> El comunicado no tiene audiencia`) ||
		strings.Contains(checks, "Error:") || !strings.Contains(checks, "lo que falta impide enviarlo, no guardarlo") {
		t.Errorf("a draft without audience: %d, want its checks as what is left to do\n%.4000s", p.status, checks)
	}
	if p = b.get(barePage + "?lang=en"); !strings.Contains(section(p.body, `id="h-checks"`), "<strong>To do:</strong> The release has no audience") {
		t.Errorf("the English draft page does not say To do:\n%.4000s", p.body)
	}
	p = b.get(barePage + "/send?lang=es")
	if !strings.Contains(p.body, `<li class="c-error"><strong>Error:</strong> El comunicado no tiene audiencia`) || !strings.Contains(p.body, " disabled>") {
		t.Errorf("the send confirmation of a draft without audience: want the check as an error and a disabled button\n%.4000s", p.body)
	}
	// A release ready to go has nothing left to do: no hint.
	if p = b.get(emailPage); strings.Contains(p.body, "lo que falta impide") || strings.Contains(p.body, "c-todo") {
		t.Errorf("a complete draft's page speaks of what is left to do\n%.4000s", section(p.body, `id="h-checks"`))
	}
}

// section is the part of a page from marker to the end of its section.
func section(body, marker string) string {
	i := strings.Index(body, marker)
	if i < 0 {
		return ""
	}
	body = body[i:]
	if j := strings.Index(body, "</section>"); j >= 0 {
		body = body[:j]
	}
	return body
}

// TestWebAppDashboard reads the top of the releases page with approval
// required: a send in progress (the SMTP server holds its emails) with
// its progress bar, the draft that awaits approval (not the ones
// approved and sent), and the latest release sent with failures, linking
// to its watch page; the next page of releases has no dashboard.
func TestWebAppDashboard(t *testing.T) {
	s := startService(t, func(s *service) { s.env["PREGON_REQUIRE_APPROVAL"] = "true" })
	s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	luisPW := s.user("luis@coalicion.example", "Luis Mena", "coordinator")
	held := make(chan struct{})
	var once sync.Once
	release := func() { once.Do(func() { close(held) }) }
	t.Cleanup(release)
	s.smtp.SetHandler(func(to string, _ int) *smtp.SMTPError {
		switch to {
		case "hold@diario.example":
			<-held
		case "gone@diario.example":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	list := func(name string, emails ...string) string {
		var l obj
		s.post("/v1/lists", obj{"name": name, "kind": "press"}, &l)
		var contacts []obj
		for _, e := range emails {
			contacts = append(contacts, obj{"email": e})
		}
		if code := s.post("/v1/lists/"+l["id"].(string)+"/contacts", contacts, nil); code != 200 {
			t.Fatalf("import into %s: %d", name, code)
		}
		return l["id"].(string)
	}
	release1 := func(title, lid string) string {
		var rel obj
		if code := s.post("/v1/releases", obj{"title": title, "body": statementES, "language": "es", "audiences": obj{"lists": []string{lid}}}, &rel); code != 201 {
			t.Fatalf("create %s: %d %v", title, code, rel)
		}
		return rel["id"].(string)
	}
	luis := s.browser()
	luis.signIn("luis@coalicion.example", luisPW)
	approveAndSend := func(rid string) {
		t.Helper()
		tok := luis.csrf("/app/releases/" + rid)
		if p := luis.do("POST", "/app/releases/"+rid+"/approve", url.Values{"csrf": {tok}, "version": {"1"}}); p.status != http.StatusSeeOther {
			t.Fatalf("approve %s: %d\n%.2000s", rid, p.status, p.body)
		}
		if p := luis.do("POST", "/app/releases/"+rid+"/send", url.Values{"csrf": {tok}}); p.status != http.StatusSeeOther {
			t.Fatalf("send %s: %d\n%.2000s", rid, p.status, p.body)
		}
	}
	failed := release1("Comunicado con un rebote", list("Con rebote", "gone@diario.example", "marta@diario.example"))
	approveAndSend(failed)
	if rel := s.waitFinal(failed); rel["status"] != "sent_with_failures" {
		t.Fatalf("%s is %v, want sent_with_failures", failed, rel["status"])
	}
	sending := release1("Comunicado en camino", list("Con espera", "hold@diario.example", "john@wire.example"))
	approveAndSend(sending)
	testkit.WaitFor(t, "the two emails planned", 30*time.Second, 50*time.Millisecond, func() (bool, string) {
		var rel obj
		s.do(s.admin, "GET", "/v1/releases/"+sending, "", nil, &rel)
		c, _ := rel["counts"].(map[string]any)
		return rel["status"] == "sending" && c["total"] == 2.0, fmt.Sprint(rel["status"], c)
	})
	draft := release1("Borrador por aprobar", list("Otra", "lucia@radio.example"))

	p := luis.get("/app/releases")
	body := html.UnescapeString(p.body)
	for _, c := range []struct{ part, want, not string }{
		{`id="h-dash-sending"`, `<a href="/app/releases/` + sending + `/watch">Comunicado en camino</a>`, "Comunicado con un rebote"},
		{`id="h-dash-sending"`, `<progress max="2" value="0"`, ""},
		{`id="h-dash-sending"`, `hechos: 0 de 2`, ""},
		{`id="h-dash-approval"`, `<a href="/app/releases/` + draft + `">Borrador por aprobar</a>`, "Comunicado en camino"},
		{`id="h-dash-failed"`, `<a href="/app/releases/` + failed + `/watch">Comunicado con un rebote</a>`, "Borrador por aprobar"},
		{`id="h-dash-failed"`, `fallidos: 1`, ""},
	} {
		part := section(body, c.part)
		if !strings.Contains(part, c.want) || (c.not != "" && strings.Contains(part, c.not)) {
			t.Errorf("the dashboard's %s: want %q, not %q, in\n%s", c.part, c.want, c.not, part)
		}
	}
	if p = luis.get("/app/releases?cursor=x"); strings.Contains(p.body, "h-dash") {
		t.Errorf("a later page of releases repeats the dashboard")
	}
	release()
	if rel := s.waitFinal(sending); rel["status"] != "sent" {
		t.Errorf("%s is %v once the server takes the email, want sent", sending, rel["status"])
	}
}
