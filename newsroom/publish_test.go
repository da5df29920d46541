package newsroom_test

import (
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/newsroom"
)

// everyPlace lists every public URL a release shows at, with whether the
// release must be there; title is its Spanish title.
func (rg *rig) everyPlace(id, path, title string, want bool) {
	rg.t.Helper()
	permalink := "/news/es/2026/02/" + id
	pageWant, linkWant := 404, 404
	if want {
		pageWant, linkWant = 200, 301
	}
	if got := rg.get(path); got.status != pageWant {
		rg.t.Errorf("at %s: GET %s = %d, want %d", rg.clock.Now().Format(time.RFC3339Nano), path, got.status, pageWant)
	} else if want && !contains(got.body, "<h1>"+title+"</h1>") {
		rg.t.Errorf("GET %s: no title in\n%s", path, got.body)
	}
	if got := rg.get(permalink); got.status != linkWant {
		rg.t.Errorf("at %s: GET %s = %d, want %d", rg.clock.Now().Format(time.RFC3339Nano), permalink, got.status, linkWant)
	}
	for _, p := range []string{"/news/es/", "/news/es/rss.xml", "/news/es/atom.xml", "/news/es/feed.json", "/news/sitemap.xml"} {
		got := rg.get(p)
		if got.status != 200 {
			rg.t.Errorf("GET %s = %d", p, got.status)
			continue
		}
		if has := contains(got.body, path); has != want {
			rg.t.Errorf("at %s: %s lists %s: %v, want %v", rg.clock.Now().Format(time.RFC3339Nano), p, path, has, want)
		}
		if has := contains(got.body, id); has {
			rg.t.Errorf("%s shows the release id %s", p, id)
		}
	}
}

// TestEmbargoBoundary checks every public URL just before and just after
// an embargo's lift: 404 (and absent from the index, the feeds and the
// sitemap) one millisecond before, there at the lift.
func TestEmbargoBoundary(t *testing.T) {
	rg := newRig(t, newsroom.Config{})
	lift := start
	rel := rg.newRelease("Comunidades del valle exigen detener la presa", &lift)
	draft := rg.newRelease("Borrador que nadie debe ver", nil)
	rg.send(rel.ID, lift)

	path := rg.path(rel.ID, "es")
	if want := "/news/es/2026/02/comunidades-del-valle-exigen-detener-la-presa"; path != want {
		t.Fatalf("path = %s, want %s", path, want)
	}
	rg.clock.Set(lift.Add(-time.Millisecond))
	rg.everyPlace(rel.ID, path, rel.Title, false)

	// The worker moves it to sending a little late: it was public already.
	rg.clock.Set(lift)
	rg.everyPlace(rel.ID, path, rel.Title, true)
	rg.setStatus(rel.ID, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled)
	rg.clock.Set(lift.Add(time.Second))
	rg.everyPlace(rel.ID, path, rel.Title, true)

	// The English version, linked both ways with hreflang.
	en := rg.path(rel.ID, "en")
	page := rg.get(path)
	if !contains(page.body, `hreflang="en" href="`+rg.srv.URL+en+`"`) {
		t.Errorf("the Spanish page does not link %s with hreflang:\n%s", en, page.body)
	}
	if got := rg.get(en); got.status != 200 || !contains(got.body, "Valley communities demand a halt") ||
		!contains(got.body, `hreflang="es" href="`+rg.srv.URL+path+`"`) {
		t.Errorf("GET %s = %d:\n%s", en, got.status, got.body)
	}
	if _, err := rg.store.NewsEntry(t.Context(), draft.ID); err == nil {
		t.Errorf("a draft is in the newsroom's index")
	}
}

// TestScheduledWithoutEmbargo: a release sent for later is public when its
// sending is due, and a cancelled one never.
func TestScheduledWithoutEmbargo(t *testing.T) {
	rg := newRig(t, newsroom.Config{})
	at := start
	rel := rg.newRelease("Asamblea convoca a marcha el sábado", nil)
	gone := rg.newRelease("Comunicado cancelado antes de salir", nil)
	rg.send(rel.ID, at)
	rg.send(gone.ID, at)
	path, gonePath := rg.path(rel.ID, "es"), rg.path(gone.ID, "es")

	rg.clock.Set(at.Add(-time.Millisecond))
	rg.everyPlace(rel.ID, path, rel.Title, false)
	rg.setStatus(gone.ID, dispatcher.ReleaseCancelled, dispatcher.ReleaseScheduled)
	rg.clock.Set(at)
	rg.everyPlace(rel.ID, path, rel.Title, true)
	rg.everyPlace(gone.ID, gonePath, gone.Title, false)

	// Cancelled while sending, after it was public: gone everywhere.
	rg.setStatus(rel.ID, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled)
	rg.setStatus(rel.ID, dispatcher.ReleaseCancelled, dispatcher.ReleaseSending)
	rg.everyPlace(rel.ID, path, rel.Title, false)
}

// TestSlugs: unique within a month, and unchanged by a correction once
// public.
func TestSlugs(t *testing.T) {
	rg := newRig(t, newsroom.Config{})
	a := rg.newRelease("¡Alto a la presa! Año 2026", nil)
	b := rg.newRelease("¡Alto a la presa! Año 2026", nil)
	rg.send(a.ID, start)
	rg.send(b.ID, start)
	if got, want := rg.path(a.ID, "es"), "/news/es/2026/02/alto-a-la-presa-ano-2026"; got != want {
		t.Errorf("first: %s, want %s", got, want)
	}
	if got, want := rg.path(b.ID, "es"), "/news/es/2026/02/alto-a-la-presa-ano-2026-2"; got != want {
		t.Errorf("second: %s, want %s", got, want)
	}
	rg.clock.Set(start)
	if got := rg.get(rg.path(b.ID, "es")); got.status != 200 || !strings.Contains(got.body, "Año 2026") {
		t.Errorf("second page: %d", got.status)
	}

	// Before it is public, an edit of the title changes the slug and
	// frees the old one; an edit that sends it back to draft takes it out.
	c := rg.newRelease("Título provisional", nil)
	rg.send(c.ID, start.Add(time.Hour))
	old := rg.path(c.ID, "es")
	cur, err := rg.store.Release(t.Context(), c.ID)
	if err != nil {
		t.Fatal(err)
	}
	cur.Title = "Título definitivo"
	if _, err := rg.store.EditRelease(t.Context(), &dispatcher.Edit{Release: cur, Base: cur.Version}); err != nil {
		t.Fatal(err)
	}
	if got, want := rg.path(c.ID, "es"), "/news/es/2026/02/titulo-definitivo"; got != want || got == old {
		t.Errorf("after the edit: %s, want %s (was %s)", got, want, old)
	}
	rg.clock.Set(start.Add(time.Hour))
	if got := rg.get(old); got.status != 404 {
		t.Errorf("the old slug %s = %d", old, got.status)
	}
	if got := rg.get(rg.path(c.ID, "es")); got.status != 200 {
		t.Errorf("the new slug = %d", got.status)
	}
}
