package newsroom

import (
	"bytes"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"html/template"
	"net/http"
	"time"

	"github.com/pregon/pregon/store"
)

type feedKind int

const (
	rssFeed feedKind = iota
	atomFeed
	jsonFeed
)

// feedItem is one release in a feed, as every format needs it.
type feedItem struct {
	ID, URL, Title, Summary, HTML string
	Published, Modified           time.Time
	Image                         string     // the lead image's URL, or "" (attachments.go)
	Files                         []fileLink // the other files
}

// feed serves the language's newest releases in one format, each with its
// full HTML and its permalink as id.
func (h *Handler) feed(w http.ResponseWriter, r *http.Request, lang string, kind feedKind) error {
	es, _, err := h.store.NewsPage(r.Context(), lang, h.now(), "", h.cfg.PageSize, true)
	if err != nil {
		return err
	}
	items := make([]feedItem, 0, len(es))
	var modified time.Time
	for _, e := range es {
		it, err := h.feedItem(e, lang)
		if err != nil {
			return err
		}
		items = append(items, it)
		if it.Modified.After(modified) {
			modified = it.Modified
		}
	}
	self := h.base + "/news/" + lang + "/"
	var body []byte
	var ctype string
	switch kind {
	case rssFeed:
		body, err = h.rss(lang, self+"rss.xml", items, modified)
		ctype = "application/rss+xml; charset=utf-8"
	case atomFeed:
		body, err = h.atom(lang, self+"atom.xml", items, modified)
		ctype = "application/atom+xml; charset=utf-8"
	default:
		body, err = h.jsonFeed(lang, self+"feed.json", items)
		ctype = "application/feed+json; charset=utf-8"
	}
	if err != nil {
		return err
	}
	writeCached(w, r, ctype, body, modified, maxAge)
	return nil
}

func (h *Handler) feedItem(e *store.NewsEntry, lang string) (feedItem, error) {
	page, err := h.render.Page(e.Release, lang)
	if err != nil {
		return feedItem{}, err
	}
	u := h.url(lang, e.Paths[lang])
	body := string(page.Body)
	if e.Retracted {
		body = "<p><strong>" + template.HTMLEscapeString(labelsFor(lang).RetractedNotice) + "</strong></p>\n" + body
	}
	it := feedItem{ID: u, URL: u, Title: page.Title, Summary: page.Summary, HTML: body,
		Published: e.PublishedAt, Modified: e.Modified()}
	it.Image, it.Files = h.files(e, lang) // attachments.go
	return it, nil
}

// RSS 2.0 (https://www.rssboard.org/rss-specification).
type rssDoc struct {
	XMLName xml.Name   `xml:"rss"`
	Version string     `xml:"version,attr"`
	Atom    string     `xml:"xmlns:atom,attr"`
	Content string     `xml:"xmlns:content,attr"`
	Channel rssChannel `xml:"channel"`
}

type rssChannel struct {
	Title         string    `xml:"title"`
	Link          string    `xml:"link"`
	Description   string    `xml:"description"`
	Language      string    `xml:"language"`
	LastBuildDate string    `xml:"lastBuildDate,omitempty"`
	Self          rssSelf   `xml:"atom:link"`
	Items         []rssItem `xml:"item"`
}

type rssSelf struct {
	Href string `xml:"href,attr"`
	Rel  string `xml:"rel,attr"`
	Type string `xml:"type,attr"`
}

type rssItem struct {
	Title       string  `xml:"title"`
	Link        string  `xml:"link"`
	GUID        rssGUID `xml:"guid"`
	PubDate     string  `xml:"pubDate"`
	Description string  `xml:"description"`
	Content     string  `xml:"content:encoded"`
	// Enclosure is the item's first file (RSS allows one; attachments.go).
	Enclosure *rssEnclosure `xml:"enclosure,omitempty"`
}

type rssEnclosure struct {
	URL    string `xml:"url,attr"`
	Length int64  `xml:"length,attr"`
	Type   string `xml:"type,attr"`
}

type rssGUID struct {
	IsPermaLink string `xml:"isPermaLink,attr"`
	Value       string `xml:",chardata"`
}

