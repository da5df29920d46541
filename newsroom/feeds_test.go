package newsroom_test

import (
	"encoding/json"
	"encoding/xml"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/newsroom"
)

// published makes a release public at start, sent, and moves the clock
// past it.
func (rg *rig) published(title string) *dispatcher.Release {
	rg.t.Helper()
	rel := rg.newRelease(title, nil)
	rg.send(rel.ID, start)
	rg.setStatus(rel.ID, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled)
	rg.setStatus(rel.ID, dispatcher.ReleaseSent, dispatcher.ReleaseSending)
	rg.clock.Set(start.Add(time.Minute))
	return rel
}

// correct records a correction of rel (its Spanish body changed, or a
// retraction) as dispatcher.Service.Correct does.
func (rg *rig) correct(rel *dispatcher.Release, note string, retraction bool) {
	rg.t.Helper()
	cur, err := rg.store.Release(rg.t.Context(), rel.ID)
	if err != nil {
		rg.t.Fatal(err)
	}
	body := strings.Replace(cur.Body, "suspensión inmediata", "suspensión definitiva", 1)
	req := &dispatcher.CorrectionRequest{Note: note, Retraction: retraction}
	if !retraction {
		req.Body = &body
	}
	fixed, _ := req.Apply(cur)
	fixed.Version = cur.Version + 1
	child := &dispatcher.Release{Title: fixed.Title, Body: fixed.Body, Language: fixed.Language, Status: dispatcher.ReleaseDraft,
		CreatedAt: rg.clock.Now(), CorrectionOf: &dispatcher.CorrectionOf{ReleaseID: rel.ID, Note: note,
			Retraction: retraction, Version: cur.Version, Key: req.Key()}}
	if _, _, err := rg.store.CorrectRelease(rg.t.Context(), rel.ID, cur.Version, fixed, child); err != nil {
		rg.t.Fatal(err)
	}
}

func parseFeed(t *testing.T, rg *rig, path string) *gofeed.Feed {
	t.Helper()
	got := rg.get(path)
	if got.status != 200 {
		t.Fatalf("GET %s = %d", path, got.status)
	}
	f, err := gofeed.NewParser().ParseString(got.body)
	if err != nil {
		t.Fatalf("parse %s: %v\n%s", path, err, got.body)
	}
	return f
}

