package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/internal/testkit"
)

// chromiumPath is Debian's chromium (scripts/ensure-chromium.sh installs it).
const chromiumPath = "/usr/bin/chromium"

// axeSource is axe-core, vendored from the npm registry.
const axeSource = "../../web/testdata/axe.min.js"

// TestWebAppBrowser is a press office's day in headless Chromium, clicked
// through as a person would: Ana signs in, makes a press list and imports a
// CSV with a bad row (the report names it), composes a bilingual release
// for the list and a Telegram channel, previews it, sends herself a test;
// Luis, a second coordinator, approves it (PREGON_REQUIRE_APPROVAL) and
// sends it after reading what will happen; the watch page follows it to the
// end (one address refused, with the server's reason), retries the failed
// one until all is sent; the emails reach the
// SMTP server and the post the fake Bot API.
// axe-core checks the pages for serious or critical accessibility
// violations; nothing is wider than a 360 px screen. Screenshots of each
// page at phone and desktop widths go to $PREGON_TEST_ARTIFACTS (else a
// temporary folder), and, when PREGON_SCREENSHOT_DIR is set,
// webapp-compose.png, webapp-preview.png and webapp-watch.png to it (docs/ keeps them for the
// README). It fails when chromium is missing, unless PREGON_SKIP_BROWSER=1.
func TestWebAppBrowser(t *testing.T) {
	c := newChrome(t, 4*time.Minute)
	ctx, do, check, artifacts := c.ctx, c.do, c.check, c.artifacts
	s := startService(t, func(s *service) { s.env["PREGON_REQUIRE_APPROVAL"] = "true" })
	anaPW := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	luisPW := s.user("luis@coalicion.example", "Luis Mena", "coordinator")
	s.tg.AddChat("@canal_prensa")
	var ch obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_prensa", "title": "Canal de prensa", "language": "es"}, &ch); code != 201 {
		t.Fatalf("create channel: %d %v", code, ch)
	}
	csv := filepath.Join(t.TempDir(), "prensa.csv")
	if err := os.WriteFile(csv, []byte("email,name,outlet,language\nmarta@diario.example,Marta Ruiz,Diario del Valle,es\nno-es-un-correo,Sin Correo,Radio,es\njohn@wire.example,John Reed,Wire,en\n"), 0o644); err != nil {
		t.Fatal(err)
	}

	shoot := func(name string, keep string) {
		t.Helper()
		for _, c := range []struct {
			name          string
			width, height int64
		}{{"phone", 360, 740}, {"desktop", 1280, 900}} {
			do(name+" at "+c.name, chromedp.EmulateViewport(c.width, c.height))
			if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`window.scrollTo(0, 0); true`)); err != nil {
				t.Fatal(err)
			}
			widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
			if err != nil {
				t.Fatal(err)
			}
			if c.name == "phone" && widths[0] > widths[1] {
				t.Errorf("%s: the page is %d px wide in a %d px window: it scrolls sideways", name, widths[0], widths[1])
			}
			png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
			if err != nil || len(png) < 8 || string(png[1:4]) != "PNG" {
				t.Fatalf("%s: screenshot: %v", name, err)
			}
			if err := os.WriteFile(filepath.Join(artifacts, "webapp-"+name+"-"+c.name+".png"), png, 0o644); err != nil {
				t.Fatal(err)
			}
			if dir := os.Getenv("PREGON_SCREENSHOT_DIR"); dir != "" && keep != "" && c.name == "desktop" {
				if err := os.WriteFile(filepath.Join(dir, keep), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}
	signIn := func(email, pw string) {
		t.Helper()
		do("sign in as "+email,
			chromedp.Navigate(s.url+"/"),
			chromedp.WaitVisible("#password"),
			chromedp.SetValue("#email", email),
			chromedp.SetValue("#password", pw),
			chromedp.Click(`form[action="/app/login"] button`),
			chromedp.WaitVisible(`a[href="/app/releases/new"]`))
	}
	signOut := func() {
		t.Helper()
		do("sign out", chromedp.Click(`form[action="/app/logout"] button`), chromedp.WaitVisible("#password"))
	}

	do("sign-in page", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(s.url+"/?lang=es"), chromedp.WaitVisible("#password"))
	check("sign-in")
	shoot("signin", "")
	signIn("ana@coalicion.example", anaPW)

	// A press list, and a CSV with a bad row.
	do("create a list",
		chromedp.Navigate(s.url+"/app/lists"),
		chromedp.SetValue("#lname", "Prensa nacional"),
		chromedp.Click(`form[action="/app/lists"] button`),
		chromedp.WaitVisible("#file"))
	do("import a CSV",
		chromedp.SetUploadFiles("#file", []string{csv}),
		chromedp.Click(`form[enctype="multipart/form-data"] button`),
		chromedp.WaitVisible("#h-report"))
	report, _ := chromedp.Run(ctx, chromedp.Text(".report"))
	if !strings.Contains(report, "Nuevos: 2") || !strings.Contains(report, "no-es-un-correo") || !strings.Contains(report, "3") {
		t.Errorf("import report %q: want 2 added and row 3 (no-es-un-correo) refused", report)
	}
	check("list")
	shoot("import", "")

	// Compose a bilingual release.
	do("compose",
		chromedp.Navigate(s.url+"/app/releases/new"),
		chromedp.WaitVisible("#title"),
		chromedp.SetValue("#title", "Comunidades del valle exigen una consulta previa"),
		chromedp.SetValue("#summary", "Doce comunidades piden detener la presa hasta que se les consulte."),
		chromedp.SetValue("#body", statementES),
		chromedp.SetValue("#tr_language", "en"),
		chromedp.SetValue("#tr_title", "Valley communities demand prior consultation"),
		chromedp.SetValue("#tr_summary", "Twelve communities ask for the dam to stop until they are consulted."),
		chromedp.SetValue("#tr_body", statementEN),
		chromedp.SetValue("#contact_name", "Lucía Pérez"),
		chromedp.SetValue("#contact_email", "lucia@coalicion.example"),
		chromedp.Click(`input[name="lists"]`),
		chromedp.Click(`input[name="channels"]`))
	check("compose")
	shoot("compose", "webapp-compose.png")
	do("save the draft",
		chromedp.Click(`form.compose button[type="submit"]`),
		chromedp.WaitVisible("#h-test"))
	relURL, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	check("release")
	shoot("release", "")

	// Preview, both languages.
	do("preview", chromedp.Navigate(s.url+relURL+"/preview?language=en"), chromedp.WaitVisible("iframe.email"))
	subject, _ := chromedp.Run(ctx, chromedp.Text("#h-email + p"))
	if !strings.Contains(subject, "Valley communities") {
		t.Errorf("English preview subject %q", subject)
	}
	check("preview")
	shoot("preview", "webapp-preview.png")

	// A test to herself.
	do("test send",
		chromedp.Navigate(s.url+relURL),
		chromedp.WaitVisible("#h-test"),
		chromedp.Click(`form[action$="/test"] button`),
		chromedp.WaitVisible("#test-status"))
	testkit.WaitFor(t, "the test email", 30*time.Second, 50*time.Millisecond, func() (bool, string) {
		for _, m := range s.smtp.Messages() {
			if len(m.To) == 1 && m.To[0] == "ana@coalicion.example" {
				return true, ""
			}
		}
		return false, "no email to ana@coalicion.example"
	})
	signOut()

	// Luis approves, then sends.
	signIn("luis@coalicion.example", luisPW)
	do("approve",
		chromedp.Navigate(s.url+relURL),
		chromedp.Click(`form[action$="/approve"] button`),
		chromedp.WaitVisible(".flash"))
	do("confirm", chromedp.Navigate(s.url+relURL+"/send"), chromedp.WaitVisible("#h-what"))
	what, _ := chromedp.Run(ctx, chromedp.Text("main"))
	if !strings.Contains(what, "No hay embargo") {
		t.Errorf("the confirmation does not say when it goes out:\n%s", what)
	}
	check("send")
	// John's server refuses for now (every attempt): a failure with its reason.
	s.smtp.SetHandler(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == "john@wire.example" {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "mailbox unavailable"}
		}
		return nil
	})
	do("send",
		chromedp.Click(`form[action$="/send"] button`),
		chromedp.WaitVisible("#watch"))
	watchURL, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	waitStatus := func(want string) {
		t.Helper()
		testkit.WaitFor(t, "the release to be "+want, 60*time.Second, 300*time.Millisecond, func() (bool, string) {
			st, err := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.getElementById("rel-status") || {}).className || ""`))
			if err == nil && st == "status s-"+want {
				return true, ""
			}
			_ = chromedp.Do(ctx, chromedp.Navigate(s.url+watchURL))
			return false, st
		})
	}
	waitStatus("sent_with_failures")
	fails, _ := chromedp.Run(ctx, chromedp.Text("#h-fail + div"))
	if !strings.Contains(fails, "john@wire.example") || !strings.Contains(fails, "mailbox unavailable") {
		t.Errorf("failures on the watch page: %q, want john@wire.example and the server's reason", fails)
	}
	counts, _ := chromedp.Run(ctx, chromedp.Text("#watch"))
	if !strings.Contains(counts, "Correo") || !strings.Contains(counts, "Telegram") {
		t.Errorf("watch page counts: %q", counts)
	}
	check("watch")
	shoot("watch", "webapp-watch.png")

	// His server takes it now: retry the failed one.
	s.smtp.SetHandler(func(string, int) *smtp.SMTPError { return nil })
	do("retry", chromedp.Click(`form[action$="/retry"] button`), chromedp.WaitVisible(".flash"))
	waitStatus("sent")
	if sent, _ := chromedp.Run(ctx, chromedp.Text("#n-email-sent")); sent != "2" {
		t.Errorf("emails sent after the retry: %q, want 2", sent)
	}

	if got := s.tg.Messages("@canal_prensa"); len(got) == 0 {
		t.Errorf("no post in the Telegram channel")
	}
}
