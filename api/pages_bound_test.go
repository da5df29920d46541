package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// TestReleaseCollectionsAreSummariesInBoundedPages: GET /v1/releases used
// to return every release with its whole body (103 MB for 3,000 big ones).
// Now a page holds summaries (no body, no translation bodies) unless
// fields=full, and a page of full releases ends once it holds about
// MaxPageBytes, with a next_cursor that leads to the rest.
func TestReleaseCollectionsAreSummariesInBoundedPages(t *testing.T) {
	const n, body = 24, 60 << 10 // 24 releases of 60 KB + a 60 KB translation: ~2.9 MB in all
	a := newRedisAPI(t)
	list := a.newList()
	want := map[string]bool{}
	for range n {
		want[a.newRelease(list, body, nil)] = true
	}

	w := a.do("GET", "/v1/releases?limit=1000", viewerToken, "")
	if w.Code != http.StatusOK {
		t.Fatalf("summaries: status %d: %.300s", w.Code, w.Body)
	}
	if w.Body.Len() > 64<<10 {
		t.Errorf("a page of %d summaries is %d bytes: bodies are in it", n, w.Body.Len())
	}
	var sums Page[map[string]any]
	if err := json.Unmarshal(w.Body.Bytes(), &sums); err != nil {
		t.Fatal(err)
	}
	if len(sums.Items) != n || sums.NextCursor != "" {
		t.Fatalf("summaries: %d items, next_cursor %q; want all %d on one page", len(sums.Items), sums.NextCursor, n)
	}
	for _, it := range sums.Items {
		if _, ok := it["body"]; ok {
			t.Fatalf("a summary has a body")
		}
		tr := it["translations"].([]any)[0].(map[string]any)
		if _, ok := tr["body"]; ok || tr["title"] == "" {
			t.Fatalf("a summary's translation: %v; want its title and no body", tr)
		}
		if it["title"] == "" || it["counts"] == nil {
			t.Fatalf("a summary lacks its title or counts: %v", it)
		}
	}

	// Full releases: pages of about 1 MiB that together hold them all.
	got, pages, cursor := map[string]bool{}, 0, ""
	for {
		w := a.do("GET", "/v1/releases?fields=full&limit=1000&cursor="+url.QueryEscape(cursor), viewerToken, "")
		if w.Code != http.StatusOK {
			t.Fatalf("full page %d: status %d: %.300s", pages, w.Code, w.Body)
		}
		if w.Body.Len() > DefaultMaxPageBytes+4*body {
			t.Errorf("full page %d is %d bytes, want about %d at most", pages, w.Body.Len(), DefaultMaxPageBytes)
		}
		var p Page[map[string]any]
		if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
			t.Fatal(err)
		}
		for _, it := range p.Items {
			if b, _ := it["body"].(string); len(b) != body {
				t.Fatalf("a full release's body is %d bytes, want %d", len(b), body)
			}
			got[it["id"].(string)] = true
		}
		pages++
		if p.NextCursor == "" {
			break
		}
		cursor = p.NextCursor
	}
	if len(got) != n || pages < 2 {
		t.Errorf("full releases: %d of %d in %d pages; want all, in more than one page", len(got), n, pages)
	}

	p := problemOf(t, a.do("GET", "/v1/releases?fields=everything", viewerToken, ""), http.StatusBadRequest)
	if len(p.Errors) != 1 || p.Errors[0].Field != "fields" || !strings.Contains(p.Errors[0].Message, "full") {
		t.Errorf("fields=everything: %+v", p.Errors)
	}
}

// BenchmarkReleasePages reads pages of GET /v1/releases over 500 releases of
// 30 KB (and a 30 KB translation) each, 5 of them scheduled, and reports the
// size of each answer.
func BenchmarkReleasePages(b *testing.B) {
	a := newRedisAPI(b)
	ctx := context.Background()
	list := a.newList()
	text := strings.Repeat("Párrafo del comunicado, con «comillas» y acentos. ", 600)[:30<<10]
	for i := range 500 {
		r := &dispatcher.Release{Title: fmt.Sprint("Comunicado ", i), Summary: "Resumen.", Body: text, Language: "es",
			Translations: []dispatcher.Translation{{Language: "en", Title: "Statement", Body: text}},
			Audiences:    dispatcher.Audiences{Lists: []string{list}}}
		if err := a.store.CreateRelease(ctx, r); err != nil {
			b.Fatal(err)
		}
		if i%100 == 0 {
			if _, _, err := a.store.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, false, 0); err != nil {
				b.Fatal(err)
			}
		}
	}
	for _, q := range []string{"limit=1000", "fields=full&limit=1000", "status=scheduled&limit=1"} {
		b.Run(q, func(b *testing.B) {
			size := 0
			for b.Loop() {
				w := a.do("GET", "/v1/releases?"+q, viewerToken, "")
				if w.Code != http.StatusOK {
					b.Fatalf("status %d", w.Code)
				}
				size = w.Body.Len()
			}
			b.ReportMetric(float64(size), "resp-bytes")
		})
	}
}
