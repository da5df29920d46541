package newsroom_test

import (
	"context"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/newsroom"
)

// TestReleasePage checks what a release page holds besides its text: Open
// Graph tags, links to the feeds, the press contact, a sanitised body, and
// headers that let no script run.
func TestReleasePage(t *testing.T) {
	rg := newRig(t, newsroom.Config{LogoURL: "https://coordinadora-valle.example/logo.png"})
	rel := rg.published("Comunidades del valle exigen detener la presa")
	ctx := context.Background()
	cur, err := rg.store.Release(ctx, rel.ID)
	if err != nil {
		t.Fatal(err)
	}
	if cur.Status != dispatcher.ReleaseSent {
		t.Fatalf("status %s", cur.Status)
	}
	path := rg.path(rel.ID, "es")
	got := rg.get(path)
	for _, want := range []string{
		`<html lang="es">`,
		`<meta property="og:title" content="Comunidades del valle exigen detener la presa">`,
		`<meta property="og:type" content="article">`,
		`<meta property="og:url" content="` + rg.srv.URL + path + `">`,
		`<meta property="og:image" content="https://coordinadora-valle.example/logo.png">`,
		`<meta property="article:published_time" content="2026-02-04T16:00:00Z">`,
		`<link rel="alternate" type="application/rss+xml" title="Coordinadora del Valle (RSS)" href="` + rg.srv.URL + `/news/es/rss.xml">`,
		`<link rel="alternate" type="application/atom+xml"`,
		`<link rel="alternate" type="application/feed+json"`,
		`<time datetime="2026-02-04T16:00:00Z">4 de febrero de 2026</time>`,
		`<a href="mailto:prensa@example.org">prensa@example.org</a>`,
		`<a href="tel:&#43;525512345678">`,
	} {
		if !strings.Contains(got.body, want) {
			t.Errorf("page lacks %s", want)
		}
	}
	if strings.Contains(got.body, "<script") {
		t.Errorf("page has a script")
	}
	csp := got.header.Get("Content-Security-Policy")
	if !strings.Contains(csp, "default-src 'none'") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q", csp)
	}

	// Raw HTML in the Markdown never reaches the page.
	evil := rg.newRelease("Texto con <script>", nil)
	evil.Body = "Hola <script>alert(1)</script> [x](javascript:alert(2)) <img src=x onerror=alert(3)>"
	if _, err := rg.store.EditRelease(ctx, &dispatcher.Edit{Release: evil, Base: evil.Version}); err != nil {
		t.Fatal(err)
	}
	rg.send(evil.ID, rg.clock.Now())
	page := rg.get(rg.path(evil.ID, "es"))
	for _, bad := range []string{"<script", "javascript:", "onerror"} {
		if strings.Contains(page.body, bad) {
			t.Errorf("page holds %q:\n%s", bad, page.body)
		}
	}
	if !strings.Contains(page.body, "<title>Texto con &lt;script&gt; · Coordinadora del Valle</title>") {
		t.Errorf("title not escaped:\n%s", page.body)
	}
}
