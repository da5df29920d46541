package main

import (
	"bytes"
	"context"
	"fmt"
	"image"
	"image/color"
	"image/png"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/store"
)

// composeFixture is what the compose tests write to: a press list (one
// address suppressed), a subscribers list that repeats one of its
// addresses, a Telegram channel and one follower of the bot.
type composeFixture struct {
	press, subs, channel string
}

func newComposeFixture(t *testing.T, s *service) composeFixture {
	t.Helper()
	var f composeFixture
	var l obj
	if code := s.post("/v1/lists", obj{"name": "Prensa nacional", "kind": "press"}, &l); code != 201 {
		t.Fatalf("create list: %d %v", code, l)
	}
	f.press = l["id"].(string)
	if code := s.post("/v1/lists", obj{"name": "Suscripciones", "kind": "subscribers"}, &l); code != 201 {
		t.Fatalf("create list: %d %v", code, l)
	}
	f.subs = l["id"].(string)
	for list, people := range map[string][]obj{
		f.press: {{"email": "marta@diario.example", "language": "es"}, {"email": "john@wire.example", "language": "en"}, {"email": "luis@radio.example", "language": "es"}},
		f.subs:  {{"email": "marta@diario.example", "language": "es"}, {"email": "sofia@vecinos.example", "language": "es"}},
	} {
		var rep obj
		if code := s.post("/v1/lists/"+list+"/contacts", people, &rep); code != 200 {
			t.Fatalf("import: %d %v", code, rep)
		}
	}
	// Luis unsubscribed from an earlier release.
	if err := store.New(s.redis.Client(t), nil).Suppress(context.Background(), "luis@radio.example", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	s.tg.AddChat("@canal_prensa")
	var ch obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_prensa", "title": "Canal de prensa", "language": "es"}, &ch); code != 201 {
		t.Fatalf("create channel: %d %v", code, ch)
	}
	f.channel = ch["id"].(string)
	s.tg.PushCommand(7001, "es-MX", "/start")
	testkit.WaitFor(t, "the bot's follower", 30*time.Second, 50*time.Millisecond, func() (bool, string) {
		n := s.followerCount()
		return n == 1, fmt.Sprintf("%d followers", n)
	})
	return f
}

// composeFiles writes a PDF and a PNG to a temporary folder.
func composeFiles(t *testing.T) (pdf, img string) {
	t.Helper()
	dir := t.TempDir()
	pdf, img = filepath.Join(dir, "informe.pdf"), filepath.Join(dir, "portada.png")
	if err := os.WriteFile(pdf, append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("informe de la consulta "), 4000)...), 0o644); err != nil {
		t.Fatal(err)
	}
	m := image.NewRGBA(image.Rect(0, 0, 120, 60))
	for x := range 120 {
		for y := range 60 {
			m.Set(x, y, color.RGBA{uint8(x * 2), 90, uint8(y * 4), 255})
		}
	}
	var b bytes.Buffer
	if err := png.Encode(&b, m); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(img, b.Bytes(), 0o644); err != nil {
		t.Fatal(err)
	}
	return pdf, img
}

