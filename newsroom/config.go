package newsroom

import (
	"errors"
	"fmt"
	"net/url"
	"os"
	"regexp"
	"strconv"
	"strings"
)

// Config is what an operator sets about the newsroom, read by FromEnv from
// PREGON_NEWSROOM_* variables. The zero value of each field is documented.
type Config struct {
	// Languages are the languages the newsroom has a section for, the
	// first being the one /news/ sends a reader to when their browser asks
	// for none of them (PREGON_NEWSROOM_LANGUAGES, "es,en"; default "en").
	Languages []string
	// Name is the organisation's name, in the header, the feeds' titles
	// and Open Graph's site name (PREGON_NEWSROOM_NAME; default "Newsroom").
	Name string
	// LogoURL is an http(s) URL of the organisation's logo, shown in the
	// header and given as og:image (PREGON_NEWSROOM_LOGO_URL; default none).
	LogoURL string
	// Accent and Background are the colours of links and the header, and
	// of the page, as #rgb or #rrggbb (PREGON_NEWSROOM_ACCENT, default
	// #8a1c1c; PREGON_NEWSROOM_BACKGROUND, default #fbfaf7).
	Accent, Background string
	// Footer is plain text shown at the foot of every page
	// (PREGON_NEWSROOM_FOOTER; default none).
	Footer string
	// TemplatesDir is a folder whose layout.html.tmpl, index.html.tmpl,
	// release.html.tmpl, notfound.html.tmpl or style.css replace the
	// embedded ones (PREGON_NEWSROOM_TEMPLATES; default none).
	TemplatesDir string
	// PageSize is how many releases a page of the index and a feed hold
	// (PREGON_NEWSROOM_PAGE_SIZE; default 20, at most 100).
	PageSize int
}

var (
	langRe  = regexp.MustCompile(`^[a-z]{2,3}$`)
	colorRe = regexp.MustCompile(`^#([0-9a-fA-F]{3}|[0-9a-fA-F]{6})$`)
)

// FromEnv reads the newsroom's Config from getenv. Its error names every
// bad variable.
func FromEnv(getenv func(string) string) (Config, error) {
	get := func(name, def string) string {
		if v := strings.TrimSpace(getenv(name)); v != "" {
			return v
		}
		return def
	}
	c := Config{
		Name:         get("PREGON_NEWSROOM_NAME", "Newsroom"),
		LogoURL:      get("PREGON_NEWSROOM_LOGO_URL", ""),
		Accent:       get("PREGON_NEWSROOM_ACCENT", "#8a1c1c"),
		Background:   get("PREGON_NEWSROOM_BACKGROUND", "#fbfaf7"),
		Footer:       get("PREGON_NEWSROOM_FOOTER", ""),
		TemplatesDir: get("PREGON_NEWSROOM_TEMPLATES", ""),
		PageSize:     20,
	}
	var errs []error
	bad := func(name, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: "+format, append([]any{name}, args...)...))
	}
	for _, l := range strings.Split(get("PREGON_NEWSROOM_LANGUAGES", "en"), ",") {
		l = strings.ToLower(strings.TrimSpace(l))
		if !langRe.MatchString(l) {
			bad("PREGON_NEWSROOM_LANGUAGES", "want language codes such as es,en, got %q", l)
			continue
		}
		c.Languages = append(c.Languages, l)
	}
	if c.LogoURL != "" {
		if u, err := url.Parse(c.LogoURL); err != nil || (u.Scheme != "https" && u.Scheme != "http") || u.Host == "" {
			bad("PREGON_NEWSROOM_LOGO_URL", "want an absolute http(s) URL, got %q", c.LogoURL)
		}
	}
	if !colorRe.MatchString(c.Accent) {
		bad("PREGON_NEWSROOM_ACCENT", "want a colour such as #8a1c1c, got %q", c.Accent)
	}
	if !colorRe.MatchString(c.Background) {
		bad("PREGON_NEWSROOM_BACKGROUND", "want a colour such as #fbfaf7, got %q", c.Background)
	}
	if c.TemplatesDir != "" {
		if st, err := os.Stat(c.TemplatesDir); err != nil || !st.IsDir() {
			bad("PREGON_NEWSROOM_TEMPLATES", "want a folder, got %q", c.TemplatesDir)
		}
	}
	if v := get("PREGON_NEWSROOM_PAGE_SIZE", ""); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > 100 {
			bad("PREGON_NEWSROOM_PAGE_SIZE", "want a number from 1 to 100, got %q", v)
		}
		c.PageSize = n
	}
	return c, errors.Join(errs...)
}
