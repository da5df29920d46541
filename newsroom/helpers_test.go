package newsroom_test

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/newsroom"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
)

// rig is a newsroom on a real Redis, behind a real HTTP server, with a
// clock the test moves.
type rig struct {
	t     *testing.T
	clock *testkit.Clock
	store *store.Store
	srv   *httptest.Server
}

// start is the lift of the rigs' embargoes: 4 February 2026, 16:00 UTC.
var start = time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)

func newRig(t *testing.T, cfg newsroom.Config) *rig {
	t.Helper()
	clock := testkit.NewClock(start.Add(-time.Hour))
	st := store.New(redistest.Start(t).Client(t), clock.Now)
	rd, err := templates.New(templates.WithClock(clock.Now))
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Languages == nil {
		cfg.Languages = []string{"es", "en"}
	}
	if cfg.Name == "" {
		cfg.Name = "Coordinadora del Valle"
	}
	cfg.Accent, cfg.Background = "#8a1c1c", "#fbfaf7"
	rg := &rig{t: t, clock: clock, store: st}
	var h http.Handler
	mux := http.NewServeMux()
	mux.Handle("/", http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { h.ServeHTTP(w, r) }))
	rg.srv = httptest.NewServer(mux)
	t.Cleanup(rg.srv.Close)
	nh, err := newsroom.New(cfg, rg.srv.URL, st, rd, clock.Now, nil)
	if err != nil {
		t.Fatal(err)
	}
	h = nh
	return rg
}

const bodyES = `CIUDAD DE MÉXICO, 4 de febrero de 2026.

Las comunidades del valle **exigen** la suspensión inmediata de las obras. «No nos consultaron», dijo Ana Pérez.

> “Cambiemos…” el rumbo, dijo la asamblea.

Firman: Colectivo Agua Viva, Red de Mujeres del Valle.

###
`

const bodyEN = `MEXICO CITY, 4 February 2026.

The communities of the valley **demand** that the works stop at once. "Nobody asked us", said Ana Pérez.

###
`

// newRelease stores a release in Spanish with an English translation.
func (rg *rig) newRelease(title string, embargo *time.Time) *dispatcher.Release {
	rg.t.Helper()
	r := &dispatcher.Release{Title: title, Summary: "Las comunidades exigen detener las obras.", Body: bodyES, Language: "es",
		Translations: []dispatcher.Translation{{Language: "en", Title: "Valley communities demand a halt to the dam works",
			Summary: "The communities demand that the works stop.", Body: bodyEN}},
		Contact:      &dispatcher.PressContact{Name: "Ana Pérez", Email: "prensa@example.org", Phone: "+52 55 1234 5678"},
		EmbargoUntil: embargo, Audiences: dispatcher.Audiences{Lists: []string{}, EarlyLists: []string{}, TelegramChannels: []string{}}}
	if err := rg.store.CreateRelease(context.Background(), r); err != nil {
		rg.t.Fatal(err)
	}
	return r
}

// send schedules a release as dispatcher.Service.Send does for one without
// early lists: due at its embargo, or at at.
func (rg *rig) send(id string, at time.Time) {
	rg.t.Helper()
	if _, _, err := rg.store.ScheduleSend(context.Background(), id, at, time.Time{}, false, 0); err != nil {
		rg.t.Fatal(err)
	}
}

func (rg *rig) setStatus(id string, to dispatcher.ReleaseStatus, from ...dispatcher.ReleaseStatus) {
	rg.t.Helper()
	st, err := rg.store.SetReleaseStatus(context.Background(), id, to, from...)
	if err != nil || st != to {
		rg.t.Fatalf("set status of %s to %s: got %s, %v", id, to, st, err)
	}
}

type response struct {
	status int
	header http.Header
	body   string
}

func (rg *rig) get(path string, header ...string) response {
	rg.t.Helper()
	req, err := http.NewRequest(http.MethodGet, rg.srv.URL+path, nil)
	if err != nil {
		rg.t.Fatal(err)
	}
	for i := 0; i+1 < len(header); i += 2 {
		req.Header.Set(header[i], header[i+1])
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		rg.t.Fatal(err)
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	if err != nil {
		rg.t.Fatal(err)
	}
	return response{res.StatusCode, res.Header, string(b)}
}

// path returns the path of release id's version in lang, from the index.
func (rg *rig) path(id, lang string) string {
	rg.t.Helper()
	e, err := rg.store.NewsEntry(context.Background(), id)
	if err != nil {
		rg.t.Fatal(err)
	}
	if e.Paths[lang] == "" {
		rg.t.Fatalf("release %s has no %s path: %v", id, lang, e.Paths)
	}
	return "/news/" + lang + "/" + e.Paths[lang]
}

func contains(body, s string) bool { return strings.Contains(body, s) }