// TestWebAppComposeBrowser writes a release in headless Chromium as a
// press officer would: Ana types the Spanish text and sees it rendered
// beside it as she types; ticks a press list, a subscribers list, a
// Telegram channel and the bot's followers and reads what each adds (the
// suppressed address and the one on both lists are not counted) and the
// total; writes the English version; the draft saves itself; she uploads
// a PDF and a lead image, which the page lists with their type and size;
// she types more and closes the tab before saving, opens the page again
// and finds her text; then sends it, and the PDF reaches the SMTP server
// with every email. axe-core finds no serious or critical violation on
// the page's states; nothing is wider than 360 px; screenshots at phone
// and desktop widths go to $PREGON_TEST_ARTIFACTS, and with
// PREGON_SCREENSHOT_DIR to docs' webapp-compose.png and -phone.png.
func TestWebAppComposeBrowser(t *testing.T) {
	axe := needChromium(t)
	s := startService(t)
	anaPW := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	f := newComposeFixture(t, s)
	pdf, img := composeFiles(t)
	artifacts := artifactsDir(t)

	opts := chromiumOptions(t)
	root, cancel := context.WithTimeout(t.Context(), 5*time.Minute)
	defer cancel()
	root, cancelAlloc := chromedp.NewExecAllocator(root, opts...)
	defer cancelAlloc()
	browser, cancelBrowser := chromedp.NewContext(root)
	defer cancelBrowser()
	if err := chromedp.Do(browser); err != nil {
		t.Fatalf("start chromium: %v", err)
	}
	// Each tab is a context of its own; cancelling it closes the tab.
	ctx, closeTab := chromedp.NewContext(browser)
	defer func() { closeTab() }()
	if err := chromedp.Do(ctx); err != nil { // the tab lives as long as ctx
		t.Fatalf("open a tab: %v", err)
	}

	do := func(step string, actions ...chromedp.Action[chromedp.Void]) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 45*time.Second)
		defer cancel()
		if err := chromedp.Do(sctx, actions...); err != nil {
			html, _ := chromedp.Run(ctx, chromedp.OuterHTML("body"))
			t.Fatalf("%s: %v\npage:\n%.4000s", step, err, html)
		}
	}
	text := func(sel string) string {
		t.Helper()
		s, err := chromedp.Run(ctx, chromedp.Evaluate[string](fmt.Sprintf(`(document.querySelector(%q) || {}).innerText || ""`, sel)))
		if err != nil {
			t.Fatalf("text of %s: %v", sel, err)
		}
		return strings.Join(strings.Fields(s), " ")
	}
	waitText := func(what, sel, want string) {
		t.Helper()
		testkit.WaitFor(t, what, 45*time.Second, 100*time.Millisecond, func() (bool, string) {
			got := text(sel)
			return strings.Contains(got, want), fmt.Sprintf("%s: %q, want %q", sel, got, want)
		})
	}
	check := func(name string) {
		t.Helper()
		checkAxe(t, ctx, axe, name)
	}
	shoot := func(name string, keep bool) {
		t.Helper()
		for _, c := range []struct {
			name          string
			width, height int64
		}{{"phone", 360, 740}, {"desktop", 1280, 900}} {
			do(name+" at "+c.name, chromedp.EmulateViewport(c.width, c.height))
			widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`window.scrollTo(0, 0); [document.documentElement.scrollWidth, window.innerWidth]`))
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
			if dir := os.Getenv("PREGON_SCREENSHOT_DIR"); dir != "" && keep {
				// For the README: the whole page at desktop width; on a
				// phone, the text and its preview.
				file, shot := "webapp-compose.png", chromedp.FullScreenshot(100)
				if c.name == "phone" {
					file, shot = "webapp-compose-phone.png", chromedp.CaptureScreenshot()
					if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("label[for=body]").scrollIntoView(); true`)); err != nil {
						t.Fatal(err)
					}
				}
				if png, err = chromedp.Run(ctx, shot); err != nil {
					t.Fatalf("%s: screenshot: %v", name, err)
				}
				if err := os.WriteFile(filepath.Join(dir, file), png, 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
	}

	do("sign in",
		chromedp.EmulateViewport(1280, 900),
		chromedp.Navigate(s.url+"/?lang=es"),
		chromedp.WaitVisible("#password"),
		chromedp.SetValue("#email", "ana@coalicion.example"),
		chromedp.SetValue("#password", anaPW),
		chromedp.Click(`form[action="/app/login"] button`),
		chromedp.WaitVisible(`a[href="/app/releases/new"]`))

	// A title and a text, no audience yet: the draft is saved on the
	// server, where a reload finds it without this browser's copy.
	do("write before choosing the audience",
		chromedp.Navigate(s.url+"/app/releases/new"),
		chromedp.WaitVisible("#title"),
		chromedp.SendKeys("#title", "Nota sin audiencia todavía"),
		chromedp.SendKeys("#body", "Primer párrafo, antes de elegir a quién."))
	var first string
	testkit.WaitFor(t, "the draft's own page", 45*time.Second, 100*time.Millisecond, func() (bool, string) {
		first, _ = chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
		return strings.HasSuffix(first, "/edit"), first
	})
	draftID := strings.TrimSuffix(strings.TrimPrefix(first, "/app/releases/"), "/edit")
	testkit.WaitFor(t, "the draft on the server", 45*time.Second, 100*time.Millisecond, func() (bool, string) {
		var d obj
		s.do(s.admin, "GET", "/v1/releases/"+draftID, "", nil, &d)
		return d["body"] == "Primer párrafo, antes de elegir a quién." && d["title"] == "Nota sin audiencia todavía", fmt.Sprint(d["title"], " / ", d["body"])
	})
	// Away from the compose page (whose leaving keeps a copy), this
	// browser's copies are wiped; then back to the draft.
	do("leave the draft", chromedp.Navigate(s.url+"/app/releases"), chromedp.WaitVisible(`a[href="/app/releases/`+draftID+`"]`))
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`localStorage.clear(); true`)); err != nil {
		t.Fatal(err)
	}
	do("reload the draft", chromedp.Navigate(s.url+first), chromedp.WaitVisible("#body"))
	got, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[document.getElementById("title").value, document.getElementById("body").value,
		String(document.querySelectorAll("#audiences input:checked").length), String(localStorage.length)]`))
	if err != nil || !slices.Equal(got, []string{"Nota sin audiencia todavía", "Primer párrafo, antes de elegir a quién.", "0", "0"}) {
		t.Errorf("the draft reloaded from the server: %q, %v; want its title and text, no audience, nothing from this browser", got, err)
	}
	waitText("no recipients yet", "#audience-total", "En total: 0 (correos: 0")

	// The Spanish version, previewed as it is typed.
	do("write",
		chromedp.Navigate(s.url+"/app/releases/new"),
		chromedp.WaitVisible("#title"),
		chromedp.SetValue("#title", "Comunidades del valle exigen una consulta previa"),
		chromedp.SetValue("#summary", "Doce comunidades piden detener la presa hasta que se les consulte."),
		chromedp.SendKeys("#body", "**Doce comunidades** del valle piden una _consulta previa_."))
	// The preview follows the typing: it may show part of the text before
	// the last keys arrive, so wait for the whole of it.
	do("live preview", chromedp.WaitVisible("#preview-original .mdout strong"))
	waitText("live preview", "#preview-original .mdout", "Doce comunidades del valle piden una consulta previa")
	if got := text("#preview-original .mdout"); !strings.Contains(got, "Comunidades del valle exigen") {
		t.Errorf("live preview %q: no title", got)
	}

	// Audiences: what each adds.
	do("audiences",
		chromedp.Click("#l-"+f.press),
		chromedp.Click("#l-"+f.subs),
		chromedp.Click("#c-"+f.channel),
		chromedp.Click("#followers"))
	// marta and john (luis is suppressed); sofia (marta is on both lists);
	// the channel; the follower.
	waitText("the total", "#audience-total", "En total: 5 (correos: 3, canales de Telegram: 1, seguidores: 1)")
	for sel, want := range map[string]string{
		`[data-count="lists:` + f.press + `"]`:               "añade 2",
		`[data-count="lists:` + f.subs + `"]`:                "añade 1",
		`[data-count="telegram_channels:` + f.channel + `"]`: "añade 1",
		`[data-count="telegram_followers:"]`:                 "añade 1",
	} {
		if got := text(sel); got != want {
			t.Errorf("%s: %q, want %q", sel, got, want)
		}
	}

	// The English version; the draft saves itself and becomes this page.
	do("translate",
		chromedp.SetValue("#tr_language", "en"),
		chromedp.SetValue("#tr_title", "Valley communities demand prior consultation"),
		chromedp.SendKeys("#tr_body", "**Twelve communities** ask for prior consultation."),
		chromedp.WaitVisible("#preview-translation .mdout strong"),
		chromedp.SetValue("#contact_name", "Lucía Pérez"),
		chromedp.SetValue("#contact_email", "lucia@coalicion.example"))
	// Typing in one version and at once in the other: both previews follow
	// (each version has its own wait before it asks the server).
	do("both versions at once",
		chromedp.SendKeys("#body", " Hoy."),
		chromedp.SendKeys("#tr_body", " Today."))
	waitText("the original's preview", "#preview-original .mdout", "Hoy.")
	waitText("the translation's preview", "#preview-translation .mdout", "Today.")
	waitText("the autosave", "#autosave", "Guardado")
	edit, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`location.pathname`))
	if !strings.HasPrefix(edit, "/app/releases/") || !strings.HasSuffix(edit, "/edit") {
		t.Fatalf("after the autosave the page is %q, want the draft's edit page", edit)
	}
	rid := strings.TrimSuffix(strings.TrimPrefix(edit, "/app/releases/"), "/edit")
	var rel obj
	testkit.WaitFor(t, "the English version on the server", 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
		trs, _ := rel["translations"].([]any)
		return len(trs) == 1, fmt.Sprintf("%v", rel["translations"])
	})

	// Files: a PDF for everyone, the lead image.
	do("upload the PDF",
		chromedp.SetUploadFiles("#file", []string{pdf}),
		chromedp.Click(`button[value="upload"]`),
		chromedp.WaitVisible("tr.file"))
	do("upload the lead image",
		chromedp.SetUploadFiles("#file", []string{img}),
		chromedp.SetValue("#file_role", "lead_image"),
		chromedp.Click(`button[value="upload"]`),
		chromedp.WaitVisible("tr.file + tr.file"))
	files := text("#files table")
	for _, want := range []string{"informe.pdf PDF 90 kB Adjunto Todos los idiomas", "portada.png PNG", "Imagen principal"} {
		if !strings.Contains(files, want) {
			t.Errorf("files table %q lacks %q", files, want)
		}
	}
	do("previews after the reload", chromedp.WaitVisible("#preview-original .mdout strong"), chromedp.WaitVisible("#preview-translation .mdout strong"))
	waitText("the counts after the reload", "#audience-total", "En total: 5 (correos: 3")
	check("compose")
	shoot("compose", true)

	// Typed, then the tab is closed before the draft is saved.
	do("type more", chromedp.SendKeys("#body", " Texto escrito antes de cerrar."))
	closeTab()
	ctx, closeTab = chromedp.NewContext(browser)
	if err := chromedp.Do(ctx); err != nil {
		t.Fatalf("open a tab: %v", err)
	}
	do("open it again", chromedp.EmulateViewport(1280, 900), chromedp.Navigate(s.url+edit), chromedp.WaitVisible("#body"))
	testkit.WaitFor(t, "the text typed before the tab was closed", 30*time.Second, 100*time.Millisecond, func() (bool, string) {
		body, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("body").value`))
		return err == nil && strings.Contains(body, "Texto escrito antes de cerrar."), body
	})
	if restored, _ := chromedp.Run(ctx, chromedp.Evaluate[bool](`!document.getElementById("restored").hidden`)); restored {
		check("restored")
	}
	testkit.WaitFor(t, "the text on the server", 30*time.Second, 200*time.Millisecond, func() (bool, string) {
		s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
		body, _ := rel["body"].(string)
		return strings.Contains(body, "Texto escrito antes de cerrar."), body
	})

	// Someone else saves a newer version meanwhile: the autosave says so and
	// overwrites nothing; reopened, the page offers the browser's copy.
	var patched obj
	if code, _ := s.do(s.admin, "PATCH", "/v1/releases/"+rid, "application/merge-patch+json", obj{"summary": "Resumen de Luis."}, &patched); code != 200 {
		t.Fatalf("PATCH: %d %v", code, patched)
	}
	do("type on the old version", chromedp.SendKeys("#summary", " Cambio de Ana."))
	waitText("the conflict", "#autosave", "Otra persona guardó una versión más nueva")
	if role, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("autosave").getAttribute("role")`)); role != "alert" {
		t.Errorf("the conflict is announced with role %q, want alert", role)
	}
	check("conflict")
	s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
	if rel["summary"] != "Resumen de Luis." {
		t.Errorf("summary %q: the newer version was overwritten", rel["summary"])
	}
	do("reopen", chromedp.Navigate(s.url+edit), chromedp.WaitVisible("#restore-local"))
	check("older copy")
	do("discard the browser's copy", chromedp.Click("#discard-local"), chromedp.WaitNotVisible("#restored"))
	if sum, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById("summary").value`)); sum != "Resumen de Luis." {
		t.Errorf("summary field %q, want the newer version's", sum)
	}

	// Send it; the PDF goes with every email.
	do("save", chromedp.Click(`form.compose button[value="save"]`), chromedp.WaitVisible("#h-test"))
	do("send", chromedp.Navigate(s.url+"/app/releases/"+rid+"/send"), chromedp.WaitVisible("#h-what"),
		chromedp.Click(`form[action$="/send"] button`), chromedp.WaitVisible("#watch"))
	want := map[string]bool{"marta@diario.example": true, "john@wire.example": true, "sofia@vecinos.example": true}
	testkit.WaitFor(t, "the emails", 60*time.Second, 100*time.Millisecond, func() (bool, string) {
		got := map[string]int{}
		for _, m := range s.smtp.Messages() {
			for _, to := range m.To {
				got[to]++
			}
		}
		for to := range want {
			if got[to] == 0 {
				return false, fmt.Sprintf("emails to %v", got)
			}
		}
		return true, ""
	})
	pdfData, _ := os.ReadFile(pdf)
	for _, m := range s.smtp.Messages() {
		if m.To[0] == "luis@radio.example" {
			t.Errorf("the suppressed address got an email")
		}
		if !want[m.To[0]] {
			continue
		}
		leaves, _, err := smtptest.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		for _, p := range leaves {
			if strings.HasPrefix(p.ContentType, "text/") {
				continue
			}
			got = append(got, p.Filename+" "+p.ContentType+" "+p.Disposition)
			if p.Filename == "informe.pdf" && !bytes.Equal(p.Data, pdfData) {
				t.Errorf("%s: the PDF arrived changed (%d bytes, sent %d)", m.To[0], len(p.Data), len(pdfData))
			}
		}
		if w := "portada.png image/png inline, informe.pdf application/pdf attachment"; strings.Join(got, ", ") != w {
			t.Errorf("%s got files %q, want %q", m.To[0], got, w)
		}
	}
	testkit.WaitFor(t, "the Telegram post", 60*time.Second, 100*time.Millisecond, func() (bool, string) {
		return len(s.tg.Messages("@canal_prensa")) > 0, "no post"
	})
}
