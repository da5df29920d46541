package linkcheck

import (
	"strings"

	"github.com/yuin/goldmark"
	"github.com/yuin/goldmark/ast"
	"github.com/yuin/goldmark/extension"
	"github.com/yuin/goldmark/text"
)

// markdown is the dialect releases are written in (see templates): GitHub's
// extensions, whose autolinks make a bare www.example.org or
// https://example.org a link.
var markdown = goldmark.New(goldmark.WithExtensions(extension.GFM))

// Links returns the links of a Markdown text, in the order they appear,
// each once: the destinations of links and images (reference links
// included) and autolinks, an autolink without a scheme (www.example.org)
// read as http. Email autolinks are left out.
func Links(src string) []string {
	b := []byte(src)
	doc := markdown.Parser().Parse(text.NewReader(b))
	var out []string
	seen := map[string]bool{}
	add := func(u string) {
		if u = strings.TrimSpace(u); u != "" && !seen[u] {
			seen[u] = true
			out = append(out, u)
		}
	}
	_ = ast.Walk(doc, func(n ast.Node, entering bool) (ast.WalkStatus, error) {
		if !entering {
			return ast.WalkContinue, nil
		}
		switch n := n.(type) {
		case *ast.Link:
			add(string(n.Destination))
		case *ast.Image:
			add(string(n.Destination))
		case *ast.AutoLink:
			if n.AutoLinkType == ast.AutoLinkEmail {
				break
			}
			u := string(n.URL(b))
			if !strings.Contains(u, "://") && !strings.HasPrefix(strings.ToLower(u), "mailto:") {
				u = "http://" + u
			}
			add(u)
		}
		return ast.WalkContinue, nil
	})
	return out
}

// Web reports whether a link is one a reader's browser opens on the web:
// not mailto:, tel: or another scheme that names no web page. Links
// without a scheme count, since they are broken in a message.
func Web(link string) bool {
	scheme, _, ok := strings.Cut(link, ":")
	if !ok || strings.ContainsAny(scheme, "/?#") {
		return true
	}
	switch strings.ToLower(scheme) {
	case "mailto", "tel", "sms", "geo":
		return false
	}
	return true
}