func (h *Handler) rss(lang, self string, items []feedItem, modified time.Time) ([]byte, error) {
	ch := rssChannel{Title: h.cfg.Name, Link: h.base + "/news/" + lang + "/", Description: labelsFor(lang).Latest,
		Language: lang, Self: rssSelf{Href: self, Rel: "self", Type: "application/rss+xml"}}
	if !modified.IsZero() {
		ch.LastBuildDate = modified.UTC().Format(time.RFC1123Z)
	}
	for _, it := range items {
		ri := rssItem{Title: it.Title, Link: it.URL, GUID: rssGUID{"true", it.ID},
			PubDate: it.Published.UTC().Format(time.RFC1123Z), Description: it.HTML, Content: it.HTML}
		if len(it.Files) > 0 {
			ri.Enclosure = &rssEnclosure{URL: it.Files[0].URL, Length: it.Files[0].Bytes, Type: it.Files[0].ContentType}
		}
		ch.Items = append(ch.Items, ri)
	}
	return marshalXML(rssDoc{Version: "2.0", Atom: "http://www.w3.org/2005/Atom",
		Content: "http://purl.org/rss/1.0/modules/content/", Channel: ch})
}

// Atom (RFC 4287).
type atomDoc struct {
	XMLName xml.Name    `xml:"http://www.w3.org/2005/Atom feed"`
	Lang    string      `xml:"xml:lang,attr"`
	ID      string      `xml:"id"`
	Title   string      `xml:"title"`
	Updated string      `xml:"updated"`
	Author  atomAuthor  `xml:"author"`
	Links   []atomLink  `xml:"link"`
	Entries []atomEntry `xml:"entry"`
}

type atomAuthor struct {
	Name string `xml:"name"`
}

type atomLink struct {
	Href   string `xml:"href,attr"`
	Rel    string `xml:"rel,attr,omitempty"`
	Type   string `xml:"type,attr,omitempty"`
	Length int64  `xml:"length,attr,omitempty"`
}

type atomEntry struct {
	ID        string      `xml:"id"`
	Title     string      `xml:"title"`
	Updated   string      `xml:"updated"`
	Published string      `xml:"published"`
	Links     []atomLink  `xml:"link"` // the page, then one enclosure per file
	Summary   string      `xml:"summary,omitempty"`
	Content   atomContent `xml:"content"`
}

type atomContent struct {
	Type  string `xml:"type,attr"`
	Value string `xml:",chardata"`
}

func (h *Handler) atom(lang, self string, items []feedItem, modified time.Time) ([]byte, error) {
	if modified.IsZero() {
		modified = time.Unix(0, 0)
	}
	home := h.base + "/news/" + lang + "/"
	doc := atomDoc{Lang: lang, ID: home, Title: h.cfg.Name, Updated: modified.UTC().Format(time.RFC3339),
		Author: atomAuthor{h.cfg.Name},
		Links:  []atomLink{{Href: self, Rel: "self", Type: "application/atom+xml"}, {Href: home, Rel: "alternate", Type: "text/html"}}}
	for _, it := range items {
		links := []atomLink{{Href: it.URL, Rel: "alternate", Type: "text/html"}}
		for _, f := range it.Files { // attachments.go
			links = append(links, atomLink{Href: f.URL, Rel: "enclosure", Type: f.ContentType, Length: f.Bytes})
		}
		doc.Entries = append(doc.Entries, atomEntry{ID: it.ID, Title: it.Title, Updated: it.Modified.UTC().Format(time.RFC3339),
			Published: it.Published.UTC().Format(time.RFC3339), Links: links,
			Summary: it.Summary, Content: atomContent{Type: "html", Value: it.HTML}})
	}
	return marshalXML(doc)
}

func marshalXML(v any) ([]byte, error) {
	var buf bytes.Buffer
	buf.WriteString(xml.Header)
	enc := xml.NewEncoder(&buf)
	enc.Indent("", "  ")
	if err := enc.Encode(v); err != nil {
		return nil, fmt.Errorf("newsroom: encode feed: %w", err)
	}
	buf.WriteByte('\n')
	return buf.Bytes(), nil
}

// JSON Feed 1.1 (https://jsonfeed.org/version/1.1).
type jsonFeedDoc struct {
	Version     string         `json:"version"`
	Title       string         `json:"title"`
	HomePageURL string         `json:"home_page_url"`
	FeedURL     string         `json:"feed_url"`
	Description string         `json:"description,omitempty"`
	Language    string         `json:"language"`
	Icon        string         `json:"icon,omitempty"`
	Authors     []jsonAuthor   `json:"authors"`
	Items       []jsonFeedItem `json:"items"`
}

