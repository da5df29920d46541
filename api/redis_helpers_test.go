package api

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/ratelimit"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
	"github.com/redis/go-redis/v9"
)

// redisAPI is the API wired as `pregon api` wires it: the Redis store, the
// dispatcher's Send on the real queue, the Redis rate limiter, over a real
// redis-server.
type redisAPI struct {
	t     testing.TB
	srv   *Server
	redis *redistest.Server
	store *store.Store
	logs  *testkit.Buffer
}

func newRedisAPI(t testing.TB, mod ...func(*Config)) *redisAPI {
	t.Helper()
	rs := redistest.Start(t)
	rdb := redis.NewClient(&redis.Options{Addr: rs.Addr, ContextTimeoutEnabled: true})
	t.Cleanup(func() { rdb.Close() })
	st := store.New(rdb, nil)
	for tok, role := range map[string]auth.Role{coordToken: auth.RoleCoordinator, viewerToken: auth.RoleViewer} {
		if err := st.CreateToken(context.Background(), auth.Hash(tok), &auth.Token{Name: string(role), Role: role}); err != nil {
			t.Fatal(err)
		}
	}
	renderer, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	logs := &testkit.Buffer{}
	log := slog.New(slog.NewJSONHandler(logs, nil))
	svc, err := dispatcher.NewService(dispatcher.Config{Store: st, Queue: queue.NewClient(rdb), Renderer: renderer, Logger: log})
	if err != nil {
		t.Fatal(err)
	}
	cfg := Config{Store: st, Sender: svc, Previewer: renderer, Audit: st, Logger: log,
		Limiter: &ratelimit.PerClient{L: ratelimit.New(rdb), Burst: ratelimit.ClientBurst}}
	for _, m := range mod {
		m(&cfg)
	}
	srv, err := New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	a := &redisAPI{t: t, srv: srv, redis: rs, store: st, logs: logs}
	t.Cleanup(func() {
		if t.Failed() {
			t.Logf("log:\n%s", logs)
		}
	})
	return a
}

// do sends a request as a coordinator (token "" for none).
func (a *redisAPI) do(method, path, token, body string) *httptest.ResponseRecorder {
	a.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if token != "" {
		r.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		r.Header.Set("Content-Type", "application/json")
	}
	w := httptest.NewRecorder()
	a.srv.ServeHTTP(w, r)
	return w
}

// must sends a request as a coordinator, checks the status and decodes the
// answer into v (when not nil).
func (a *redisAPI) must(method, path, body string, want int, v any) {
	a.t.Helper()
	w := a.do(method, path, coordToken, body)
	if w.Code != want {
		a.t.Fatalf("%s %s: status %d, want %d; body %.500s", method, path, w.Code, want, w.Body)
	}
	if v != nil {
		if err := json.Unmarshal(w.Body.Bytes(), v); err != nil {
			a.t.Fatalf("%s %s: %v in %.500s", method, path, err, w.Body)
		}
	}
}

// newList creates a press list and returns its id.
func (a *redisAPI) newList() string {
	a.t.Helper()
	var l struct{ ID string }
	a.must("POST", "/v1/lists", `{"name":"Prensa","kind":"press"}`, http.StatusCreated, &l)
	return l.ID
}

// newRelease creates a draft release to list with a body of bodyBytes
// bytes and an embargo (nil: none), and returns its id.
func (a *redisAPI) newRelease(list string, bodyBytes int, embargo *time.Time) string {
	a.t.Helper()
	in := map[string]any{
		"title": "Las comunidades piden detener el dragado", "summary": "Diecinueve cooperativas exigen suspender las obras.",
		"body": strings.Repeat("Párrafo del comunicado. ", bodyBytes/25+1)[:bodyBytes], "language": "es",
		"translations": []map[string]string{{"language": "en", "title": "Communities call for a halt", "summary": "Nineteen co-operatives.",
			"body": strings.Repeat("A paragraph. ", bodyBytes/13+1)[:bodyBytes]}},
		"audiences": map[string][]string{"lists": {list}},
	}
	if embargo != nil {
		in["embargo_until"] = embargo.UTC().Format(time.RFC3339)
	}
	b, err := json.Marshal(in)
	if err != nil {
		a.t.Fatal(err)
	}
	var r struct{ ID string }
	a.must("POST", "/v1/releases", string(b), http.StatusCreated, &r)
	return r.ID
}

// releaseOut is the part of a release the tests read.
type releaseOut struct {
	ID           string           `json:"id"`
	Status       string           `json:"status"`
	Body         *string          `json:"body"`
	Translations []map[string]any `json:"translations"`
	ScheduledAt  *time.Time       `json:"scheduled_at"`
	EmbargoUntil *time.Time       `json:"embargo_until"`
}

func rfc(t time.Time) string { return fmt.Sprintf("%q", t.UTC().Format(time.RFC3339)) }
