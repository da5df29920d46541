package newsroom_test

import (
	"fmt"
	"html"
	"regexp"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/newsroom"
)

// TestIndexPaging walks the index page by page through its "older" links:
// every public release once, newest first, releases published at the same
// millisecond included; one not yet public on none.
func TestIndexPaging(t *testing.T) {
	rg := newRig(t, newsroom.Config{PageSize: 2})
	var want []string
	for i := range 5 {
		title := fmt.Sprintf("Comunicado número %d", i+1)
		rg.clock.Add(time.Millisecond) // ids are ordered by creation time
		rel := rg.newRelease(title, nil)
		at := start.Add(time.Duration(i/2) * time.Hour) // two pairs share a time
		rg.send(rel.ID, at)
		want = append([]string{title}, want...)
	}
	later := rg.newRelease("Comunicado del futuro", nil)
	rg.send(later.ID, start.Add(48*time.Hour))
	rg.clock.Set(start.Add(24 * time.Hour))

	titleRe := regexp.MustCompile(`<h2><a href="[^"]+">([^<]+)</a></h2>`)
	olderRe := regexp.MustCompile(`<a rel="next" href="([^"]+)">`)
	var got []string
	pages := 0
	for path := "/news/es/"; path != ""; pages++ {
		if pages > 5 {
			t.Fatalf("more pages than releases")
		}
		res := rg.get(path)
		if res.status != 200 {
			t.Fatalf("GET %s = %d", path, res.status)
		}
		for _, m := range titleRe.FindAllStringSubmatch(res.body, -1) {
			got = append(got, m[1])
		}
		path = ""
		if m := olderRe.FindStringSubmatch(res.body); m != nil {
			path = html.UnescapeString(m[1])
		}
	}
	// Within a shared time, the newer id (created later) comes first.
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("titles over %d pages (-want +got):\n%s", pages, diff)
	}
	if pages != 3 {
		t.Errorf("%d pages, want 3", pages)
	}
	if res := rg.get("/news/es/?before=nonsense"); res.status != 400 {
		t.Errorf("a bad cursor: %d, want 400", res.status)
	}
}
