package web

import (
	"io/fs"
	"regexp"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// TestMessages checks that Spanish and English have the same messages, and
// that every message the templates and the code name, and every status they
// name by prefix, exists.
func TestMessages(t *testing.T) {
	for k := range messagesES {
		if _, ok := messagesEN[k]; !ok {
			t.Errorf("%q is in Spanish only", k)
		}
	}
	for k := range messagesEN {
		if _, ok := messagesES[k]; !ok {
			t.Errorf("%q is in English only", k)
		}
	}
	used := map[string]bool{}
	key := regexp.MustCompile(`\bT "([a-z_.0-9]+)"`)
	names, _ := fs.Glob(files, "templates/*.html")
	for _, n := range names {
		b, _ := fs.ReadFile(files, n)
		for _, m := range key.FindAllStringSubmatch(string(b), -1) {
			used[m[1]] = true
		}
	}
	if len(used) < 100 {
		t.Fatalf("found %d message keys in the templates: the pattern is wrong", len(used))
	}
	for _, s := range []dispatcher.ReleaseStatus{dispatcher.ReleaseDraft, dispatcher.ReleaseScheduled, dispatcher.ReleaseSending,
		dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures, dispatcher.ReleaseCancelled} {
		used["status."+string(s)] = true
	}
	for _, s := range dispatcher.DeliveryStatuses {
		used["dstatus."+string(s)] = true
	}
	for _, k := range []string{"role.admin", "role.coordinator", "role.viewer", "kind.press", "kind.subscribers",
		"level.ok", "level.warning", "level.error", "chstatus.active", "chstatus.pending", "chstatus.unavailable"} {
		used[k] = true
	}
	for k := range used {
		if _, ok := manageMessages[k]; ok {
			continue
		}
		if _, ok := messagesES[k]; !ok {
			t.Errorf("%q is used but has no message", k)
		}
	}
}

// TestPagesParse parses every page with the layout.
func TestPagesParse(t *testing.T) {
	pages, err := parsePages()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"login", "error", "releases", "compose", "release", "preview", "test", "send", "watch", "lists", "list", "channels", "users", "tokens", "contact", "erase"} {
		if pages[name] == nil {
			t.Errorf("no page %q", name)
		}
	}
}
