package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"

	"github.com/hibiken/asynq"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
)

// newTestSendAPI is newRedisAPI with test sends wired as serve wires them:
// the dispatcher on the Redis store, enqueueing on the real queue.
func newTestSendAPI(t *testing.T) *redisAPI {
	t.Helper()
	return newRedisAPI(t, func(c *Config) {
		st := c.Store.(*store.Store)
		renderer, err := templates.New()
		if err != nil {
			t.Fatal(err)
		}
		q := queue.NewClient(st.Client())
		svc, err := dispatcher.NewService(dispatcher.Config{Store: st, Queue: q, Renderer: renderer, Logger: c.Logger, Tests: st, TestQueue: q})
		if err != nil {
			t.Fatal(err)
		}
		c.Tester = svc
	})
}

// testTasks returns how many test send tasks wait in the queue.
func (a *redisAPI) testTasks() int {
	a.t.Helper()
	tasks, err := asynq.NewInspectorFromRedisClient(a.store.Client()).ListPendingTasks(queue.QueueDispatch)
	if err != nil && !errors.Is(err, asynq.ErrQueueNotFound) {
		a.t.Fatal(err)
	}
	n := 0
	for _, task := range tasks {
		if task.Type == queue.TypeTest {
			n++
		}
	}
	return n
}

// testKeys returns how many test sends are stored.
func (a *redisAPI) testKeys() int {
	a.t.Helper()
	keys, err := a.store.Client().Keys(context.Background(), "pregon:test:*").Result()
	if err != nil {
		a.t.Fatal(err)
	}
	return len(keys)
}

func addresses(n int) []string {
	out := make([]string, n)
	for i := range out {
		out[i] = fmt.Sprintf("persona%d@example.org", i)
	}
	return out
}

func jsonOf(t *testing.T, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// TestTestSendBadInput checks that a test send to too many or bad recipients
// is refused with the fields named, and stores and enqueues nothing.
func TestTestSendBadInput(t *testing.T) {
	a := newTestSendAPI(t)
	rid := a.newRelease(a.newList(), 200, nil)
	cases := []struct {
		name   string
		body   any
		fields []string
		detail string
	}{
		{"500 addresses", map[string]any{"emails": addresses(500)}, []string{"emails"}, "500 addresses; a test send goes to at most 10"},
		{"11 addresses", map[string]any{"emails": addresses(11)}, []string{"emails"}, "at most 10"},
		{"6 chats", map[string]any{"telegram_chat_ids": []string{"@canal_a1", "@canal_a2", "@canal_a3", "@canal_a4", "@canal_a5", "@canal_a6"}}, []string{"telegram_chat_ids"}, "at most 5"},
		{"no recipient", map[string]any{"emails": []string{}}, []string{"emails"}, "at least one"},
		{"bad ones", map[string]any{"emails": []string{"ana@example.org", "not-an-address", "ana@[127.0.0.1]"},
			"telegram_chat_ids": []string{"canal", "-100123", "12345"}, "language": "español"},
			[]string{"emails[1]", "emails[2]", "telegram_chat_ids[0]", "telegram_chat_ids[2]", "language"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			w := a.do("POST", "/v1/releases/"+rid+"/test", coordToken, jsonOf(t, tc.body))
			if w.Code != http.StatusBadRequest {
				t.Fatalf("status %d, want 400; body %s", w.Code, w.Body)
			}
			var p Problem
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, e := range p.Errors {
				got = append(got, e.Field)
			}
			if strings.Join(got, " ") != strings.Join(tc.fields, " ") {
				t.Errorf("field errors %v, want %v", p.Errors, tc.fields)
			}
			if !strings.Contains(w.Body.String(), tc.detail) {
				t.Errorf("problem %s lacks %q", w.Body, tc.detail)
			}
		})
	}
	if n, k := a.testTasks(), a.testKeys(); n != 0 || k != 0 {
		t.Errorf("after bad requests: %d test tasks enqueued and %d test sends stored, want none", n, k)
	}
}

// TestTestSendRelease checks the answers around a good test send: 202 with
// the test pending and enqueued, its results readable under its release
// only, and the problems for an unknown or cancelled release and a viewer.
func TestTestSendRelease(t *testing.T) {
	a := newTestSendAPI(t)
	list := a.newList()
	rid := a.newRelease(list, 200, nil)
	body := `{"emails":["Ana@Example.org","ana@example.org"],"telegram_chat_ids":["@Canal_Prensa"],"language":"fr"}`

	w := a.do("POST", "/v1/releases/"+rid+"/test", coordToken, body)
	if w.Code != http.StatusAccepted {
		t.Fatalf("status %d, want 202; body %s", w.Code, w.Body)
	}
	var ts dispatcher.TestSend
	if err := json.Unmarshal(w.Body.Bytes(), &ts); err != nil {
		t.Fatal(err)
	}
	want := []dispatcher.TestResult{
		{Channel: dispatcher.ChannelEmail, Recipient: "ana@example.org", Status: dispatcher.TestPending, MessageIDs: []string{}},
		{Channel: dispatcher.ChannelTelegram, Recipient: "@canal_prensa", Status: dispatcher.TestPending, MessageIDs: []string{}},
	}
	// No French version: the original (es) is what a French reader gets.
	if ts.ID == "" || ts.ReleaseID != rid || ts.Status != dispatcher.TestPending || ts.Language != "es" || ts.Version != 1 ||
		ts.RequestedBy != "coordinator" || jsonOf(t, ts.Results) != jsonOf(t, want) {
		t.Errorf("202 body %s; want a pending test of version 1 in es by coordinator to %s", w.Body, jsonOf(t, want))
	}
	if loc := w.Header().Get("Location"); loc != "/v1/releases/"+rid+"/tests/"+ts.ID {
		t.Errorf("Location %q", loc)
	}
	if n := a.testTasks(); n != 1 {
		t.Errorf("%d test tasks enqueued, want 1", n)
	}

	var got dispatcher.TestSend
	a.must("GET", "/v1/releases/"+rid+"/tests/"+ts.ID, "", http.StatusOK, &got)
	if got.ID != ts.ID || got.Status != dispatcher.TestPending || len(got.Results) != 2 {
		t.Errorf("GET test = %+v, want it pending with 2 results", got)
	}
	if w := a.do("GET", "/v1/releases/"+rid+"/tests/"+ts.ID, viewerToken, ""); w.Code != http.StatusOK {
		t.Errorf("a viewer reading the results: %d, want 200", w.Code)
	}
	other := a.newRelease(list, 100, nil)
	for _, path := range []string{"/v1/releases/" + other + "/tests/" + ts.ID, "/v1/releases/" + rid + "/tests/tst_0000000000000000000000000a"} {
		if w := a.do("GET", path, coordToken, ""); w.Code != http.StatusNotFound {
			t.Errorf("GET %s: %d, want 404", path, w.Code)
		}
	}

	// The release itself is untouched.
	var rel releaseOut
	a.must("GET", "/v1/releases/"+rid, "", http.StatusOK, &rel)
	if rel.Status != "draft" {
		t.Errorf("release status %q after a test send, want draft", rel.Status)
	}

	if w := a.do("POST", "/v1/releases/"+rid+"/test", viewerToken, body); w.Code != http.StatusForbidden {
		t.Errorf("a viewer's test send: %d, want 403", w.Code)
	}
	if w := a.do("POST", "/v1/releases/rel_0000000000000000000000000a/test", coordToken, body); w.Code != http.StatusNotFound {
		t.Errorf("test send of an unknown release: %d, want 404", w.Code)
	}
	a.must("POST", "/v1/releases/"+other+"/cancel", "", http.StatusOK, nil)
	w = a.do("POST", "/v1/releases/"+other+"/test", coordToken, body)
	if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "cancelled") {
		t.Errorf("test send of a cancelled release: %d %s, want 409 saying it was cancelled", w.Code, w.Body)
	}
	if n := a.testTasks(); n != 1 {
		t.Errorf("%d test tasks enqueued after the refused ones, want still 1", n)
	}
}

