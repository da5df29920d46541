package web

import (
	"fmt"
	"io/fs"
	"regexp"
	"strings"
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

// TestMessagesReadWithOne formats every message that takes numbers with 1
// and looks for a plural noun after it ("1 rows refused", "1 contactos",
// "1 canales"): a press officer reads those on every small list, so the
// counts are written as "noun: N", which reads right with any number.
func TestMessagesReadWithOne(t *testing.T) {
	plural := regexp.MustCompile(`(^|[^0-9.])1 ([\p{L}]+s)\b`)
	// Never 1: a password needs 12 characters or more; the chart is capped
	// at thousands of deliveries.
	never1 := map[string]bool{"users.weak": true, "chart.capped": true}
	check := func(lang, key, m string) {
		if never1[key] {
			return
		}
		if !strings.Contains(m, "%d") && !strings.Contains(m, "]d") {
			return
		}
		args := make([]any, 0, 8)
		for range 8 {
			args = append(args, 1)
		}
		got := fmt.Sprintf(m, args...)
		if i := strings.Index(got, "%!(EXTRA"); i >= 0 {
			got = got[:i]
		}
		if p := plural.FindStringSubmatch(got); p != nil {
			t.Errorf("%s %q with 1: %q reads as a plural (%q)", lang, key, got, p[0])
		}
	}
	for k, m := range messagesES {
		check("es", k, m)
	}
	for k, m := range messagesEN {
		check("en", k, m)
	}
	for k, two := range manageMessages {
		check("es", k, two[0])
		check("en", k, two[1])
	}
	if strings.HasPrefix(messagesES["send.now"], "Sin embargo") {
		t.Errorf("send.now %q: «Sin embargo» reads as «however»", messagesES["send.now"])
	}
}
