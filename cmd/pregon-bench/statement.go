package main

import (
	"fmt"
	"os"
	"strings"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// statement is a release file: its front matter and its Markdown body.
type statement struct {
	meta map[string]string
	body string
}

// readStatement reads a release file such as examples/demo-release.md: a
// front matter block between two "---" lines ("key: value" lines, "#"
// comments), then the body.
func readStatement(path string) (*statement, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, err
	}
	src := strings.ReplaceAll(string(data), "\r\n", "\n")
	rest, ok := strings.CutPrefix(src, "---\n")
	if !ok {
		return nil, fmt.Errorf("%s: no front matter", path)
	}
	front, body, ok := strings.Cut(rest, "\n---\n")
	if !ok {
		return nil, fmt.Errorf("%s: the front matter is not closed", path)
	}
	st := &statement{meta: map[string]string{}, body: strings.TrimSpace(body)}
	for line := range strings.Lines(front) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if k, v, ok := strings.Cut(line, ":"); ok {
			st.meta[strings.TrimSpace(k)] = strings.Trim(strings.TrimSpace(v), `"`)
		}
	}
	if st.meta["title"] == "" || st.meta["language"] == "" || st.body == "" {
		return nil, fmt.Errorf("%s: want a title, a language and a body", path)
	}
	return st, nil
}

// emailRelease returns the release the email runs send to the list: the demo
// statement (~5 KB) with its English translation, so that each recipient
// gets the version in their language.
func emailRelease(listID string) (*client.NewRelease, error) {
	es, err := readStatement("examples/demo-release.md")
	if err != nil {
		return nil, err
	}
	in := &client.NewRelease{
		Title: es.meta["title"], Summary: es.meta["summary"], Body: es.body, Language: es.meta["language"],
		SourceURL: es.meta["source_url"],
		Contact: &dispatcher.PressContact{Name: es.meta["contact_name"], Email: es.meta["contact_email"],
			Phone: es.meta["contact_phone"]},
		Audiences: client.Audiences{Lists: []string{listID}},
		Send:      true,
	}
	if en, err := readStatement("examples/demo-release.en.md"); err == nil {
		in.Translations = []dispatcher.Translation{{Language: en.meta["language"], Title: en.meta["title"],
			Summary: en.meta["summary"], Body: en.body}}
	}
	return in, nil
}
