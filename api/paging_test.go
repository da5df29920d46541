package api

import (
	"fmt"
	"net/http"
	"net/url"
	"testing"
)

// TestListsAndChannelsArePaged: GET /v1/lists and GET /v1/telegram/channels
// used to ignore limit and cursor. They page like the other collections,
// newest first, on the Redis store.
func TestListsAndChannelsArePaged(t *testing.T) {
	a := newRedisAPI(t)
	var lists, chans []string
	for i := range 5 {
		var l, c struct{ ID string }
		a.must("POST", "/v1/lists", fmt.Sprintf(`{"name":"Prensa %d","kind":"press"}`, i), http.StatusCreated, &l)
		a.must("POST", "/v1/telegram/channels", fmt.Sprintf(`{"chat_id":"@canal_%d"}`, i), http.StatusCreated, &c)
		lists, chans = append(lists, l.ID), append(chans, c.ID)
	}
	for path, ids := range map[string][]string{"/v1/lists": lists, "/v1/telegram/channels": chans} {
		var got []string
		pages, cursor := 0, ""
		for {
			var p Page[struct{ ID string }]
			a.must("GET", path+"?limit=2&cursor="+url.QueryEscape(cursor), "", http.StatusOK, &p)
			if len(p.Items) > 2 {
				t.Fatalf("%s?limit=2: %d items", path, len(p.Items))
			}
			for _, it := range p.Items {
				got = append(got, it.ID)
			}
			pages++
			if p.NextCursor == "" || pages > 5 {
				break
			}
			cursor = p.NextCursor
		}
		want := map[string]bool{}
		for _, id := range ids {
			want[id] = true
		}
		for _, id := range got {
			delete(want, id)
		}
		if pages != 3 || len(got) != 5 || len(want) != 0 {
			t.Errorf("%s: %d items in %d pages, missing %v; want all 5 in 3 pages", path, len(got), pages, want)
		}
	}
}

// TestBadLimitOrCursorIsAFieldError: limit=abc used to answer 200 on
// /v1/lists and /v1/telegram/channels, and a made-up cursor read as a
// position. Every collection answers 400 with a field error for either.
func TestBadLimitOrCursorIsAFieldError(t *testing.T) {
	h := newHarness(t)
	list := h.newList("Prensa")
	var rel struct{ ID string }
	h.mustJSON("POST", "/v1/releases", `{"title":"t","body":"b","language":"es","audiences":{"lists":["`+list+`"]}}`, http.StatusCreated, &rel)
	for _, path := range []string{"/v1/lists", "/v1/telegram/channels", "/v1/releases",
		"/v1/releases/" + rel.ID + "/deliveries", "/v1/lists/" + list + "/contacts"} {
		for _, q := range []struct{ query, field string }{
			{"limit=abc", "limit"}, {"limit=0", "limit"}, {"limit=1001", "limit"}, {"limit=-1", "limit"},
			{"cursor=abc", "cursor"}, {"cursor=" + url.QueryEscape("rel_06h1jqe83k30pb41d3d5knfkwc"), "cursor"},
		} {
			p := problemOf(t, h.do("GET", path+"?"+q.query, viewerToken, "", ""), http.StatusBadRequest)
			if len(p.Errors) != 1 || p.Errors[0].Field != q.field {
				t.Errorf("GET %s?%s: errors %+v, want one for %s", path, q.query, p.Errors, q.field)
			}
		}
	}
}
