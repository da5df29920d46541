package newsroom_test

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/newsroom"
)

func TestFromEnv(t *testing.T) {
	dir := t.TempDir()
	env := map[string]string{
		"PREGON_NEWSROOM_LANGUAGES": "es, EN", "PREGON_NEWSROOM_NAME": "Coordinadora del Valle",
		"PREGON_NEWSROOM_LOGO_URL": "https://coordinadora-valle.example/logo.png", "PREGON_NEWSROOM_ACCENT": "#123",
		"PREGON_NEWSROOM_FOOTER": "Valle de Tlacuilo", "PREGON_NEWSROOM_TEMPLATES": dir, "PREGON_NEWSROOM_PAGE_SIZE": "5",
	}
	c, err := newsroom.FromEnv(func(k string) string { return env[k] })
	if err != nil {
		t.Fatal(err)
	}
	if strings.Join(c.Languages, ",") != "es,en" || c.Name != "Coordinadora del Valle" || c.Accent != "#123" ||
		c.Background != "#fbfaf7" || c.PageSize != 5 || c.TemplatesDir != dir || c.Footer != "Valle de Tlacuilo" {
		t.Errorf("config: %+v", c)
	}
	bad := map[string]string{
		"PREGON_NEWSROOM_LANGUAGES": "es,español", "PREGON_NEWSROOM_LOGO_URL": "javascript:alert(1)",
		"PREGON_NEWSROOM_ACCENT": "red;}body{display:none", "PREGON_NEWSROOM_BACKGROUND": "#12345",
		"PREGON_NEWSROOM_TEMPLATES": filepath.Join(dir, "missing"), "PREGON_NEWSROOM_PAGE_SIZE": "1000",
	}
	_, err = newsroom.FromEnv(func(k string) string { return bad[k] })
	for name := range bad {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("error does not name %s: %v", name, err)
		}
	}
}

// TestTemplatesOverride: a file in PREGON_NEWSROOM_TEMPLATES replaces the
// embedded one of the same name; the others stay.
func TestTemplatesOverride(t *testing.T) {
	dir := t.TempDir()
	err := os.WriteFile(filepath.Join(dir, "index.html.tmpl"),
		[]byte(`{{define "main"}}<h1 class="custom">{{.Site.Name}}: {{len .Items}}</h1>{{end}}`), 0o644)
	if err != nil {
		t.Fatal(err)
	}
	rg := newRig(t, newsroom.Config{TemplatesDir: dir, Footer: "Pie de página <b>escapado</b>"})
	rg.published("Comunicado uno")
	got := rg.get("/news/es/")
	if got.status != 200 || !strings.Contains(got.body, `<h1 class="custom">Coordinadora del Valle: 1</h1>`) {
		t.Errorf("the index template was not replaced: %d\n%s", got.status, got.body)
	}
	if !strings.Contains(got.body, "Pie de página &lt;b&gt;escapado&lt;/b&gt;") {
		t.Errorf("the embedded layout, with the footer escaped, is not used:\n%s", got.body)
	}
	css := rg.get("/news/style.css")
	if css.status != 200 || !strings.Contains(css.body, "--accent: #8a1c1c") {
		t.Errorf("style.css: %d", css.status)
	}
	if _, err := newsroom.New(newsroom.Config{Languages: []string{"es"}, TemplatesDir: t.TempDir() + "/none"}, "", nil, nil, nil, nil); err == nil {
		t.Errorf("New without a store: no error")
	}
}
