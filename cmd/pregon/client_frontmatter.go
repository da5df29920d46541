package main

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
)

// frontMatterKeys are the keys a release file's front matter may have.
var frontMatterKeys = []string{
	"title", "summary", "language", "contact_name", "contact_email", "contact_phone", "source_url", "timezone",
}

// releaseFile is a release (or translation) read from a Markdown file.
type releaseFile struct {
	Title, Summary, Language string
	ContactName              string
	ContactEmail             string
	ContactPhone             string
	SourceURL                string
	// Timezone is the IANA time zone the release's times are shown in
	// ("": the server's).
	Timezone string
	Body     string
}

// parseReleaseFile reads a release file: a front matter block, then the
// Markdown body, which may be empty (a draft's text may come later; see
// readReleaseFile). Its errors name the file and the line.
func parseReleaseFile(name, src string) (*releaseFile, error) {
	meta, body, err := parseFrontMatter(src)
	if err != nil {
		return nil, fmt.Errorf("%s: %w", name, err)
	}
	f := &releaseFile{
		Title: meta["title"], Summary: meta["summary"], Language: meta["language"],
		ContactName: meta["contact_name"], ContactEmail: meta["contact_email"], ContactPhone: meta["contact_phone"],
		SourceURL: meta["source_url"], Timezone: meta["timezone"], Body: body,
	}
	var missing []string
	if f.Title == "" {
		missing = append(missing, "title")
	}
	if f.Language == "" {
		missing = append(missing, "language")
	}
	if len(missing) > 0 {
		return nil, fmt.Errorf("%s: the front matter needs %s (like \"title: ...\" and \"language: es\")", name, strings.Join(missing, " and "))
	}
	if f.Timezone != "" {
		if _, err := time.LoadLocation(f.Timezone); err != nil || f.Timezone == "Local" {
			return nil, fmt.Errorf("%s: timezone %q is not a time zone name such as America/Mexico_City or Europe/Madrid", name, f.Timezone)
		}
	}
	return f, nil
}

// parseFrontMatter splits src into its front matter and its body.
//
// The front matter is the block between a first line "---" and the next line
// "---". Each of its lines is "key: value", a blank line, or a comment
// starting with "#". Values may be quoted: in double quotes with Go/JSON
// escapes, or in single quotes where two single quotes stand for one. Keys
// must be among frontMatterKeys and appear once. The body is the rest, without its leading blank lines and
// trailing white space. Windows line endings and a byte-order mark are
// accepted.
func parseFrontMatter(src string) (map[string]string, string, error) {
	src = strings.TrimPrefix(src, "\uFEFF")
	src = strings.ReplaceAll(src, "\r\n", "\n")
	lines := strings.SplitAfter(src, "\n")
	if len(lines) == 0 || !isFence(lines[0]) {
		return nil, "", fmt.Errorf(`line 1: the file must start with a front matter block: a line "---", lines like "title: ...", and another "---"`)
	}
	meta := map[string]string{}
	for i := 1; i < len(lines); i++ {
		line := strings.TrimSpace(lines[i])
		n := i + 1
		if isFence(line) {
			body := strings.Join(lines[i+1:], "")
			body = strings.TrimLeft(body, "\n")
			body = strings.TrimRight(body, " \t\n")
			return meta, body, nil
		}
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, value, ok := strings.Cut(line, ":")
		key = strings.ToLower(strings.TrimSpace(key))
		if !ok || key == "" {
			return nil, "", fmt.Errorf("line %d: want \"key: value\", got %q", n, line)
		}
		if !slices.Contains(frontMatterKeys, key) {
			return nil, "", fmt.Errorf("line %d: unknown front matter key %q (known keys: %s)", n, key, strings.Join(frontMatterKeys, ", "))
		}
		if _, dup := meta[key]; dup {
			return nil, "", fmt.Errorf("line %d: %q is set twice", n, key)
		}
		v, err := unquote(strings.TrimSpace(value))
		if err != nil {
			return nil, "", fmt.Errorf("line %d: %s: %w", n, key, err)
		}
		meta[key] = v
	}
	return nil, "", fmt.Errorf(`the front matter that starts on line 1 is not closed: add a line "---" after its last key`)
}

func isFence(line string) bool { return strings.TrimSpace(line) == "---" }

// unquote returns a front matter value without its quotes.
func unquote(v string) (string, error) {
	if len(v) < 2 {
		if v == `"` || v == "'" {
			return "", fmt.Errorf("the quote %s is not closed", v)
		}
		return v, nil
	}
	switch q := v[0]; {
	case q == '"':
		if v[len(v)-1] != '"' {
			return "", fmt.Errorf("the quote \" is not closed")
		}
		s, err := strconv.Unquote(v)
		if err != nil {
			return "", fmt.Errorf("bad escape in %s (write \\\" for a quote and \\\\ for a backslash)", v)
		}
		return s, nil
	case q == '\'':
		if v[len(v)-1] != '\'' {
			return "", fmt.Errorf("the quote ' is not closed")
		}
		inner := v[1 : len(v)-1]
		if strings.Contains(strings.ReplaceAll(inner, "''", ""), "'") {
			return "", fmt.Errorf("write '' for a quote inside '...'")
		}
		return strings.ReplaceAll(inner, "''", "'"), nil
	}
	return v, nil
}
