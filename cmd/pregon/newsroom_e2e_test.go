package main

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mmcdole/gofeed"
)

// TestNewsroomEndToEnd sends a release through the running service and
// finds it where the public finds it: the newsroom's index and page in
// each language, the feeds, the sitemap, and the "read online" link of the
// email, which leads to the page.
func TestNewsroomEndToEnd(t *testing.T) {
	s := startService(t, func(s *service) {
		s.env["PREGON_PUBLIC_URL"] = s.url
		s.env["PREGON_NEWSROOM_LANGUAGES"] = "es,en"
		s.env["PREGON_NEWSROOM_NAME"] = "Coalición por el Territorio"
	})
	var list, rel obj
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list); code != 201 {
		t.Fatalf("create list: %d %v", code, list)
	}
	if code := s.post("/v1/lists/"+list["id"].(string)+"/contacts", []obj{{"email": "ana@example.org", "language": "es"}}, nil); code != 200 {
		t.Fatalf("add contact: %d", code)
	}
	title := "Comunidades denuncian concesiones “exprés” en el Valle Alto"
	code := s.post("/v1/releases", obj{
		"title": title, "body": statementES, "language": "es",
		"translations": []obj{{"language": "en", "title": "Communities denounce “fast-track” concessions", "body": statementEN}},
		"audiences":    obj{"lists": []string{list["id"].(string)}}, "send": true,
	}, &rel)
	if code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	s.waitFinal(rel["id"].(string))

	get := func(path string, header ...string) (int, http.Header, string) {
		t.Helper()
		req, _ := http.NewRequest("GET", s.url+path, nil)
		for i := 0; i+1 < len(header); i += 2 {
			req.Header.Set(header[i], header[i+1])
		}
		c := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
		res, err := c.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, res.Header, string(b)
	}
	if code, h, _ := get("/news/", "Accept-Language", "en-US,en;q=0.8"); code != 302 || h.Get("Location") != "/news/en/" {
		t.Errorf("/news/ = %d to %q", code, h.Get("Location"))
	}
	code, h, index := get("/news/es/")
	if code != 200 || h.Get("Cache-Control") != "public, max-age=60" || !strings.Contains(h.Get("Content-Security-Policy"), "style-src 'self'") {
		t.Fatalf("/news/es/ = %d, Cache-Control %q, CSP %q", code, h.Get("Cache-Control"), h.Get("Content-Security-Policy"))
	}
	page := regexp.MustCompile(`href="` + regexp.QuoteMeta(s.url) + `(/news/es/\d{4}/\d{2}/[a-z0-9-]+)"`).FindStringSubmatch(index)
	if page == nil {
		t.Fatalf("the index does not link the release:\n%s", index)
	}
	if code, _, body := get(page[1]); code != 200 || !strings.Contains(body, "concesiones “exprés”") {
		t.Errorf("%s = %d", page[1], code)
	}
	feed, err := gofeed.NewParser().ParseURL(s.url + "/news/en/atom.xml")
	if err != nil || len(feed.Items) != 1 || feed.Items[0].Title != "Communities denounce “fast-track” concessions" {
		t.Errorf("atom feed: %v %+v", err, feed)
	}
	if code, _, body := get("/news/sitemap.xml"); code != 200 || !strings.Contains(body, page[1]) {
		t.Errorf("sitemap = %d", code)
	}
	if code, _, body := get("/robots.txt"); code != 200 || !strings.Contains(body, "Sitemap: "+s.url+"/news/sitemap.xml") {
		t.Errorf("robots.txt = %d:\n%s", code, body)
	}

	// The email links the page through the release's permalink.
	msgs := s.smtp.WaitFor(t, 1, 10*time.Second)
	e := parseEmail(t, msgs[0].Data)
	link := regexp.MustCompile(regexp.QuoteMeta(s.url) + `/news/es/\d{4}/\d{2}/rel_[A-Za-z0-9_]+`).FindString(e.text)
	if link == "" || !strings.Contains(e.html, `href="`+link+`"`) {
		t.Fatalf("the email has no read-online link:\n%s", e.text)
	}
	if code, h, _ := get(strings.TrimPrefix(link, s.url)); code != 301 || h.Get("Location") != s.url+page[1] {
		t.Errorf("%s = %d to %q, want 301 to %s", link, code, h.Get("Location"), page[1])
	}
}
