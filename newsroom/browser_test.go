package newsroom_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/pregon/pregon/newsroom"
)

// chromiumPath is Debian's chromium (scripts/ensure-chromium.sh installs it).
const chromiumPath = "/usr/bin/chromium"

// TestBrowserScreenshots loads a release page in headless Chromium at a
// phone's width and a desktop's: the title is visible, nothing is wider
// than a 360 px screen, and a screenshot of each is written to a temporary
// folder and, when PREGON_SCREENSHOT_DIR is set, to newsroom-phone.png and
// newsroom-desktop.png there (docs/ keeps them for the README). It fails
// when chromium is missing, unless PREGON_SKIP_BROWSER=1.
func TestBrowserScreenshots(t *testing.T) {
	if os.Getenv("PREGON_SKIP_BROWSER") == "1" {
		t.Skip("PREGON_SKIP_BROWSER=1: the browser test is skipped")
	}
	if _, err := os.Stat(chromiumPath); err != nil {
		t.Fatalf("chromium is needed for this test and is missing (%v): run scripts/ensure-chromium.sh "+
			"(apt-get install chromium), or set PREGON_SKIP_BROWSER=1 to skip it", err)
	}
	rg := newRig(t, newsroom.Config{Name: "Coordinadora del Valle", Footer: "Coordinadora del Valle · Valle de Tlacuilo, México"})
	rel := rg.published("Comunidades del valle exigen detener la presa de Cerro Azul y una consulta previa")
	page := rg.srv.URL + rg.path(rel.ID, "es")

	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(chromiumPath),
		chromedp.Flag("headless", true),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("no-first-run", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("hide-scrollbars", true),
		chromedp.UserDataDir(t.TempDir()),
	}
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	ctx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	ctx, cancelBrowser := chromedp.NewContext(ctx)
	defer cancelBrowser()

	out := t.TempDir()
	for _, c := range []struct {
		name          string
		width, height int64
	}{{"phone", 360, 740}, {"desktop", 1280, 800}} {
		err := chromedp.Do(ctx, chromedp.EmulateViewport(c.width, c.height), chromedp.Navigate(page), chromedp.WaitVisible("h1"))
		if err != nil {
			t.Fatalf("%s: load %s: %v", c.name, page, err)
		}
		title, err := chromedp.Run(ctx, chromedp.Text("main h1"))
		if err != nil || title != rel.Title {
			t.Errorf("%s: title %q (%v), want %q", c.name, title, err, rel.Title)
		}
		inView, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`(() => {
			const r = document.querySelector('main h1').getBoundingClientRect();
			return r.width > 0 && r.height > 0 && r.top >= 0 && r.left >= 0 && r.right <= window.innerWidth && r.top < window.innerHeight;
		})()`))
		if err != nil || !inView {
			t.Errorf("%s: the title is not in view (%v)", c.name, err)
		}
		widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](`[document.documentElement.scrollWidth, window.innerWidth]`))
		if err != nil {
			t.Fatalf("%s: %v", c.name, err)
		}
		if c.name == "phone" && widths[0] > widths[1] {
			t.Errorf("%s: the page is %d px wide in a %d px window: it scrolls sideways", c.name, widths[0], widths[1])
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("%s: screenshot: %v", c.name, err)
		}
		if len(png) < 8 || string(png[1:4]) != "PNG" {
			t.Fatalf("%s: the screenshot is not a PNG", c.name)
		}
		name := "newsroom-" + c.name + ".png"
		if err := os.WriteFile(filepath.Join(out, name), png, 0o644); err != nil {
			t.Fatal(err)
		}
		if dir := os.Getenv("PREGON_SCREENSHOT_DIR"); dir != "" {
			if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}
}
