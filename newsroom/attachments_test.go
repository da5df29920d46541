package newsroom_test

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/newsroom"
)

// TestAttachmentsAtTheBoundary (issue 10 item 5): a release's files are
// served under its page only once it is public (404 one millisecond
// before the lift, as the page), with ETag and Cache-Control; the page
// lists them with size and type and shows the lead image at its top and
// as og:image; the feeds carry them.
func TestAttachmentsAtTheBoundary(t *testing.T) {
	rg := newRig(t, newsroom.Config{})
	ctx := context.Background()
	pdf := append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("informe "), 3000)...)
	png := append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1, 2}, 500)...)
	lift := start
	r := &dispatcher.Release{Title: "Informe sobre la presa", Body: bodyES, Language: "es",
		Translations: []dispatcher.Translation{{Language: "en", Title: "Report on the dam", Body: bodyEN}},
		EmbargoUntil: &lift, Audiences: dispatcher.Audiences{Lists: []string{}, EarlyLists: []string{}, TelegramChannels: []string{}}}
	pdfAtt := dispatcher.Attachment{ID: rg.store.NewAttachmentID(), Filename: "informe.pdf", ContentType: "application/pdf", Size: int64(len(pdf)), Role: dispatcher.RoleAttachment}
	pngAtt := dispatcher.Attachment{ID: rg.store.NewAttachmentID(), Filename: "portada.png", ContentType: "image/png", Size: int64(len(png)), Role: dispatcher.RoleLeadImage, Language: "es"}
	r.Attachments = []dispatcher.Attachment{pdfAtt, pngAtt}
	if err := rg.store.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	for _, f := range []struct {
		id   string
		data []byte
	}{{pdfAtt.ID, pdf}, {pngAtt.ID, png}} {
		if err := rg.store.PutAttachmentData(ctx, r.ID, f.id, f.data); err != nil {
			t.Fatal(err)
		}
	}
	rg.send(r.ID, lift)
	page := rg.path(r.ID, "es")
	pdfURL := page + "/files/" + pdfAtt.ID + "/informe.pdf"
	pngURL := page + "/files/" + pngAtt.ID + "/portada.png"
	enPNG := rg.path(r.ID, "en") + "/files/" + pngAtt.ID + "/portada.png"

	rg.clock.Set(lift.Add(-time.Millisecond))
	for _, u := range []string{page, pdfURL, pngURL} {
		if got := rg.get(u); got.status != 404 {
			t.Errorf("before the lift: GET %s = %d, want 404", u, got.status)
		}
	}
	rg.clock.Set(lift)
	got := rg.get(pdfURL)
	if got.status != 200 || got.body != string(pdf) || got.header.Get("Content-Type") != "application/pdf" ||
		got.header.Get("ETag") == "" || got.header.Get("Cache-Control") != "public, max-age=3600" {
		t.Fatalf("at the lift: GET %s = %d %v (%d bytes)", pdfURL, got.status, got.header, len(got.body))
	}
	if again := rg.get(pdfURL, "If-None-Match", got.header.Get("ETag")); again.status != 304 {
		t.Errorf("conditional GET = %d, want 304", again.status)
	}
	if img := rg.get(pngURL); img.status != 200 || img.body != string(png) || img.header.Get("Content-Type") != "image/png" {
		t.Errorf("GET %s = %d %q", pngURL, img.status, img.header.Get("Content-Type"))
	}
	// The Spanish lead image is not a file of the English version; a name
	// that is not the file's redirects to it.
	if g := rg.get(enPNG); g.status != 404 {
		t.Errorf("GET %s = %d, want 404", enPNG, g.status)
	}
	if g := rg.get(page + "/files/" + pdfAtt.ID + "/otro.pdf"); g.status != 301 || !strings.HasSuffix(g.header.Get("Location"), pdfURL) {
		t.Errorf("a wrong name: %d %s", g.status, g.header.Get("Location"))
	}

	html := rg.get(page).body
	for _, s := range []string{`<meta property="og:image" content="` + rg.srv.URL + pngURL + `">`,
		`<img class="lead" src="` + rg.srv.URL + pngURL + `"`,
		`<a href="` + rg.srv.URL + pdfURL + `" type="application/pdf">informe.pdf</a> (PDF, 23 kB)`} {
		if !contains(html, s) {
			t.Errorf("the page lacks %s", s)
		}
	}
	if rss := rg.get("/news/es/rss.xml").body; !contains(rss, `<enclosure url="`+rg.srv.URL+pdfURL+`" length="`) {
		t.Errorf("the RSS item has no enclosure:\n%s", rss)
	}
	if atom := rg.get("/news/es/atom.xml").body; !contains(atom, `<link href="`+rg.srv.URL+pdfURL+`" rel="enclosure" type="application/pdf" length="`) {
		t.Errorf("the Atom entry has no enclosure link:\n%s", atom)
	}
	if js := rg.get("/news/es/feed.json").body; !contains(js, `"mime_type": "application/pdf"`) || !contains(js, `"image": "`+rg.srv.URL+pngURL+`"`) {
		t.Errorf("the JSON feed item has no attachments:\n%s", js)
	}
}
