package api

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/auth"
)

// newIdempotentAPI is the API on a real Redis with idempotency keys kept
// in the store, as `pregon api` runs it.
func newIdempotentAPI(t *testing.T) *redisAPI {
	t.Helper()
	return newRedisAPI(t, func(c *Config) { c.Idempotency = c.Store.(IdempotencyStore) })
}

// createWithKey posts a release body with an Idempotency-Key ("" for none)
// as token.
func (a *redisAPI) createWithKey(token, key, body string) *httptest.ResponseRecorder {
	a.t.Helper()
	r := httptest.NewRequest("POST", "/v1/releases", strings.NewReader(body))
	r.Header.Set("Authorization", "Bearer "+token)
	r.Header.Set("Content-Type", "application/json")
	if key != "" {
		r.Header.Set("Idempotency-Key", key)
	}
	w := httptest.NewRecorder()
	a.srv.ServeHTTP(w, r)
	return w
}

// releaseCount returns how many releases the API lists.
func (a *redisAPI) releaseCount() int {
	a.t.Helper()
	var page struct{ Items []releaseOut }
	a.must("GET", "/v1/releases?limit=100", "", http.StatusOK, &page)
	return len(page.Items)
}

func idOf(t *testing.T, w *httptest.ResponseRecorder) string {
	t.Helper()
	var r releaseOut
	if err := json.Unmarshal(w.Body.Bytes(), &r); err != nil || r.ID == "" {
		t.Fatalf("answer %d %.300s: no release id (%v)", w.Code, w.Body, err)
	}
	return r.ID
}

func releaseBody(list, title string) string {
	b, _ := json.Marshal(map[string]any{"title": title, "body": "El texto del comunicado.", "language": "es",
		"audiences": map[string][]string{"lists": {list}}})
	return string(b)
}

// TestIdempotencyKeyReplays: the same key and body twice make one release;
// the second answer is the first's status with the release as it is now,
// marked as a replay. The same key with another body is refused, and so is
// the key of another token not shared.
func TestIdempotencyKeyReplays(t *testing.T) {
	a := newIdempotentAPI(t)
	list := a.newList()
	a.addMember(list, "marta@diario.example")
	body := releaseBody(list, "Comunicado uno")
	const key = "4f9c2f0e-8a41-4b7a-9a47-5d1e2b3c4d5e"

	first := a.createWithKey(coordToken, key, body)
	if first.Code != http.StatusCreated || first.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("first: %d, replayed %q; want 201 not replayed: %.300s", first.Code, first.Header().Get("Idempotent-Replayed"), first.Body)
	}
	id := idOf(t, first)
	// The release changes after the first answer: a replay shows it as it is now.
	a.must("POST", "/v1/releases/"+id+"/send", `{"at":`+rfc(time.Now().Add(30*24*time.Hour))+`}`, http.StatusAccepted, nil)

	// The same JSON, spaced and ordered differently, is the same body.
	var m map[string]any
	if err := json.Unmarshal([]byte(body), &m); err != nil {
		t.Fatal(err)
	}
	respaced, _ := json.MarshalIndent(m, "", "   ")
	again := a.createWithKey(coordToken, key, string(respaced))
	if again.Code != http.StatusCreated || again.Header().Get("Idempotent-Replayed") != "true" {
		t.Fatalf("again: %d, replayed %q; want 201 replayed: %.300s", again.Code, again.Header().Get("Idempotent-Replayed"), again.Body)
	}
	var rel releaseOut
	if err := json.Unmarshal(again.Body.Bytes(), &rel); err != nil {
		t.Fatal(err)
	}
	if rel.ID != id || rel.Status != "scheduled" {
		t.Errorf("replay = %s %s, want %s as it is now (scheduled)", rel.ID, rel.Status, id)
	}
	if loc := again.Header().Get("Location"); loc != "/v1/releases/"+id {
		t.Errorf("replay Location = %q", loc)
	}

	other := a.createWithKey(coordToken, key, releaseBody(list, "Otro comunicado"))
	if other.Code != http.StatusUnprocessableEntity || !strings.Contains(other.Body.String(), ProblemIdempotencyKeyReused) ||
		!strings.Contains(other.Body.String(), `"field":"Idempotency-Key"`) {
		t.Errorf("another body with the key: %d %.300s; want 422 %s", other.Code, other.Body, ProblemIdempotencyKeyReused)
	}
	if n := a.releaseCount(); n != 1 {
		t.Fatalf("%d releases after one key used three times, want 1", n)
	}

	// Keys belong to a token: another coordinator's same key is its own.
	const other2 = "pgn_second_coordinator"
	if err := a.store.CreateToken(context.Background(), auth.Hash(other2), &auth.Token{Name: "luis", Role: auth.RoleCoordinator}); err != nil {
		t.Fatal(err)
	}
	theirs := a.createWithKey(other2, key, body)
	if theirs.Code != http.StatusCreated || theirs.Header().Get("Idempotent-Replayed") != "" || idOf(t, theirs) == id {
		t.Errorf("another token with the key: %d replayed=%q; want its own new release", theirs.Code, theirs.Header().Get("Idempotent-Replayed"))
	}

	// Without a key, each request makes a release.
	for range 2 {
		if w := a.createWithKey(coordToken, "", body); w.Code != http.StatusCreated {
			t.Fatalf("without a key: %d %.300s", w.Code, w.Body)
		}
	}
	if n := a.releaseCount(); n != 4 {
		t.Errorf("%d releases, want 4 (one per key and token, two without a key)", n)
	}
}