// TestTestSendRateLimit checks that one token may start ten test sends at
// once and no more (429 with Retry-After), that refused requests cost no
// turn, and that another token has turns of its own.
func TestTestSendRateLimit(t *testing.T) {
	a := newTestSendAPI(t)
	rid := a.newRelease(a.newList(), 200, nil)
	const other = "pgn_other_coordinator_secret"
	if err := a.store.CreateToken(context.Background(), auth.Hash(other), &auth.Token{Name: "luis", Role: auth.RoleCoordinator}); err != nil {
		t.Fatal(err)
	}
	body := `{"emails":["ana@example.org"]}`
	for range 3 {
		if w := a.do("POST", "/v1/releases/"+rid+"/test", coordToken, `{"emails":["nope"]}`); w.Code != http.StatusBadRequest {
			t.Fatalf("bad request: %d", w.Code)
		}
	}
	for i := range 10 {
		if w := a.do("POST", "/v1/releases/"+rid+"/test", coordToken, body); w.Code != http.StatusAccepted {
			t.Fatalf("test send %d: %d %s, want 202", i+1, w.Code, w.Body)
		}
	}
	w := a.do("POST", "/v1/releases/"+rid+"/test", coordToken, body)
	if w.Code != http.StatusTooManyRequests {
		t.Fatalf("11th test send: %d %s, want 429", w.Code, w.Body)
	}
	if s, err := strconv.Atoi(w.Header().Get("Retry-After")); err != nil || s <= 0 {
		t.Errorf("Retry-After %q, want a number of seconds", w.Header().Get("Retry-After"))
	}
	if w := a.do("POST", "/v1/releases/"+rid+"/test", other, body); w.Code != http.StatusAccepted {
		t.Errorf("another token's test send: %d, want 202", w.Code)
	}
	if n := a.testTasks(); n != 11 {
		t.Errorf("%d test tasks enqueued, want 11 (the refused one adds none)", n)
	}
}
