package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/internal/testkit"
)

// chrome is a headless Chromium for one test, with the steps the web app's
// browser tests take: do (fail the test on error), axe (no serious or
// critical accessibility violation) and shoot (phone and desktop
// screenshots; the phone one must not scroll sideways).
type chrome struct {
	t         *testing.T
	ctx       context.Context
	axe       string
	artifacts string
}

// needChromium skips the test under PREGON_SKIP_BROWSER=1, fails it when
// chromium is missing, and returns axe-core's source.
func needChromium(t *testing.T) string {
	t.Helper()
	if os.Getenv("PREGON_SKIP_BROWSER") == "1" {
		t.Skip("PREGON_SKIP_BROWSER=1: the browser test is skipped")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("chromium is needed for this test and is missing (%v): run scripts/ensure-chromium.sh, or set PREGON_SKIP_BROWSER=1 to skip it", err)
	}
	axe, err := os.ReadFile(axeSource)
	if err != nil {
		t.Fatal(err)
	}
	return string(axe)
}

// artifactsDir is where a browser test saves its screenshots:
// PREGON_TEST_ARTIFACTS, or a temporary folder.
func artifactsDir(t *testing.T) string {
	if dir := os.Getenv("PREGON_TEST_ARTIFACTS"); dir != "" {
		return dir
	}
	return t.TempDir()
}

func newChrome(t *testing.T, timeout time.Duration) *chrome {
	t.Helper()
	c := &chrome{t: t, axe: needChromium(t), artifacts: artifactsDir(t)}
	opts := chromiumOptions(t)
	ctx, cancel := context.WithTimeout(t.Context(), timeout)
	t.Cleanup(cancel)
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	t.Cleanup(cancelBrowser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	c.ctx = ctx
	return c
}

func (c *chrome) do(step string, actions ...chromedp.Action[chromedp.Void]) {
	c.t.Helper()
	// A step waits at most a minute: on a loaded 2-core machine (CI, or
	// several test runs at once) a page and its scripts can take tens of
	// seconds, and a step that fails does so by waiting for something.
	sctx, cancel := context.WithTimeout(c.ctx, time.Minute)
	defer cancel()
	if err := chromedp.Do(sctx, actions...); err != nil {
		html, _ := chromedp.Run(c.ctx, chromedp.OuterHTML("body"))
		c.t.Fatalf("%s: %v\npage:\n%.3000s", step, err, html)
	}
}

// loaded waits until the page whose address holds query has loaded: after
// a click that submits a form, before using the new page's elements, since
// one also on the page being left (a list shows the contact a search finds)
// may be found there and be gone when clicked.
func (c *chrome) loaded(what, query string) {
	c.t.Helper()
	testkit.WaitFor(c.t, what, time.Minute, 100*time.Millisecond, func() (bool, string) {
		got, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`location.search + " " + document.readyState`))
		return err == nil && strings.Contains(got, query) && strings.HasSuffix(got, " complete"), fmt.Sprintf("%q, %v", got, err)
	})
}

func (c *chrome) text(sel string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Text(sel))
	if err != nil {
		c.t.Fatalf("text of %s: %v", sel, err)
	}
	return s
}

func (c *chrome) eval(js string) string {
	c.t.Helper()
	s, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](js))
	if err != nil {
		c.t.Fatalf("%s: %v", js, err)
	}
	return s
}

func (c *chrome) check(name string) {
	c.t.Helper()
	checkAxe(c.t, c.ctx, c.axe, name)
}

// chromiumOptions are the flags of the headless Chromium that the web
// app's browser tests start (Spanish as the browser's language).
func chromiumOptions(t *testing.T) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true), chromedp.Flag("no-sandbox", true), chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true), chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true), chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true), chromedp.Flag("hide-scrollbars", true),
		chromedp.Flag("lang", "es-MX"),
		chromedp.UserDataDir(t.TempDir()),
	}
}

