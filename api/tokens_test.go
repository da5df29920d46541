package api

import (
	"context"
	"encoding/json"
	"net/http"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/testkit"
)

// The token methods of the in-memory Store (see fakes_test.go).

func (m *memStore) Tokens(ctx context.Context) ([]*auth.Token, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	out := []*auth.Token{}
	for _, t := range m.tokens {
		c := *t
		out = append(out, &c)
	}
	slices.SortFunc(out, func(a, b *auth.Token) int { return strings.Compare(a.ID+a.Name, b.ID+b.Name) })
	return out, nil
}

func (m *memStore) RevokeToken(ctx context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	for h, t := range m.tokens {
		if t.ID != "" && t.ID == id {
			delete(m.tokens, h)
			return nil
		}
	}
	return dispatcher.ErrNotFound
}

func (m *memStore) TouchToken(ctx context.Context, hash string, at time.Time) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if t, ok := m.tokens[hash]; ok {
		t.LastUsedAt = &at
	}
	return nil
}

// touchCounter is a Store that counts TouchToken calls.
type touchCounter struct {
	*memStore
	mu      sync.Mutex
	touches int
}

func (c *touchCounter) TouchToken(ctx context.Context, hash string, at time.Time) error {
	c.mu.Lock()
	c.touches++
	c.mu.Unlock()
	return c.memStore.TouchToken(ctx, hash, at)
}

// giveIDs names the harness's tokens "tok_<role>", as the store would.
func giveIDs(st *memStore) {
	st.mu.Lock()
	defer st.mu.Unlock()
	for _, t := range st.tokens {
		t.ID = "tok_" + string(t.Role)
	}
}

// TestTokensListAndRevoke lists the tokens as an admin (ids, names, roles:
// no secret, no hash), revokes one, and checks that it answers 401 from then
// on and that revoking it again is a 404.
func TestTokensListAndRevoke(t *testing.T) {
	h := newHarness(t)
	giveIDs(h.store)

	w := h.do("GET", "/v1/tokens", adminToken, "", "")
	if w.Code != http.StatusOK {
		t.Fatalf("GET /v1/tokens: %d %s", w.Code, w.Body)
	}
	var page struct {
		Items []map[string]any `json:"items"`
	}
	if err := json.Unmarshal(w.Body.Bytes(), &page); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, it := range page.Items {
		ids = append(ids, it["id"].(string))
		for _, k := range []string{"id", "name", "role", "created_at", "expires_at", "last_used_at"} {
			if _, ok := it[k]; !ok {
				t.Errorf("token %v has no %q", it, k)
			}
		}
	}
	if want := []string{"tok_admin", "tok_coordinator", "tok_guest", "tok_viewer"}; !slices.Equal(ids, want) {
		t.Errorf("token ids = %v, want %v", ids, want)
	}
	body := w.Body.String()
	for _, secret := range []string{adminToken, coordToken, viewerToken, oddToken} {
		if strings.Contains(body, secret) || strings.Contains(body, auth.Hash(secret)) {
			t.Errorf("GET /v1/tokens shows the secret %s or its hash: %s", secret, body)
		}
	}
	if strings.Contains(strings.ToLower(body), "hash") {
		t.Errorf("GET /v1/tokens mentions a hash: %s", body)
	}

	if w := h.do("GET", "/v1/releases", viewerToken, "", ""); w.Code != http.StatusOK {
		t.Fatalf("viewer before revoking: %d", w.Code)
	}
	if w := h.do("DELETE", "/v1/tokens/tok_viewer", adminToken, "", ""); w.Code != http.StatusNoContent {
		t.Fatalf("DELETE /v1/tokens/tok_viewer: %d %s", w.Code, w.Body)
	}
	if w := h.do("GET", "/v1/releases", viewerToken, "", ""); w.Code != http.StatusUnauthorized {
		t.Errorf("revoked token: %d, want 401", w.Code)
	}
	if w := h.do("DELETE", "/v1/tokens/tok_viewer", adminToken, "", ""); w.Code != http.StatusNotFound {
		t.Errorf("revoking again: %d, want 404", w.Code)
	}
	if w := h.do("DELETE", "/v1/tokens/tok_admin", coordToken, "", ""); w.Code != http.StatusForbidden {
		t.Errorf("a coordinator revoking: %d, want 403", w.Code)
	}
}

// TestExpiredToken checks that a token works until its expiry and answers
// 401, saying it expired, from that moment on.
func TestExpiredToken(t *testing.T) {
	clock := testkit.NewClock(t0)
	h := newHarness(t, func(c *Config) { c.Now = clock.Now })
	const secret = "pgn_expiring"
	exp := t0.Add(time.Hour)
	h.store.tokens[auth.Hash(secret)] = &auth.Token{ID: "tok_exp", Name: "ci", Role: auth.RoleViewer, ExpiresAt: &exp}

	for _, tc := range []struct {
		at   time.Duration
		want int
	}{{0, 200}, {time.Hour - time.Millisecond, 200}, {time.Hour, 401}, {48 * time.Hour, 401}} {
		clock.Set(t0.Add(tc.at))
		w := h.do("GET", "/v1/lists", secret, "", "")
		if w.Code != tc.want {
			t.Errorf("at +%v: %d, want %d", tc.at, w.Code, tc.want)
		}
		if tc.want == 401 && !strings.Contains(w.Body.String(), "expired") {
			t.Errorf("at +%v: the problem does not say the token expired: %s", tc.at, w.Body)
		}
	}
}

// TestTokenLastUsedOncePerMinute checks that requests record a token's use
// at most once a minute.
func TestTokenLastUsedOncePerMinute(t *testing.T) {
	clock := testkit.NewClock(t0)
	var counter *touchCounter
	h := newHarness(t, func(c *Config) {
		counter = &touchCounter{memStore: c.Store.(*memStore)}
		c.Store, c.Now = counter, clock.Now
	})
	steps := []struct {
		advance time.Duration
		touches int // in all, after five requests
	}{{0, 1}, {30 * time.Second, 1}, {30 * time.Second, 2}, {59 * time.Second, 2}, {time.Second, 3}}
	for i, st := range steps {
		clock.Add(st.advance)
		for range 5 {
			if w := h.do("GET", "/v1/lists", viewerToken, "", ""); w.Code != http.StatusOK {
				t.Fatalf("step %d: %d", i, w.Code)
			}
		}
		counter.mu.Lock()
		got := counter.touches
		counter.mu.Unlock()
		if got != st.touches {
			t.Errorf("step %d (+%v): %d touches, want %d", i, st.advance, got, st.touches)
		}
	}
	tok, err := h.store.Token(context.Background(), auth.Hash(viewerToken))
	if err != nil || tok.LastUsedAt == nil || !tok.LastUsedAt.Equal(t0.Add(2*time.Minute)) {
		t.Errorf("last used = %v, %v; want %v", tok.LastUsedAt, err, t0.Add(2*time.Minute))
	}
}
