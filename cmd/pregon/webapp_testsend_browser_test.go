package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"github.com/pregon/pregon/internal/testkit"
)

// TestWebAppTestSendBrowser sends tests from the release page in headless
// Chromium: a bad address among the lines brings the form back with the
// lines as typed and the bad one named beside the field; then, with the
// SMTP server holding the email, the result page says pending, and moves
// to sent by itself once the server takes it: in place with JavaScript
// (the page is not reloaded), and by reloading itself without it. axe-core
// finds no serious or critical violation on the form with its error, on
// the result page, and on the releases page's dashboard while the release
// is sent (which does not scroll sideways at 360 px).
func TestWebAppTestSendBrowser(t *testing.T) {
	c := newChrome(t, 3*time.Minute)
	s := startService(t)
	pw := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	var list, rel obj
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	if code := s.post("/v1/releases", obj{"title": "Comunidades piden consulta", "body": statementES, "language": "es",
		"audiences": obj{"lists": []string{list["id"].(string)}}}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	relURL := s.url + "/app/releases/" + rel["id"].(string)
	c.signIn(s.url, "ana@coalicion.example", pw)

	c.do("a test with a bad line",
		chromedp.Navigate(relURL),
		chromedp.WaitVisible("#t-emails"),
		chromedp.SetValue("#t-emails", "ana@coalicion.example\nana@"),
		chromedp.Click(`form[action$="/test"] button`),
		chromedp.WaitVisible("#t-emails-err"))
	if got := c.text("#t-emails-err"); !strings.Contains(got, "Línea 2, «ana@», no es una dirección de correo.") {
		t.Errorf("beside the addresses: %q", got)
	}
	if got := c.eval(`document.getElementById("t-emails").value`); got != "ana@coalicion.example\nana@" {
		t.Errorf("the addresses after the refusal: %q, want them as typed", got)
	}
	c.check("test form with an error")
	c.shoot("test-form-error", "")

	// With JavaScript: updated in place.
	release := s.holdSMTP("ana@coalicion.example")
	c.do("a good test",
		chromedp.SetValue("#t-emails", "ana@coalicion.example"),
		chromedp.Click(`form[action$="/test"] button`),
		chromedp.WaitVisible("#test-status"))
	if got := c.text(".results"); !strings.Contains(got, "pendiente") {
		t.Fatalf("the result while the server holds the email: %q, want pending", got)
	}
	c.eval(`window.samePage = "yes"; "ok"`)
	c.check("test result")
	release()
	waitText(t, c, ".results", "enviado")
	if got := c.eval(`String(window.samePage) + " " + document.getElementById("test").dataset.waiting`); got != "yes false" {
		t.Errorf("after the update: %q, want the same page (not reloaded), no longer waiting", got)
	}

	// Without JavaScript: the page reloads itself.
	release = s.holdSMTP("ana@coalicion.example")
	if _, err := chromedp.Call(c.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: true}); err != nil {
		t.Fatalf("JavaScript off: %v", err)
	}
	c.do("a test without JavaScript",
		chromedp.Navigate(relURL),
		chromedp.WaitVisible("#t-emails"),
		chromedp.Click(`form[action$="/test"] button`),
		chromedp.WaitVisible("#test-status"))
	if got := c.text(".results"); !strings.Contains(got, "pendiente") {
		t.Fatalf("the result while the server holds the email: %q, want pending", got)
	}
	release()
	waitText(t, c, ".results", "enviado")

	// The releases page's dashboard while the release is sent.
	if _, err := chromedp.Call(c.ctx, emulation.SetScriptExecutionDisabled, emulation.SetScriptExecutionDisabledParams{Value: false}); err != nil {
		t.Fatalf("JavaScript on: %v", err)
	}
	s.post("/v1/lists/"+list["id"].(string)+"/contacts", []obj{{"email": "marta@diario.example"}}, nil)
	release = s.holdSMTP("marta@diario.example")
	if code := s.post("/v1/releases/"+rel["id"].(string)+"/send", obj{}, nil); code != 200 && code != 202 {
		t.Fatalf("send: %d", code)
	}
	testkit.WaitFor(t, "the release to be sending", 30*time.Second, 50*time.Millisecond, func() (bool, string) {
		var p struct{ Items []obj }
		s.do(s.admin, "GET", "/v1/releases?status=sending", "", nil, &p)
		return len(p.Items) == 1, fmt.Sprint(p.Items)
	})
	c.do("the dashboard", chromedp.Navigate(s.url+"/app/releases"), chromedp.WaitVisible("#h-dash-sending"))
	c.check("releases with the dashboard")
	c.shoot("dashboard", "")
	release()
}

// waitText waits for the element sel to hold want, without touching the
// page.
func waitText(t *testing.T, c *chrome, sel, want string) {
	t.Helper()
	testkit.WaitFor(t, sel+" to say "+want, 60*time.Second, 200*time.Millisecond, func() (bool, string) {
		got, err := chromedp.Run(c.ctx, chromedp.Text(sel, chromedp.AtLeast(0)))
		if err != nil {
			return false, err.Error()
		}
		return strings.Contains(got, want), got
	})
}
