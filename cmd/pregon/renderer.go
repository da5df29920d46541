package main

import (
	"errors"
	"fmt"
	"os"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/newsroom"
	"github.com/pregon/pregon/templates"
)

// newRenderer returns the renderer of messages, set up from getenv:
//
//   - PREGON_ABOUT_FILES: the organisation's "About" text, in Markdown files,
//     as "es=/etc/pregon/about.es.md,en=/etc/pregon/about.en.md"; a path
//     without "lang=" is for every language without a file of its own.
//   - PREGON_PUBLIC_URL: when set, each email links the release's page in
//     the newsroom ("read online", newsroom.Permalink).
//   - PREGON_TIMEZONE: the time zone (e.g. "America/Mexico_City") a
//     dateline's date is read in; UTC when unset.
//
// Its error names each bad variable.
func newRenderer(getenv func(string) string) (*templates.Renderer, error) {
	var opts []templates.Option
	var errs []error
	if v := strings.TrimSpace(getenv("PREGON_ABOUT_FILES")); v != "" {
		for _, item := range strings.Split(v, ",") {
			lang, path, ok := strings.Cut(strings.TrimSpace(item), "=")
			if !ok {
				lang, path = "", lang
			}
			if lang = strings.TrimSpace(lang); ok && !isLanguage(lang) {
				errs = append(errs, fmt.Errorf("PREGON_ABOUT_FILES: want lang=path items such as es=/etc/pregon/about.es.md, got language %q", lang))
				continue
			}
			data, err := os.ReadFile(strings.TrimSpace(path))
			if err != nil {
				errs = append(errs, fmt.Errorf("PREGON_ABOUT_FILES: %w", err))
				continue
			}
			opts = append(opts, templates.WithAbout(lang, string(data)))
		}
	}
	if v := strings.TrimSpace(getenv("PREGON_TIMEZONE")); v != "" {
		loc, err := time.LoadLocation(v)
		if err != nil {
			errs = append(errs, fmt.Errorf("PREGON_TIMEZONE: want a time zone such as America/Mexico_City, got %q", v))
		} else {
			opts = append(opts, templates.WithLocation(loc))
		}
	}
	// Newsroom (issue 15): emails link the release's page when the public
	// URL is set (loadConfig checks it).
	if base := strings.TrimSpace(getenv("PREGON_PUBLIC_URL")); base != "" {
		opts = append(opts, templates.WithReadOnline(func(rel *dispatcher.Release, lang string) string {
			return newsroom.Permalink(base, rel, lang)
		}))
	}
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	r, err := templates.New(opts...)
	if err != nil {
		return nil, fmt.Errorf("set up the renderer: %w", err)
	}
	return r, nil
}

// isLanguage reports whether s is a primary language subtag ("es", "en").
func isLanguage(s string) bool {
	if len(s) < 1 || len(s) > 3 {
		return false
	}
	for _, c := range s {
		if (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') {
			return false
		}
	}
	return true
}
