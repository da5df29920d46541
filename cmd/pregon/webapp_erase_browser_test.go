package main

import (
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"
)

// TestWebAppManageBrowserErase: a journalist asks to be erased. Lucía, a
// coordinator, finds her in the list's search, presses "Borrar…", reads
// the confirmation page (what will happen, and that it cannot be undone;
// axe-core finds no serious or critical violation) and confirms; the list
// says it is done and its search no longer finds her. Adela, the admin,
// asks why the address gets nothing and reads that it was erased on
// request, with no name left. A release that failed to reach her earlier
// (its webhook told of it), archived since, lists her delivery under the
// keyed hash alone, its counts as before; no key of Redis names her, not
// even the webhook event kept after it was delivered.
func TestWebAppManageBrowserErase(t *testing.T) {
	c := newChrome(t, 5*time.Minute)
	s := startService(t, func(s *service) {
		s.env["PREGON_SECRET"] = "erase-in-the-browser-secret-0123456789"
		s.env["PREGON_WEBHOOKS_ALLOW_PRIVATE"], s.env["PREGON_WEBHOOKS_ALLOW_HTTP"] = "true", "true"
	})
	const ana = "ana.borrar@diario.example"
	// Her mailbox is full: her delivery fails, and a webhook is told.
	s.smtp.SetHandler(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == ana {
			return &smtp.SMTPError{Code: 552, EnhancedCode: smtp.EnhancedCode{5, 2, 2}, Message: "mailbox of " + ana + " full"}
		}
		return nil
	})
	rc := newHookReceiver(t)
	var hook obj
	if code := s.post("/v1/webhooks", obj{"url": rc.URL + "/pregon", "events": []string{"delivery.failed"}}, &hook); code != 201 {
		t.Fatalf("add webhook: %d %v", code, hook)
	}
	rc.setSecret(hook["secret"].(string))
	coordPW := s.user("lucia@coalicion.example", "Lucía", "coordinator")
	adminPW := s.user("adela@coalicion.example", "Adela Ríos", "admin")
	var list obj
	if code := s.post("/v1/lists", obj{"name": "Prensa regional", "kind": "press"}, &list); code != 201 {
		t.Fatalf("create list: %d %v", code, list)
	}
	lid := list["id"].(string)
	if code := s.post("/v1/lists/"+lid+"/contacts", []obj{
		{"email": ana, "name": "Ana Borrar", "outlet": "El Diario", "language": "es"},
		{"email": "bob@diario.example", "name": "Bob", "language": "es"}}, nil); code != 200 {
		t.Fatalf("import: %d", code)
	}
	// A release reached both, and was archived.
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Informe del río", "body": "Texto.", "language": "es",
		"audiences": obj{"lists": []string{lid}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	rid := rel["id"].(string)
	if got := s.waitFinal(rid); got["status"] != "sent_with_failures" {
		t.Fatalf("release: %v", got)
	}
	if e := rc.waitFor(t, "delivery.failed", rid); e.Data["recipient"] != ana {
		t.Fatalf("delivery.failed to the webhook: %v", e)
	}
	var before, after obj
	if code := s.post("/v1/releases/"+rid+"/archive", nil, &before); code != 200 || before["archived_at"] == nil {
		t.Fatalf("archive: %d %v", code, before)
	}

	c.signIn(s.url, "lucia@coalicion.example", coordPW)
	erase := `button[aria-label="Borrar… ` + ana + `"]`
	c.do("find her in the list",
		chromedp.Navigate(s.url+"/app/lists/"+lid),
		chromedp.SetValue("#q", "borrar"),
		chromedp.Click(`form[role="search"] button`))
	c.loaded("the search results", "q=borrar")
	c.do("the contact found", chromedp.WaitVisible(erase))
	c.do("press Erase…", chromedp.Click(erase), chromedp.WaitVisible("#h-erase-what"))
	page := c.text("main")
	for _, want := range []string{"Qué pasa si borras " + ana, "Sale de todas las listas", "la dirección se cambia por una huella",
		"Solo queda una huella", "No se puede deshacer"} {
		if !strings.Contains(page, want) {
			t.Errorf("the confirmation page does not say %q:\n%s", want, page)
		}
	}
	c.check("erase confirmation")
	c.shoot("erase", "")
	c.do("confirm", chromedp.Click(`form[action$="/erase"] button.primary`), chromedp.WaitVisible("p.flash"))
	if got := c.text("p.flash"); !strings.Contains(got, "Dirección borrada") {
		t.Errorf("after the erasure the list says %q", got)
	}
	c.do("search again", chromedp.Navigate(s.url+"/app/lists/"+lid+"?q=borrar"), chromedp.WaitVisible("#h-members"))
	if n := c.eval(`String(document.querySelectorAll('#h-members ~ div tbody tr').length)`); n != "0" ||
		strings.Contains(c.text("main"), ana) {
		t.Errorf("the list's search still finds her (%s rows):\n%s", n, c.text("main"))
	}

	// The admin asks why the address gets nothing.
	c.do("sign out", chromedp.Click(`form[action="/app/logout"] button`), chromedp.WaitVisible("#password"))
	c.signIn(s.url, "adela@coalicion.example", adminPW)
	c.do("look up the address",
		chromedp.Navigate(s.url+"/app/lists"),
		chromedp.SetValue("#lookup", ana),
		chromedp.Click(`form[action="/app/contacts"] button`),
		chromedp.WaitVisible("#suppression"))
	why := c.text("#suppression")
	if !strings.Contains(why, "no se le envía nada") || !strings.Contains(why, "pidió que se borraran sus datos") || !strings.Contains(why, "request") {
		t.Errorf("why the erased address is not mailed: %q, want erased on request", why)
	}
	if page := c.text("main"); strings.Contains(page, "Ana Borrar") || strings.Contains(page, "El Diario") {
		t.Errorf("the contact page still shows her data:\n%s", page)
	}
	c.check("erased contact")

	// The archived release: her delivery under the hash, counts as before.
	var ds struct{ Items []obj }
	s.do(s.admin, "GET", "/v1/releases/"+rid+"/deliveries", "", nil, &ds)
	hashed := 0
	for _, d := range ds.Items {
		r := d["recipient"].(string)
		if strings.Contains(strings.ToLower(r), ana) {
			t.Errorf("the archived release still lists %s: %v", ana, d)
		}
		if strings.HasPrefix(r, "hmac-sha256:") && (d["name"] == nil || d["name"] == "") && d["status"] == "failed" {
			hashed++
		}
	}
	if len(ds.Items) != 2 || hashed != 1 {
		t.Errorf("archived deliveries %v: want bob's and one to the hash, failed, without a name", ds.Items)
	}
	s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &after)
	if before["counts"] == nil || !reflect.DeepEqual(before["counts"], after["counts"]) || after["archived_at"] != before["archived_at"] {
		t.Errorf("counts of the archived release: %v before, %v after", before["counts"], after["counts"])
	}
	// Nothing in Redis names her: not the failure log, not the webhook
	// event kept after it was delivered.
	assertRedisForgot(t, s, ana)
}