// TestFeeds parses each feed back and checks each format's required
// elements, then that a correction updates the feed items and the page.
func TestFeeds(t *testing.T) {
	rg := newRig(t, newsroom.Config{})
	older := rg.published("Primer comunicado de la asamblea")
	rg.clock.Set(start.Add(time.Hour))
	rel := rg.newRelease("Comunidades del valle exigen detener la presa", nil)
	rg.send(rel.ID, start.Add(time.Hour))
	rg.clock.Set(start.Add(2 * time.Hour))
	page := rg.srv.URL + rg.path(rel.ID, "es")

	wantTypes := map[string]string{"/news/es/rss.xml": "rss", "/news/es/atom.xml": "atom", "/news/es/feed.json": "json"}
	for path, typ := range wantTypes {
		f := parseFeed(t, rg, path)
		if f.FeedType != typ || f.Title != "Coordinadora del Valle" || f.Link == "" && f.FeedLink == "" {
			t.Errorf("%s: type %q title %q link %q", path, f.FeedType, f.Title, f.Link)
		}
		if len(f.Items) != 2 {
			t.Fatalf("%s: %d items, want 2", path, len(f.Items))
		}
		it := f.Items[0] // newest first
		if it.Title != rel.Title || it.Link != page || it.GUID != page {
			t.Errorf("%s: item title %q link %q guid %q, want %q", path, it.Title, it.Link, it.GUID, page)
		}
		html := it.Content
		if html == "" {
			html = it.Description
		}
		if !strings.Contains(html, "<strong>exigen</strong>") || !strings.Contains(html, "«No nos consultaron»") {
			t.Errorf("%s: item has not the full HTML: %q", path, html)
		}
		if it.PublishedParsed == nil || !it.PublishedParsed.Equal(start.Add(time.Hour)) {
			t.Errorf("%s: published %v, want %v", path, it.PublishedParsed, start.Add(time.Hour))
		}
		if f.Items[1].Title != older.Title {
			t.Errorf("%s: second item %q", path, f.Items[1].Title)
		}
	}
	checkRequired(t, rg)

	// A correction: the item's updated time and text change, the page shows it.
	fixAt := start.Add(3 * time.Hour)
	rg.clock.Set(fixAt)
	rg.setStatus(rel.ID, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled)
	rg.setStatus(rel.ID, dispatcher.ReleaseSent, dispatcher.ReleaseSending)
	rg.correct(rel, "Decía «inmediata»; la asamblea pidió la suspensión definitiva.", false)
	rg.clock.Set(fixAt.Add(time.Minute))
	for _, path := range []string{"/news/es/atom.xml", "/news/es/feed.json"} {
		it := parseFeed(t, rg, path).Items[0]
		if it.UpdatedParsed == nil || !it.UpdatedParsed.Equal(fixAt) {
			t.Errorf("%s: updated %v, want %v", path, it.UpdatedParsed, fixAt)
		}
		if !strings.Contains(it.Content, "suspensión definitiva") {
			t.Errorf("%s: the corrected text is missing: %q", path, it.Content)
		}
	}
	got := rg.get(rg.path(rel.ID, "es"))
	if rg.srv.URL+rg.path(rel.ID, "es") != page {
		t.Errorf("the correction moved the page: %s, was %s", rg.path(rel.ID, "es"), page)
	}
	for _, want := range []string{"suspensión definitiva", "Decía «inmediata»", `<section class="corrections">`, `article:modified_time`} {
		if !strings.Contains(got.body, want) {
			t.Errorf("the corrected page lacks %q:\n%s", want, got.body)
		}
	}

	// A retraction shows on the page, in the index and in the feeds.
	rg.correct(rel, "La asamblea retira este comunicado.", true)
	for path, want := range map[string]string{
		rg.path(rel.ID, "es"): "Este comunicado ha sido retirado.",
		"/news/es/":           "Retirado",
		"/news/es/rss.xml":    "Este comunicado ha sido retirado.",
	} {
		if got := rg.get(path); got.status != 200 || !strings.Contains(got.body, want) {
			t.Errorf("GET %s = %d, without %q", path, got.status, want)
		}
	}
}

// checkRequired checks, beyond what gofeed needs, each format's required
// elements: RSS 2.0's channel title, link and description and each item's
// guid; Atom's feed and entry id, title and updated, and an author; JSON
// Feed 1.1's version, title and each item's id and content.
func checkRequired(t *testing.T, rg *rig) {
	t.Helper()
	var rss struct {
		Version string `xml:"version,attr"`
		Channel struct {
			Title string `xml:"title"`
			Links []struct {
				XMLName xml.Name
				Value   string `xml:",chardata"`
			} `xml:"link"`
			Description string `xml:"description"`
			Items       []struct {
				GUID    string `xml:"guid"`
				PubDate string `xml:"pubDate"`
			} `xml:"item"`
		} `xml:"channel"`
	}
	if err := xml.Unmarshal([]byte(rg.get("/news/es/rss.xml").body), &rss); err != nil {
		t.Fatal(err)
	}
	c := rss.Channel
	link := ""
	for _, l := range c.Links {
		if l.XMLName.Space == "" {
			link = l.Value
		}
	}
	if rss.Version != "2.0" || c.Title == "" || link == "" || c.Description == "" || len(c.Items) == 0 {
		t.Errorf("RSS: %+v", rss)
	}
	for _, it := range c.Items {
		if _, err := time.Parse(time.RFC1123Z, it.PubDate); err != nil || it.GUID == "" {
			t.Errorf("RSS item: guid %q pubDate %q (%v)", it.GUID, it.PubDate, err)
		}
	}
	var atom struct {
		XMLName xml.Name
		ID      string `xml:"id"`
		Title   string `xml:"title"`
		Updated string `xml:"updated"`
		Author  string `xml:"author>name"`
		Entries []struct {
			ID      string `xml:"id"`
			Title   string `xml:"title"`
			Updated string `xml:"updated"`
			Content struct {
				Type string `xml:"type,attr"`
			} `xml:"content"`
		} `xml:"entry"`
	}
	if err := xml.Unmarshal([]byte(rg.get("/news/es/atom.xml").body), &atom); err != nil {
		t.Fatal(err)
	}
	if atom.XMLName.Space != "http://www.w3.org/2005/Atom" || atom.ID == "" || atom.Title == "" || atom.Author == "" {
		t.Errorf("Atom: %+v", atom)
	}
	if _, err := time.Parse(time.RFC3339, atom.Updated); err != nil {
		t.Errorf("Atom updated: %v", err)
	}
	for _, e := range atom.Entries {
		if _, err := time.Parse(time.RFC3339, e.Updated); err != nil || e.ID == "" || e.Title == "" || e.Content.Type != "html" {
			t.Errorf("Atom entry: %+v (%v)", e, err)
		}
	}
	var jf struct {
		Version, Title string
		Items          []map[string]any
	}
	if err := json.Unmarshal([]byte(rg.get("/news/es/feed.json").body), &jf); err != nil {
		t.Fatal(err)
	}
	if jf.Version != "https://jsonfeed.org/version/1.1" || jf.Title == "" || len(jf.Items) == 0 {
		t.Errorf("JSON Feed: %+v", jf)
	}
	for _, it := range jf.Items {
		if it["id"] == "" || it["content_html"] == "" || it["url"] == "" {
			t.Errorf("JSON Feed item: %v", it)
		}
	}
}

