package templates

import (
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"testing"

	"golang.org/x/net/html"
)

// voidElements are the HTML elements that have no end tag.
var voidElements = map[string]bool{
	"area": true, "base": true, "br": true, "col": true, "embed": true, "hr": true, "img": true,
	"input": true, "link": true, "meta": true, "source": true, "track": true, "wbr": true,
}

// cssURL finds what in CSS can load something: url(...), image-set(...) and
// @import.
var cssURL = regexp.MustCompile(`(?i)url\s*\(|image-set\s*\(|@import`)

// checkHTMLStructure tokenises s and fails on an element that is not closed,
// closed out of order or closed without being open, and on anything that
// would make a mail client load a resource from another host: <img>, <link>,
// <script>, <iframe> and the like, any src, srcset, background or poster
// attribute, and url(), image-set() or @import in a <style> element or a
// style attribute. Links (<a href>) load nothing and are allowed.
func checkHTMLStructure(s string) error {
	z := html.NewTokenizer(strings.NewReader(s))
	var stack []string
	inStyle := false
	for {
		tt := z.Next()
		switch tt {
		case html.ErrorToken:
			if !errors.Is(z.Err(), io.EOF) {
				return z.Err()
			}
			if len(stack) > 0 {
				return fmt.Errorf("unclosed elements at the end: %v", stack)
			}
			return nil
		case html.StartTagToken, html.SelfClosingTagToken:
			tok := z.Token()
			switch tok.Data {
			case "img", "link", "script", "iframe", "frame", "object", "embed", "video", "audio", "source", "picture", "svg", "base":
				return fmt.Errorf("element <%s> in HTML", tok.Data)
			}
			for _, a := range tok.Attr {
				switch strings.ToLower(a.Key) {
				case "src", "srcset", "background", "poster", "data", "lowsrc", "dynsrc":
					return fmt.Errorf("attribute %s=%q on <%s>", a.Key, a.Val, tok.Data)
				case "style":
					if cssURL.MatchString(a.Val) {
						return fmt.Errorf("style %q on <%s> may load a resource", a.Val, tok.Data)
					}
				}
			}
			if tt == html.StartTagToken && !voidElements[tok.Data] {
				stack = append(stack, tok.Data)
			}
			inStyle = tok.Data == "style"
		case html.EndTagToken:
			tok := z.Token()
			if len(stack) == 0 || stack[len(stack)-1] != tok.Data {
				return fmt.Errorf("</%s> closes nothing or out of order; open: %v", tok.Data, stack)
			}
			stack = stack[:len(stack)-1]
			inStyle = false
		case html.TextToken:
			if inStyle && cssURL.Match(z.Text()) {
				return fmt.Errorf("the style sheet may load a resource: %s", z.Text())
			}
		}
	}
}

// TestCheckHTMLStructure checks the checker: it must catch each fault.
func TestCheckHTMLStructure(t *testing.T) {
	tests := []struct {
		name, html string
		ok         bool
	}{
		{"good", `<html><body><p>a <a href="https://x.example/">b</a><br></p></body></html>`, true},
		{"unclosed", `<div><p>a</div>`, false},
		{"misnested", `<p><b><i>a</b></i></p>`, false},
		{"stray end", `<p>a</p></div>`, false},
		{"remote image", `<p><img src="https://x.example/a.png"></p>`, false},
		{"link element", `<link rel="stylesheet" href="https://x.example/a.css">`, false},
		{"script", `<script src="https://x.example/a.js"></script>`, false},
		{"css url", `<style>body { background: url(https://x.example/a.png); }</style>`, false},
		{"css import", `<style>@import "https://x.example/a.css";</style>`, false},
		{"style attribute url", `<div style="background-image:url('https://x.example/a.png')"></div>`, false},
		{"background attribute", `<table background="https://x.example/a.png"></table>`, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := checkHTMLStructure(tt.html)
			if (err == nil) != tt.ok {
				t.Errorf("checkHTMLStructure = %v, want ok %v", err, tt.ok)
			}
		})
	}
}

// TestEmailHTMLStructure renders the fixture and bodies with every kind of
// Markdown, images included, and checks their HTML.
func TestEmailHTMLStructure(t *testing.T) {
	r := newRenderer(t, WithAbout("", "**About us.** See ![logo](https://x.example/logo.png) and [our site](https://x.example/)."))
	bodies := []string{
		"---\nplace: Oaxaca\n---\n# T\n\n> cita **negrita `código`** [enlace](https://example.org/)\n>\n> > anidada\n\n- a\n  1. b\n     - c\n\n```\n<pre>\n```\n\n###",
		"![Foto de la asamblea](https://example.org/foto.jpg \"Asamblea\")\n\n[![logo](https://example.org/logo.png)](https://example.org/)\n\n![](https://example.org/sin-texto.jpg)",
		"| a | b |\n|---|---|\n| <b>1</b> | ~~2~~ |\n\n- [x] hecho\n\n***\n\n<img src=\"https://example.org/raw.png\"> <div style=\"background:url(https://example.org/x.png)\">x</div>",
		"**sin cerrar *tampoco\n\n<b>raw <i>html\n\n###\n\n### Sección",
	}
	for _, lang := range []string{"es", "en"} {
		rel := fixture(t)
		email, err := r.Email(rel, lang)
		if err != nil {
			t.Fatal(err)
		}
		if err := checkHTMLStructure(email.WithUnsubscribe("https://prensa.example.org/u/x?a=1&b=2").HTML); err != nil {
			t.Errorf("fixture in %s: %v", lang, err)
		}
	}
	for i, body := range bodies {
		email, err := r.Email(release("Título", body), "es")
		if err != nil {
			t.Fatal(err)
		}
		for _, h := range []string{email.HTML, email.WithUnsubscribe("https://prensa.example.org/u/x").HTML} {
			if err := checkHTMLStructure(h); err != nil {
				t.Errorf("body %d: %v\n%s", i, err, h)
			}
		}
	}
}