// TestIdempotencyKeyNotUsedUpByBadInput: a request refused for its input
// leaves its key free; a malformed key is refused and creates nothing.
func TestIdempotencyKeyNotUsedUpByBadInput(t *testing.T) {
	a := newIdempotentAPI(t)
	list := a.newList()
	const key = "retry-me-1"
	bad := a.createWithKey(coordToken, key, `{"title":"","body":"x","language":"es","audiences":{"lists":["`+list+`"]}}`)
	if bad.Code != http.StatusBadRequest {
		t.Fatalf("invalid body: %d %.300s", bad.Code, bad.Body)
	}
	good := a.createWithKey(coordToken, key, releaseBody(list, "Corregido"))
	if good.Code != http.StatusCreated || good.Header().Get("Idempotent-Replayed") != "" {
		t.Fatalf("valid body after an invalid one with the same key: %d %.300s; want 201", good.Code, good.Body)
	}

	for name, k := range map[string]string{
		"too long":     strings.Repeat("k", 256),
		"not ASCII":    "clave-única",
		"control char": "a\x01b",
	} {
		w := a.createWithKey(coordToken, k, releaseBody(list, "Nunca"))
		if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), `"field":"Idempotency-Key"`) {
			t.Errorf("%s key: %d %.300s; want 400 naming Idempotency-Key", name, w.Code, w.Body)
		}
	}
	// Two headers, and an empty one.
	for name, values := range map[string][]string{"two": {"a", "b"}, "empty": {""}} {
		r := httptest.NewRequest("POST", "/v1/releases", strings.NewReader(releaseBody(list, "Nunca")))
		r.Header.Set("Authorization", "Bearer "+coordToken)
		r.Header["Idempotency-Key"] = values
		w := httptest.NewRecorder()
		a.srv.ServeHTTP(w, r)
		if w.Code != http.StatusBadRequest {
			t.Errorf("%s Idempotency-Key headers: %d %.300s; want 400", name, w.Code, w.Body)
		}
	}
	if n := a.releaseCount(); n != 1 {
		t.Errorf("%d releases, want 1", n)
	}
}

// TestIdempotencyKeyConcurrent: many requests at once with one key make one
// release; each answers with it (or 409 while the first is still running),
// and exactly one of them is not a replay.
func TestIdempotencyKeyConcurrent(t *testing.T) {
	a := newIdempotentAPI(t)
	list := a.newList()
	body := releaseBody(list, "A la vez")
	const n = 12
	answers := make([]*httptest.ResponseRecorder, n)
	var wg sync.WaitGroup
	start := make(chan struct{})
	for i := range answers {
		wg.Add(1)
		go func() {
			defer wg.Done()
			<-start
			answers[i] = a.createWithKey(coordToken, "same-key-for-all", body)
		}()
	}
	close(start)
	wg.Wait()
	ids := map[string]bool{}
	created := 0
	for _, w := range answers {
		switch w.Code {
		case http.StatusCreated:
			ids[idOf(t, w)] = true
			if w.Header().Get("Idempotent-Replayed") == "" {
				created++
			}
		case http.StatusConflict:
			if !strings.Contains(w.Body.String(), ProblemIdempotencyKeyInUse) || w.Header().Get("Retry-After") == "" {
				t.Errorf("409 without its problem type or Retry-After: %.300s", w.Body)
			}
		default:
			t.Errorf("answer %d %.300s; want 201 or 409", w.Code, w.Body)
		}
	}
	if len(ids) != 1 || created != 1 {
		t.Errorf("answers name releases %v, %d not replayed; want one release, created once", ids, created)
	}
	if c := a.releaseCount(); c != 1 {
		t.Errorf("%d releases, want 1", c)
	}
}

// TestIdempotencyKeyWithoutStore: a server without an idempotency store
// refuses the header rather than ignore it.
func TestIdempotencyKeyWithoutStore(t *testing.T) {
	h := newHarness(t)
	r := httptest.NewRequest("POST", "/v1/releases", strings.NewReader(`{"title":"t","body":"b","language":"es","audiences":{"lists":[]}}`))
	r.Header.Set("Authorization", "Bearer "+coordToken)
	r.Header.Set("Idempotency-Key", "k1")
	w := httptest.NewRecorder()
	h.srv.ServeHTTP(w, r)
	if w.Code != http.StatusNotImplemented {
		t.Errorf("%d %.300s; want 501", w.Code, w.Body)
	}
}