// TestConditionalGET: every page and feed answers 304 to a request that
// names its ETag, or a Last-Modified not older than it; and 200 again once
// a release is published.
func TestConditionalGET(t *testing.T) {
	rg := newRig(t, newsroom.Config{})
	rel := rg.published("Comunidades del valle exigen detener la presa")
	for _, p := range []string{"/news/es/", rg.path(rel.ID, "es"), "/news/es/rss.xml", "/news/es/atom.xml",
		"/news/es/feed.json", "/news/sitemap.xml", "/news/style.css", "/robots.txt"} {
		first := rg.get(p)
		tag := first.header.Get("ETag")
		if first.status != 200 || tag == "" || !strings.Contains(first.header.Get("Cache-Control"), "max-age=") {
			t.Errorf("GET %s = %d, ETag %q, Cache-Control %q", p, first.status, tag, first.header.Get("Cache-Control"))
			continue
		}
		if got := rg.get(p, "If-None-Match", tag); got.status != http.StatusNotModified || got.body != "" {
			t.Errorf("GET %s with If-None-Match = %d (%d bytes)", p, got.status, len(got.body))
		}
		if got := rg.get(p, "If-None-Match", `"other"`); got.status != 200 {
			t.Errorf("GET %s with another ETag = %d", p, got.status)
		}
		if lm := first.header.Get("Last-Modified"); lm != "" {
			if got := rg.get(p, "If-Modified-Since", lm); got.status != http.StatusNotModified {
				t.Errorf("GET %s with If-Modified-Since = %d", p, got.status)
			}
		}
	}
	index := rg.get("/news/es/rss.xml")
	next := rg.newRelease("Segundo comunicado", nil)
	rg.send(next.ID, rg.clock.Now())
	if got := rg.get("/news/es/rss.xml", "If-None-Match", index.header.Get("ETag")); got.status != 200 ||
		!strings.Contains(got.body, "Segundo comunicado") {
		t.Errorf("after a new release, conditional GET = %d", got.status)
	}
}

// TestLanguageRedirect: /news/ sends the reader to the language their
// browser prefers among the configured ones, else the first.
func TestLanguageRedirect(t *testing.T) {
	rg := newRig(t, newsroom.Config{Languages: []string{"es", "en"}})
	for accept, want := range map[string]string{
		"":                           "/news/es/",
		"en-GB,en;q=0.9":             "/news/en/",
		"fr-FR, de;q=0.8, en;q=0.5":  "/news/en/",
		"es-MX;q=0.4, en-US;q=0.8":   "/news/en/",
		"de":                         "/news/es/",
		"en;q=0, es-419;q=0.3, xx;q": "/news/es/",
	} {
		got := rg.get("/news/", "Accept-Language", accept)
		if got.status != http.StatusFound || got.header.Get("Location") != want || got.header.Get("Vary") != "Accept-Language" {
			t.Errorf("Accept-Language %q: %d to %q, want %s", accept, got.status, got.header.Get("Location"), want)
		}
	}
	if got := rg.get("/news/fr/"); got.status != 404 {
		t.Errorf("a language not configured: %d", got.status)
	}
}
