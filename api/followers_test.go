package api

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// TestFollowersEndpoint: GET /v1/telegram/followers gives the count and a
// page of followers to a coordinator, and nothing to a viewer (chat ids
// are personal data).
func TestFollowersEndpoint(t *testing.T) {
	a := newRedisAPI(t)
	ctx := context.Background()
	for _, f := range []struct{ chat, lang string }{{"101", "es"}, {"202", "en"}, {"303", "es"}} {
		if _, err := a.store.AddFollower(ctx, f.chat, f.lang); err != nil {
			t.Fatal(err)
		}
	}
	var page struct {
		Count      int                   `json:"count"`
		Items      []dispatcher.Follower `json:"items"`
		NextCursor string                `json:"next_cursor"`
	}
	a.must("GET", "/v1/telegram/followers?limit=2", "", http.StatusOK, &page)
	if page.Count != 3 || len(page.Items) != 2 || page.NextCursor == "" || page.Items[0].ChatID != "101" || page.Items[1].Language != "en" {
		t.Fatalf("first page = %+v", page)
	}
	a.must("GET", "/v1/telegram/followers?limit=2&cursor="+page.NextCursor, "", http.StatusOK, &page)
	if len(page.Items) != 1 || page.Items[0].ChatID != "303" || page.NextCursor != "" {
		t.Fatalf("second page = %+v", page)
	}
	if w := a.do("GET", "/v1/telegram/followers", viewerToken, ""); w.Code != http.StatusForbidden || strings.Contains(w.Body.String(), "101") {
		t.Fatalf("viewer: %d %s, want 403 without chat ids", w.Code, w.Body)
	}
}

// TestPendingChannelApproval: a channel the bot found is pending: a
// release may not target it (400 naming the approve endpoint) until a
// coordinator approves it (audited); approving it again is 409.
func TestPendingChannelApproval(t *testing.T) {
	a := newRedisAPI(t)
	ctx := context.Background()
	c, created, err := a.store.FoundChannel(ctx, "-1009001", "canal_hallado", "Canal hallado")
	if err != nil || !created || c.Status != dispatcher.ChannelPending {
		t.Fatalf("FoundChannel = %+v, %v, %v", c, created, err)
	}
	rel := `{"title":"T","body":"B","language":"es","audiences":{"telegram_channels":["` + c.ID + `"]}}`
	w := a.do("POST", "/v1/releases", coordToken, rel)
	if w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), "/approve") {
		t.Fatalf("release to a pending channel: %d %s, want 400 naming /approve", w.Code, w.Body)
	}
	var got dispatcher.TelegramChannel
	a.must("POST", "/v1/telegram/channels/"+c.ID+"/approve", "", http.StatusOK, &got)
	if got.Status != dispatcher.ChannelActive {
		t.Fatalf("approved channel = %+v, want active", got)
	}
	a.must("POST", "/v1/releases", rel, http.StatusCreated, nil)
	if w := a.do("POST", "/v1/telegram/channels/"+c.ID+"/approve", coordToken, ""); w.Code != http.StatusConflict {
		t.Fatalf("approve again: %d %s, want 409", w.Code, w.Body)
	}
	entries, err := a.store.AuditEntries(ctx, audit.Query{Limit: 50})
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, e := range entries.Entries {
		if e.Action == "channel.approve" && e.Target == c.ID {
			n++
		}
	}
	if n != 1 {
		t.Fatalf("audit log has %d channel.approve entries for %s, want 1", n, c.ID)
	}
}

// TestReleaseForFollowers: telegram_followers alone is an audience; it
// is kept in the release's JSON.
func TestReleaseForFollowers(t *testing.T) {
	a := newRedisAPI(t)
	var rel struct {
		ID        string               `json:"id"`
		Audiences dispatcher.Audiences `json:"audiences"`
	}
	a.must("POST", "/v1/releases", `{"title":"T","body":"B","language":"es","audiences":{"telegram_followers":true}}`, http.StatusCreated, &rel)
	if !rel.Audiences.TelegramFollowers {
		t.Fatalf("audiences = %+v, want telegram_followers", rel.Audiences)
	}
	a.must("GET", "/v1/releases/"+rel.ID, "", http.StatusOK, &rel)
	if !rel.Audiences.TelegramFollowers {
		t.Fatalf("read back: audiences = %+v, want telegram_followers", rel.Audiences)
	}
	// Without it, and nothing else, there is no audience: a draft may be
	// saved so, but not sent.
	if w := a.do("POST", "/v1/releases", coordToken, `{"title":"T","body":"B","language":"es","audiences":{"telegram_followers":false},"send":true}`); w.Code != http.StatusBadRequest ||
		!strings.Contains(w.Body.String(), "needs at least one list or Telegram channel") {
		t.Fatalf("no audience, send: %d %s, want 400 naming the audience", w.Code, w.Body)
	}
	a.must("POST", "/v1/releases", `{"title":"T","body":"B","language":"es","audiences":{"telegram_followers":false}}`, http.StatusCreated, &rel)
	if !rel.Audiences.None() {
		t.Fatalf("draft: audiences = %+v, want none", rel.Audiences)
	}
}
