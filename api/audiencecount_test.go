package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/dispatcher"
)

// TestCountAudiences asks what each audience adds before a release is
// saved: an address on two lists counts once (for the first), a suppressed
// one not at all, an inactive channel adds nothing, the followers their
// number; an unknown id is refused by name; a viewer may ask, no one
// without a token.
func TestCountAudiences(t *testing.T) {
	a := newRedisAPI(t)
	ctx := context.Background()
	l1, l2, early := a.newList(), a.newList(), a.newList()
	a.must("POST", "/v1/lists/"+l1+"/contacts", `[{"email":"ana@example.org"},{"email":"marta@example.org"},{"email":"luis@example.org"}]`, http.StatusOK, nil)
	a.must("POST", "/v1/lists/"+l2+"/contacts", `[{"email":"ana@example.org"},{"email":"pedro@example.org"}]`, http.StatusOK, nil)
	a.must("POST", "/v1/lists/"+early+"/contacts", `[{"email":"sofia@example.org"},{"email":"marta@example.org"}]`, http.StatusOK, nil)
	if err := a.store.Suppress(ctx, "luis@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	for _, chat := range []string{"100", "200"} {
		if _, err := a.store.AddFollower(ctx, chat, "es"); err != nil {
			t.Fatal(err)
		}
	}
	var ch dispatcher.TelegramChannel
	a.must("POST", "/v1/telegram/channels", `{"chat_id":"@canal"}`, http.StatusCreated, &ch)

	in := fmt.Sprintf(`{"lists":[%q,%q],"early_lists":[%q],"telegram_channels":[%q],"telegram_followers":true}`, l1, l2, early, ch.ID)
	w := a.do("POST", "/v1/audiences/count", viewerToken, in)
	var got audienceCount
	if err := json.Unmarshal(w.Body.Bytes(), &got); w.Code != http.StatusOK || err != nil {
		t.Fatalf("count: %d %s", w.Code, w.Body)
	}
	want := audienceCount{
		Items: []audienceAdded{
			{Audience: "telegram_followers", Adds: 2},
			{Audience: "telegram_channels", ID: ch.ID, Adds: 1},
			{Audience: "early_lists", ID: early, Adds: 2},                      // sofia, marta
			{Audience: "lists", ID: l1, Adds: 1, Duplicates: 1, Suppressed: 1}, // ana; marta again; luis suppressed
			{Audience: "lists", ID: l2, Adds: 1, Duplicates: 1},                // pedro; ana again
		},
		Total: 7, Emails: 4, Channels: 1, Followers: 2, Duplicates: 2, Suppressed: 1,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("count (-want +got):\n%s", d)
	}

	// Nothing named: nothing counted.
	a.must("POST", "/v1/audiences/count", `{}`, http.StatusOK, &got)
	if got.Total != 0 || len(got.Items) != 0 {
		t.Errorf("empty audiences: %+v", got)
	}
	p := problemOf(t, a.do("POST", "/v1/audiences/count", coordToken, `{"lists":["nope"]}`), http.StatusBadRequest)
	if d := cmp.Diff([]string{"audiences.lists[0]"}, fieldsOf(p)); d != "" {
		t.Errorf("unknown list: fields (-want +got):\n%s", d)
	}
	if w := a.do("POST", "/v1/audiences/count", "", in); w.Code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", w.Code)
	}
}
