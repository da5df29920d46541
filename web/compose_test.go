package web

import (
	"testing"
	"time"
)

// TestZones: every zone the compose page offers loads, the frequent ones
// included, and the list has the zones of the coalition's countries.
func TestZones(t *testing.T) {
	for _, z := range append(append([]string{}, zones...), ianaZones...) {
		if _, err := time.LoadLocation(z); err != nil {
			t.Errorf("zone %q: %v", z, err)
		}
	}
	have := map[string]bool{}
	for _, z := range ianaZones {
		have[z] = true
	}
	for _, z := range []string{"America/Mexico_City", "America/Bogota", "Europe/Madrid", "UTC"} {
		if !have[z] {
			t.Errorf("%s is not offered", z)
		}
	}
}

// TestAddsText: what the page says beside an audience, from the API's count.
func TestAddsText(t *testing.T) {
	d := &composeData{Count: &audienceCount{}}
	d.Count.Items = append(d.Count.Items,
		audienceItem{Audience: "lists", ID: "l1", Adds: 3},
		audienceItem{Audience: "telegram_channels", ID: "c1", Unavailable: true})
	for _, c := range []struct{ lang, audience, id, want string }{
		{"es", "lists", "l1", "añade 3"},
		{"en", "lists", "l1", "adds 3"},
		{"en", "early_lists", "l1", ""},
		{"es", "telegram_channels", "c1", "no activo: se omite"},
	} {
		if got := d.AddsText(newLang(c.lang), c.audience, c.id); got != c.want {
			t.Errorf("%s %s:%s: %q, want %q", c.lang, c.audience, c.id, got, c.want)
		}
	}
	if got := (&composeData{}).AddsText(newLang("es"), "lists", "l1"); got != "" {
		t.Errorf("without a count: %q", got)
	}
}

// TestFileSizeAndType: a file as the compose page lists it.
func TestFileSizeAndType(t *testing.T) {
	for n, want := range map[int64]string{512: "512 B", 92160: "90 kB", 3 << 20: "3.0 MB"} {
		if got := fileSize(n); got != want {
			t.Errorf("fileSize(%d) = %q, want %q", n, got, want)
		}
	}
	for ct, want := range map[string]string{"application/pdf": "PDF", "image/png": "PNG", "image/jpeg": "JPEG", "image/webp": "WebP"} {
		if got := fileType(ct); got != want {
			t.Errorf("fileType(%q) = %q, want %q", ct, got, want)
		}
	}
}
