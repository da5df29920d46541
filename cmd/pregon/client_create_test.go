package main

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
)

// createRig is the API on a real Redis, with idempotency keys kept unless
// noKeys, behind wrap (nil: none), and a file to create releases from.
type createRig struct {
	t    *testing.T
	srv  *httptest.Server
	file string
	list string
}

func newCreateRig(t *testing.T, noKeys bool, wrap func(http.Handler) http.Handler) *createRig {
	t.Helper()
	rdb := redistest.Start(t).Client(t)
	st := store.New(rdb, nil)
	if err := st.CreateToken(context.Background(), auth.Hash("pgn_ana"), &auth.Token{Name: "ana", Role: auth.RoleCoordinator}); err != nil {
		t.Fatal(err)
	}
	renderer, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dispatcher.NewService(dispatcher.Config{Store: st, Queue: queue.NewClient(rdb), Renderer: renderer})
	if err != nil {
		t.Fatal(err)
	}
	cfg := api.Config{Store: st, Sender: svc, Previewer: renderer, Audit: st, Idempotency: st}
	if noKeys {
		cfg.Idempotency = nil
	}
	h, err := api.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	var hh http.Handler = h
	if wrap != nil {
		hh = wrap(h)
	}
	r := &createRig{t: t, srv: httptest.NewServer(hh), file: filepath.Join(t.TempDir(), "rel.md")}
	t.Cleanup(r.srv.Close)
	if err := os.WriteFile(r.file, []byte("---\ntitle: Dragado\nlanguage: es\n---\nTexto.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	a := r.client()
	l, err := a.CreateList(context.Background(), client.NewList{Name: "Prensa", Kind: "press"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.ImportContacts(context.Background(), l.ID, []dispatcher.Contact{{Email: "marie@example.fr", Language: "fr"}}); err != nil {
		t.Fatal(err)
	}
	r.list = l.ID
	return r
}

func (r *createRig) client() *client.Client {
	a, err := client.New(r.srv.URL, "pgn_ana")
	if err != nil {
		r.t.Fatal(err)
	}
	return a
}

// run runs the CLI and returns its stdout and stderr.
func (r *createRig) run(args ...string) (string, string, error) {
	var stdout, stderr strings.Builder
	c := &cli{stdout: &stdout, stderr: &stderr, http: r.srv.Client(), poll: 1,
		getenv: func(k string) string {
			return map[string]string{"PREGON_API_URL": r.srv.URL, "PREGON_TOKEN": "pgn_ana"}[k]
		}}
	err := c.run(context.Background(), args[0], args[1:])
	return stdout.String(), stderr.String(), err
}

func (r *createRig) releases() int {
	r.t.Helper()
	p, err := r.client().ListReleases(context.Background(), client.PageQuery{Limit: 100})
	if err != nil {
		r.t.Fatal(err)
	}
	return len(p.Items)
}

// TestCreateIdempotencyKey: the Go client's CreateRelease with the same
// Idempotency-Key twice makes one release; the CLI sends a key of its own
// on each run (another each time), or the one given with
// --idempotency-key, so that running it again with that key returns the
// release made the first time. It prints the create's warnings on stderr.
func TestCreateIdempotencyKey(t *testing.T) {
	var mu sync.Mutex
	var keys []string
	r := newCreateRig(t, false, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			if req.Method == http.MethodPost && req.URL.Path == "/v1/releases" {
				mu.Lock()
				keys = append(keys, req.Header.Get("Idempotency-Key"))
				mu.Unlock()
			}
			h.ServeHTTP(w, req)
		})
	})
	ctx := context.Background()
	in := &client.NewRelease{Title: "Dragado", Body: "Texto.", Language: "es", Audiences: client.Audiences{Lists: []string{r.list}},
		IdempotencyKey: client.NewIdempotencyKey()}
	first, err := r.client().CreateRelease(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	second, err := r.client().CreateRelease(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if first.ID != second.ID || r.releases() != 1 {
		t.Fatalf("two creates with key %q: %s and %s, %d releases; want one", in.IdempotencyKey, first.ID, second.ID, r.releases())
	}
	if len(first.Warnings) != 1 || first.Warnings[0].Name != "languages" {
		t.Errorf("warnings %+v, want the languages warning (a member reads fr)", first.Warnings)
	}

	id1, stderr, err := r.run("release", "send", r.file, "--list", r.list, "--draft", "--idempotency-key", "comunicado-dragado")
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(stderr, "warning: languages: No version in fr (1 recipient)") {
		t.Errorf("stderr %q, want the languages warning", stderr)
	}
	id2, _, err := r.run("release", "send", r.file, "--list", r.list, "--draft", "--idempotency-key", "comunicado-dragado")
	if err != nil || id1 != id2 || r.releases() != 2 {
		t.Fatalf("the CLI twice with one key: %q then %q (%v), %d releases; want the same release, 2 in all", id1, id2, err, r.releases())
	}
	id3, _, err := r.run("release", "send", r.file, "--list", r.list, "--draft")
	if err != nil || id3 == id1 {
		t.Fatalf("the CLI without a key: %q (%v), want a new release", id3, err)
	}
	id4, _, _ := r.run("release", "send", r.file, "--list", r.list, "--draft")
	if id4 == id3 || r.releases() != 4 {
		t.Fatalf("the CLI twice without a key: %q, %q; want two releases", id3, id4)
	}
	mu.Lock()
	defer mu.Unlock()
	if n := len(keys); n != 6 || keys[2] != "comunicado-dragado" || keys[4] == "" || keys[5] == "" || keys[4] == keys[5] {
		t.Errorf("Idempotency-Key of each create: %q; want the client's twice, the flag's twice, then two random ones", keys)
	}
}

// TestCreateRetriedAfterLostAnswer: when the answer to the create is lost
// (the connection closes after the server made the release), the CLI tries
// again with the same key and gets the same release: one release, not two.
// A server that keeps no keys still gets the release created.
func TestCreateRetriedAfterLostAnswer(t *testing.T) {
	var mu sync.Mutex
	lost := false
	r := newCreateRig(t, false, func(h http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, req *http.Request) {
			mu.Lock()
			drop := !lost && req.Method == http.MethodPost && req.URL.Path == "/v1/releases"
			lost = lost || drop
			mu.Unlock()
			if !drop {
				h.ServeHTTP(w, req)
				return
			}
			h.ServeHTTP(httptest.NewRecorder(), req) // made, but the answer is lost
			conn, _, err := http.NewResponseController(w).Hijack()
			if err != nil {
				t.Error(err)
				return
			}
			conn.Close()
		})
	})
	out, stderr, err := r.run("release", "send", r.file, "--list", r.list, "--draft")
	if err != nil || !strings.HasPrefix(out, "rel_") || !strings.Contains(stderr, "trying again") {
		t.Fatalf("stdout %q, stderr %q, err %v; want the release id after a retry", out, stderr, err)
	}
	if n := r.releases(); n != 1 {
		t.Errorf("%d releases after a retried create, want 1", n)
	}

	plain := newCreateRig(t, true, nil)
	out, stderr, err = plain.run("release", "send", plain.file, "--list", plain.list, "--draft")
	if err != nil || !strings.HasPrefix(out, "rel_") || plain.releases() != 1 || !strings.Contains(stderr, "keeps no idempotency keys") {
		t.Errorf("on a server without keys: stdout %q, stderr %q, err %v", out, stderr, err)
	}
}
