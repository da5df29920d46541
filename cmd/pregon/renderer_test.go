package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

func TestNewRenderer(t *testing.T) {
	dir := t.TempDir()
	es, other := filepath.Join(dir, "about.es.md"), filepath.Join(dir, "about.md")
	for path, text := range map[string]string{es: "**Acerca de la Coordinadora.**", other: "**About the Committee.**"} {
		if err := os.WriteFile(path, []byte(text), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	env := func(vars map[string]string) func(string) string {
		return func(k string) string { return vars[k] }
	}

	r, err := newRenderer(env(map[string]string{"PREGON_ABOUT_FILES": "es=" + es + ", " + other, "PREGON_TIMEZONE": "America/Mexico_City"}))
	if err != nil {
		t.Fatal(err)
	}
	for lang, want := range map[string]string{"es": "Acerca de la Coordinadora.", "en": "About the Committee."} {
		rel := &dispatcher.Release{ID: "rel", Title: "T", Body: "B", Language: lang}
		email, err := r.Email(rel, lang)
		if err != nil {
			t.Fatal(err)
		}
		if !strings.Contains(email.Text, want) {
			t.Errorf("%s: the text lacks %q:\n%s", lang, want, email.Text)
		}
	}

	_, err = newRenderer(env(map[string]string{"PREGON_ABOUT_FILES": "es=" + filepath.Join(dir, "missing.md") + ",es-MX-x=" + es, "PREGON_TIMEZONE": "Mars/Olympus"}))
	if err == nil {
		t.Fatal("newRenderer accepted a missing file, a bad language and a bad time zone")
	}
	for _, want := range []string{"missing.md", `"es-MX-x"`, "PREGON_TIMEZONE", `"Mars/Olympus"`} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("the error does not say %s: %v", want, err)
		}
	}
}
