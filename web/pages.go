package web

import (
	"fmt"
	"html/template"
	"io/fs"
	"strings"
	"time"

	"github.com/microcosm-cc/bluemonday"
)

// telegramHTML keeps the HTML that Telegram itself accepts in a post, for
// the preview (the renderer makes it; this only makes sure).
var telegramHTML = func() *bluemonday.Policy {
	p := bluemonday.NewPolicy()
	p.AllowElements("b", "strong", "i", "em", "u", "ins", "s", "strike", "del", "code", "pre", "blockquote")
	p.AllowAttrs("href").OnElements("a")
	p.AllowURLSchemes("http", "https", "mailto", "tg")
	p.RequireNoFollowOnLinks(false)
	return p
}()

var funcs = template.FuncMap{
	"date": func(t time.Time) string { return t.UTC().Format("2006-01-02 15:04 UTC") },
	"datein": func(t *time.Time, zone string) string {
		loc, err := time.LoadLocation(zone)
		if err != nil {
			loc = time.UTC
		}
		return t.In(loc).Format("2006-01-02 15:04")
	},
	"inc": func(i int) int { return i + 1 },
	// failkey is the message key of why a delivery failed (failures.go).
	"failkey": failureKey,
	// tghtml shows a Telegram post's HTML, its line breaks kept.
	"tghtml": func(s string) template.HTML {
		return template.HTML(strings.ReplaceAll(telegramHTML.Sanitize(s), "\n", "<br>"))
	},
}

// parsePages parses each page with the layout.
func parsePages() (map[string]*template.Template, error) {
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, err
	}
	pages := map[string]*template.Template{}
	for _, n := range names {
		name := strings.TrimSuffix(strings.TrimPrefix(n, "templates/"), ".html")
		if name == "layout" {
			continue
		}
		t, err := template.New(name).Funcs(funcs).ParseFS(files, "templates/layout.html", n)
		if err != nil {
			return nil, fmt.Errorf("web: page %s: %w", name, err)
		}
		pages[name] = t
	}
	return pages, nil
}