// checkAxe runs axe-core (source axe) in the page and fails the test on a
// serious or critical violation of WCAG 2.1 A/AA.
func checkAxe(t *testing.T, ctx context.Context, axe, name string) {
	t.Helper()
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](axe+";true")); err != nil {
		t.Fatalf("%s: load axe: %v", name, err)
	}
	bad, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21aa"]}}).then(r =>
		r.violations.filter(v => v.impact === "serious" || v.impact === "critical")
			.map(v => v.id + " (" + v.impact + "): " + v.nodes.map(n => n.target.join(" ")).join(", ")))`, chromedp.EvalAwaitPromise))
	if err != nil {
		t.Fatalf("%s: axe: %v", name, err)
	}
	for _, v := range bad {
		t.Errorf("%s: accessibility: %s", name, v)
	}
}

// shoot saves the page at phone and desktop widths; keep, when not "",
// is the name under which PREGON_SCREENSHOT_DIR gets the whole page at
// desktop width (and at phone width with -phone before .png).
func (c *chrome) shoot(name, keep string) {
	c.t.Helper()
	for _, v := range []struct {
		name          string
		width, height int64
	}{{"phone", 360, 740}, {"desktop", 1280, 900}} {
		c.do(name+" at "+v.name, chromedp.EmulateViewport(v.width, v.height))
		widths, err := chromedp.Run(c.ctx, chromedp.Evaluate[[]int](`window.scrollTo(0, 0); [document.documentElement.scrollWidth, window.innerWidth]`))
		if err != nil {
			c.t.Fatal(err)
		}
		if v.name == "phone" && widths[0] > widths[1] {
			c.t.Errorf("%s: the page is %d px wide in a %d px window: it scrolls sideways", name, widths[0], widths[1])
		}
		png, err := chromedp.Run(c.ctx, chromedp.CaptureScreenshot())
		if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
			c.t.Fatalf("%s: screenshot: %v", name, err)
		}
		if err := os.WriteFile(filepath.Join(c.artifacts, "webapp-"+name+"-"+v.name+".png"), png, 0o644); err != nil {
			c.t.Fatal(err)
		}
		if dir := os.Getenv("PREGON_SCREENSHOT_DIR"); dir != "" && keep != "" {
			// The whole page, for the README.
			if png, err = chromedp.Run(c.ctx, chromedp.FullScreenshot(100)); err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
				c.t.Fatalf("%s: full screenshot: %v", name, err)
			}
			out := keep
			if v.name == "phone" {
				out = strings.TrimSuffix(keep, ".png") + "-phone.png"
			}
			if err := os.WriteFile(filepath.Join(dir, out), png, 0o644); err != nil {
				c.t.Fatal(err)
			}
		}
	}
	c.do(name+" back to desktop", chromedp.EmulateViewport(1280, 900))
}

func (c *chrome) signIn(url, email, pw string) {
	c.t.Helper()
	c.do("sign in as "+email,
		chromedp.Navigate(url+"/?lang=es"),
		chromedp.WaitVisible("#password"),
		chromedp.SetValue("#email", email),
		chromedp.SetValue("#password", pw),
		chromedp.Click(`form[action="/app/login"] button`),
		chromedp.WaitVisible(`a[href="/app/releases/new"]`))
}

// TestWebAppManageBrowser is an admin's afternoon in headless Chromium:
// Adela approves the channel the bot found, makes an API token for the
// coalition's website (it works against the API, and stops working once
// she revokes it), edits a journalist's contact from the list's search;
// then watches a release to the list and the channel: one address that
// does not exist and one server that refuses for now are failures in
// plain words, the chart has its lines; she retries the failed ones (the
// server takes it now) and publishes a correction from the browser: the
// Telegram post is edited at the fake Bot API and the correction email
// reaches the SMTP server; the address that did not exist is shown as
// suppressed, with why. axe-core finds no serious or critical violation on
// these pages, none scrolls sideways at 360 px, and the watch page's
// screenshots go to PREGON_SCREENSHOT_DIR as webapp-watch.png and
// webapp-watch-phone.png.
func TestWebAppManageBrowser(t *testing.T) {
	c := newChrome(t, 5*time.Minute)
	s := startService(t)
	pw := s.user("adela@coalicion.example", "Adela Ríos", "admin")
	s.tg.PushMyChatMember("@canal_valle", "Noticias del Valle", "left", "administrator")
	var list obj
	if code := s.post("/v1/lists", obj{"name": "Prensa regional", "kind": "press"}, &list); code != 201 {
		t.Fatalf("create list: %d %v", code, list)
	}
	listID := list["id"].(string)
	if code := s.post("/v1/lists/"+listID+"/contacts", []obj{
		{"email": "marta@diario.example", "name": "Marta", "language": "es"},
		{"email": "john@wire.example", "name": "John Reed", "language": "en"},
		{"email": "nadie@diario.example", "name": "Buzón viejo", "language": "es"}}, nil); code != 200 {
		t.Fatalf("import: %d", code)
	}
	c.signIn(s.url, "adela@coalicion.example", pw)

	// The channel the bot found, approved.
	testkit.WaitFor(t, "the pending channel on the channels page", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		_ = chromedp.Do(c.ctx, chromedp.Navigate(s.url+"/app/channels"))
		n, err := chromedp.Run(c.ctx, chromedp.Evaluate[int](`document.querySelectorAll('form[action$="/approve"]').length`))
		return err == nil && n == 1, "no approve button"
	})
	c.check("channels")
	c.shoot("channels", "")
	c.do("approve", chromedp.Click(`form[action$="/approve"] button`), chromedp.WaitVisible("p.flash"))
	if got := c.text("#h-active + div"); !strings.Contains(got, "Noticias del Valle") {
		t.Errorf("active channels after the approval: %q", got)
	}

	// A token for the website: shown once, works, revoked, stops working.
	c.do("make a token",
		chromedp.Navigate(s.url+"/app/tokens"),
		chromedp.SetValue("#tname", "Sitio web"),
		chromedp.SetValue("#trole", "viewer"),
		chromedp.Click(`form[action="/app/tokens"] button`),
		chromedp.WaitVisible("#secret"))
	secret := c.eval(`document.getElementById("secret").value`)
	if !strings.HasPrefix(secret, "pgn_") {
		t.Fatalf("token shown %q", secret)
	}
	c.check("tokens")
	c.shoot("tokens", "")
	if code, _ := s.do(secret, "GET", "/v1/lists", "", nil, nil); code != 200 {
		t.Errorf("the token against the API: %d, want 200", code)
	}
	c.do("revoke", chromedp.Click(`button[aria-label="Revocar Sitio web"]`), chromedp.WaitVisible("p.flash"))
	if code, _ := s.do(secret, "GET", "/v1/lists", "", nil, nil); code != 401 {
		t.Errorf("the revoked token against the API: %d, want 401", code)
	}
	if page := c.text("main"); strings.Contains(page, secret) {
		t.Errorf("the secret is shown again after the revocation")
	}

	// Marta's contact, found by the list's search and edited.
	c.do("search the list",
		chromedp.Navigate(s.url+"/app/lists/"+listID),
		chromedp.SetValue("#q", "marta"),
		chromedp.Click(`form[role="search"] button`))
	c.loaded("the search results", "q=marta")
	c.do("open the contact",
		chromedp.WaitVisible(`a[href^="/app/contacts?email=marta"]`),
		chromedp.Click(`a[href^="/app/contacts?email=marta"]`),
		chromedp.WaitVisible("#cname"),
		chromedp.SetValue("#cname", "Marta Ruiz"),
		chromedp.SetValue("#coutlet", "Diario del Valle"),
		chromedp.SetValue("#ctags", "agua, minería"),
		chromedp.Click(`form[action="/app/contacts"] button`),
		chromedp.WaitVisible("p.flash"))
	var marta obj
	s.do(s.admin, "GET", "/v1/contacts/marta@diario.example", "", nil, &marta)
	if marta["name"] != "Marta Ruiz" || marta["outlet"] != "Diario del Valle" {
		t.Errorf("Marta after the edit: %v", marta)
	}
	c.check("contact")
	c.shoot("contact", "")

	// A release to the list and the channel: nadie@ does not exist, John's
	// server refuses for now.
	s.smtp.SetHandler(func(rcpt string, _ int) *smtp.SMTPError {
		switch rcpt {
		case "nadie@diario.example":
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case "john@wire.example":
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox unavailable"}
		}
		return nil
	})
	var ch obj
	for _, it := range func() []any {
		var p obj
		s.do(s.admin, "GET", "/v1/telegram/channels", "", nil, &p)
		return p["items"].([]any)
	}() {
		if it.(obj)["title"] == "Noticias del Valle" {
			ch = it.(obj)
		}
	}
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Doce comunidades exigen consulta previa", "language": "es", "body": statementES,
		"translations": []obj{{"language": "en", "title": "Twelve communities demand prior consultation", "body": statementEN}},
		"audiences":    obj{"lists": []string{listID}, "telegram_channels": []string{ch["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	watch := "/app/releases/" + rel["id"].(string) + "/watch"
	waitStatus := func(want string) {
		t.Helper()
		testkit.WaitFor(t, "the release to be "+want, 90*time.Second, 300*time.Millisecond, func() (bool, string) {
			st, err := chromedp.Run(c.ctx, chromedp.Evaluate[string](`(document.getElementById("rel-status") || {}).className || ""`))
			if err == nil && st == "status s-"+want && want != "sent_with_failures" {
				return true, ""
			}
			if err == nil && st == "status s-"+want {
				n, _ := chromedp.Run(c.ctx, chromedp.Evaluate[int](`document.querySelectorAll("#h-fail + div tbody tr").length`))
				return n >= 1, st
			}
			_ = chromedp.Do(c.ctx, chromedp.Navigate(s.url+watch))
			return false, st
		})
	}
	c.do("watch", chromedp.Navigate(s.url+watch), chromedp.WaitVisible("#watch"))
	waitStatus("sent_with_failures")
	fails := c.text("#h-fail + div")
	for _, want := range []string{"john@wire.example", "no lo aceptó por ahora", "nadie@diario.example", "La dirección no existe"} {
		if !strings.Contains(fails, want) {
			t.Errorf("failures on the watch page: %q, want %q", fails, want)
		}
	}
	if pts := c.eval(`document.getElementById("line-sent").getAttribute("points")`); strings.Count(pts, ",") < 2 {
		t.Errorf("the chart's sent line has points %q", pts)
	}
	if sum := c.text("#chart-summary"); !strings.Contains(sum, "Enviados: 2") || !strings.Contains(sum, "fallidos: 2") {
		t.Errorf("chart summary %q: want 2 sent (Marta and the channel) and 2 failed", sum)
	}
	c.check("watch")
	c.shoot("watch", "webapp-watch.png")

	// John's server takes it now: retry the failed ones.
	s.smtp.SetHandler(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == "nadie@diario.example" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	c.do("retry", chromedp.Click(`form[action$="/retry"] button`), chromedp.WaitVisible("p.flash"))
	testkit.WaitFor(t, "John's email after the retry", 60*time.Second, 100*time.Millisecond, func() (bool, string) {
		for _, m := range s.smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == "john@wire.example" {
				return true, ""
			}
		}
		return false, "none"
	})
	c.do("watch again", chromedp.Navigate(s.url+watch), chromedp.WaitVisible("#watch"))
	// nadie@ is suppressed since its hard bounce: retried, it is skipped
	// as suppressed, not failed, and the release is sent.
	waitStatus("sent")
	if n := c.eval(`String(document.querySelectorAll("#h-fail").length)`); n != "0" {
		t.Errorf("failures are still listed after the retry: %s", c.text("main"))
	}

	// A correction from the browser.
	corrected := strings.ReplaceAll(statementES, "Valle Alto", "Valle Alto (corregido)")
	if corrected == statementES {
		t.Fatal("the statement has no “Valle Alto” to correct")
	}
	c.do("correct",
		chromedp.WaitVisible("#note"),
		chromedp.SetValue("#note", "Son trece comunidades, no doce."),
		chromedp.SetValue("#cbody", corrected),
		chromedp.Click(`form[action$="/corrections"] button`),
		chromedp.WaitVisible("p.flash"))
	testkit.WaitFor(t, "the Telegram post edited", 60*time.Second, 100*time.Millisecond, func() (bool, string) {
		for _, m := range s.tg.Messages("@canal_valle") {
			if m.Edits > 0 && strings.Contains(m.PlainText, "Son trece comunidades, no doce.") {
				return true, ""
			}
		}
		return false, "no edited post with the note"
	})
	testkit.WaitFor(t, "the correction email to Marta", 60*time.Second, 100*time.Millisecond, func() (bool, string) {
		for _, m := range s.smtp.Messages() {
			if len(m.To) != 1 || m.To[0] != "marta@diario.example" {
				continue
			}
			if e := parseEmail(t, m.Data); strings.HasPrefix(e.subject, "CORRECCIÓN: ") &&
				strings.Contains(e.text, "Son trece comunidades, no doce.") && strings.Contains(e.text, "(corregido)") {
				return true, ""
			}
		}
		return false, "no correction to marta@"
	})

	// Why nadie@ gets nothing now.
	c.do("look up an address",
		chromedp.Navigate(s.url+"/app/lists"),
		chromedp.SetValue("#lookup", "nadie@diario.example"),
		chromedp.Click(`form[action="/app/contacts"] button`),
		chromedp.WaitVisible("#suppression"))
	if why := c.text("#suppression"); !strings.Contains(why, "no se le envía nada") || !strings.Contains(why, "la dirección no existe") {
		t.Errorf("why nadie@ is not mailed: %q", why)
	}
	c.check("suppressed contact")
}