type jsonAuthor struct {
	Name string `json:"name"`
}

type jsonFeedItem struct {
	ID            string `json:"id"`
	URL           string `json:"url"`
	Title         string `json:"title"`
	Summary       string `json:"summary,omitempty"`
	ContentHTML   string `json:"content_html"`
	DatePublished string `json:"date_published"`
	DateModified  string `json:"date_modified"`
	Language      string `json:"language"`
	// The lead image and the files (attachments.go).
	Image       string           `json:"image,omitempty"`
	Attachments []jsonAttachment `json:"attachments,omitempty"`
}

type jsonAttachment struct {
	URL         string `json:"url"`
	MIMEType    string `json:"mime_type"`
	Title       string `json:"title"`
	SizeInBytes int64  `json:"size_in_bytes"`
}

func (h *Handler) jsonFeed(lang, self string, items []feedItem) ([]byte, error) {
	doc := jsonFeedDoc{Version: "https://jsonfeed.org/version/1.1", Title: h.cfg.Name, HomePageURL: h.base + "/news/" + lang + "/",
		FeedURL: self, Description: labelsFor(lang).Latest, Language: lang, Icon: h.cfg.LogoURL,
		Authors: []jsonAuthor{{h.cfg.Name}}, Items: []jsonFeedItem{}}
	for _, it := range items {
		ji := jsonFeedItem{ID: it.ID, URL: it.URL, Title: it.Title, Summary: it.Summary,
			ContentHTML: it.HTML, DatePublished: it.Published.UTC().Format(time.RFC3339),
			DateModified: it.Modified.UTC().Format(time.RFC3339), Language: lang, Image: it.Image}
		for _, f := range it.Files {
			ji.Attachments = append(ji.Attachments, jsonAttachment{URL: f.URL, MIMEType: f.ContentType, Title: f.Name, SizeInBytes: f.Bytes})
		}
		doc.Items = append(doc.Items, ji)
	}
	b, err := json.MarshalIndent(doc, "", "  ")
	if err != nil {
		return nil, fmt.Errorf("newsroom: encode feed: %w", err)
	}
	return append(b, '\n'), nil
}

// sitemap lists the newest releases of every language
// (https://www.sitemaps.org/protocol.html), with their other versions.
func (h *Handler) sitemap(w http.ResponseWriter, r *http.Request) error {
	type xhtmlLink struct {
		Rel      string `xml:"rel,attr"`
		Hreflang string `xml:"hreflang,attr"`
		Href     string `xml:"href,attr"`
	}
	type urlEntry struct {
		Loc     string      `xml:"loc"`
		LastMod string      `xml:"lastmod,omitempty"`
		Links   []xhtmlLink `xml:"xhtml:link"`
	}
	type urlset struct {
		XMLName xml.Name   `xml:"http://www.sitemaps.org/schemas/sitemap/0.9 urlset"`
		XHTML   string     `xml:"xmlns:xhtml,attr"`
		URLs    []urlEntry `xml:"url"`
	}
	doc := urlset{XHTML: "http://www.w3.org/1999/xhtml"}
	var modified time.Time
	now := h.now()
	for _, lang := range h.cfg.Languages {
		doc.URLs = append(doc.URLs, urlEntry{Loc: h.base + "/news/" + lang + "/"})
		es, _, err := h.store.NewsPage(r.Context(), lang, now, "", sitemapPerLanguage, false)
		if err != nil {
			return err
		}
		for _, e := range es {
			u := urlEntry{Loc: h.url(lang, e.Paths[lang]), LastMod: e.Modified().UTC().Format(time.RFC3339)}
			for _, l := range e.Release.Languages() {
				if l != lang && e.Paths[l] != "" && h.hasLanguage(l) {
					u.Links = append(u.Links, xhtmlLink{"alternate", l, h.url(l, e.Paths[l])})
				}
			}
			doc.URLs = append(doc.URLs, u)
			if m := e.Modified(); m.After(modified) {
				modified = m
			}
		}
	}
	body, err := marshalXML(doc)
	if err != nil {
		return err
	}
	writeCached(w, r, "application/xml; charset=utf-8", body, modified, maxAge)
	return nil
}

// sitemapPerLanguage is how many of each language's newest releases the
// sitemap lists (a sitemap holds at most 50,000 URLs).
const sitemapPerLanguage = 5000
