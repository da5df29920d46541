package api

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/ratelimit"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
	"github.com/redis/go-redis/v9"
)

// sentRelease stores a release sent to n email addresses (the third
// failed, with a hard bounce) and one Telegram channel (a post of three
// parts, two posted), as the workers would leave it.
func sentRelease(t *testing.T, st *store.Store, n int) string {
	t.Helper()
	ctx := context.Background()
	r := &dispatcher.Release{Title: "Informe", Body: "cuerpo", Language: "es"}
	if err := st.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	var ds []*dispatcher.Delivery
	var ids []string
	for i := range n {
		addr := fmt.Sprintf("p%03d@diario.example", i)
		ds = append(ds, &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, addr), Channel: dispatcher.ChannelEmail,
			Recipient: addr, Name: fmt.Sprintf("Periodista %d", i), Language: "es", Status: dispatcher.DeliveryQueued})
	}
	ds = append(ds, &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelTelegram, "-100777"), Channel: dispatcher.ChannelTelegram,
		Recipient: "-100777", Language: "es", Status: dispatcher.DeliveryQueued})
	if _, err := st.CreateDeliveries(ctx, r.ID, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SnapshotDone(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	outs := make([]dispatcher.Outcome, len(ds))
	for i, d := range ds {
		ids = append(ids, d.ID)
		outs[i] = dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliverySent, MessageIDs: []string{"<" + d.ID + "." + r.ID + "@prensa.example>"}}
		switch {
		case d.Channel == dispatcher.ChannelTelegram:
			outs[i] = dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliveryFailed, Error: "429 too many requests", MessageIDs: []string{"41", "42"}, Parts: 3}
		case i == 2:
			outs[i] = dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliveryFailed, Error: "550 5.1.1 no such user",
				Bounce: &dispatcher.Bounce{Kind: dispatcher.BounceHard, Source: "rcpt"}}
		}
	}
	if c, _, err := st.ClaimDeliveries(ctx, r.ID, ids, time.Now().Add(-time.Hour)); err != nil || len(c) != len(ids) {
		t.Fatalf("claim: %d, %v", len(c), err)
	}
	if _, _, err := st.FinishAndClaim(ctx, r.ID, outs, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// reads is what the API answers about a release's deliveries: every page
// of each listing (small pages, so that cursors are followed) and each
// delivery by id, as raw JSON.
func (a *redisAPI) deliveryReads(rid string) []string {
	a.t.Helper()
	var out []string
	for _, q := range []string{"limit=4", "status=failed&limit=1", "channel=telegram", "status=sent&channel=email&limit=5"} {
		cursor := ""
		for {
			w := a.do("GET", "/v1/releases/"+rid+"/deliveries?"+q+"&cursor="+cursor, viewerToken, "")
			if w.Code != http.StatusOK {
				a.t.Fatalf("deliveries?%s: %d %s", q, w.Code, w.Body)
			}
			out = append(out, w.Body.String())
			var p struct {
				Items []struct {
					ID string `json:"id"`
				} `json:"items"`
				NextCursor string `json:"next_cursor"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				a.t.Fatal(err)
			}
			if q == "limit=4" {
				for _, it := range p.Items {
					w := a.do("GET", "/v1/releases/"+rid+"/deliveries/"+it.ID, viewerToken, "")
					if w.Code != http.StatusOK {
						a.t.Fatalf("delivery %s: %d %s", it.ID, w.Code, w.Body)
					}
					out = append(out, w.Body.String())
				}
			}
			if p.NextCursor == "" {
				break
			}
			cursor = p.NextCursor
		}
	}
	return out
}

// TestArchiveThroughAPI: a coordinator archives a sent release; an API
// process started afterwards on the same Redis answers every listing,
// filter, page and delivery exactly as before, the release keeps its
// counts and gains archived_at, retry and resume answer 409, and the
// archive is in the audit log. A release still being written is refused.
func TestArchiveThroughAPI(t *testing.T) {
	a, _ := newAuditAPI(t)

	draft := a.newRelease(a.newList(), 100, nil)
	if w := a.do("POST", "/v1/releases/"+draft+"/archive", coordToken, ""); w.Code != http.StatusConflict ||
		!strings.Contains(w.Body.String(), "only a sent or cancelled release") {
		t.Fatalf("archive a draft: %d %s", w.Code, w.Body)
	}
	if w := a.do("POST", "/v1/releases/"+draft+"/archive", viewerToken, ""); w.Code != http.StatusForbidden {
		t.Fatalf("archive as a viewer: %d", w.Code)
	}

	rid := sentRelease(t, a.store, 17)
	before := a.deliveryReads(rid)
	var relBefore map[string]any
	a.must("GET", "/v1/releases/"+rid, "", http.StatusOK, &relBefore)
	if relBefore["archived_at"] != nil {
		t.Fatalf("archived_at before archiving = %v", relBefore["archived_at"])
	}

	var archived map[string]any
	a.must("POST", "/v1/releases/"+rid+"/archive", "", http.StatusOK, &archived)
	if archived["archived_at"] == nil {
		t.Fatalf("archive answered a release without archived_at: %v", archived)
	}

	// A new API process on the same Redis.
	rdb := redis.NewClient(&redis.Options{Addr: a.redis.Addr})
	t.Cleanup(func() { rdb.Close() })
	st := store.New(rdb, nil)
	svc, err := dispatcher.NewService(dispatcher.Config{Store: st, Queue: queue.NewClient(rdb), Logger: a.srv.log})
	if err != nil {
		t.Fatal(err)
	}
	renderer, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	srv, err := New(Config{Store: st, Sender: svc, Previewer: renderer, Audit: st, Logger: a.srv.log,
		Limiter: &ratelimit.PerClient{L: ratelimit.New(rdb), Burst: ratelimit.ClientBurst}})
	if err != nil {
		t.Fatal(err)
	}
	b := &redisAPI{t: t, srv: srv, redis: a.redis, store: st, logs: a.logs}
	if keys := rdb.Keys(context.Background(), "pregon:{"+rid+"}:d*").Val(); len(keys) != 0 {
		t.Fatalf("live delivery keys left: %v", keys)
	}
	after := b.deliveryReads(rid)
	if diff := cmp.Diff(before, after); diff != "" {
		t.Fatalf("archived deliveries answer otherwise (-live +archived):\n%s", diff)
	}
	var relAfter map[string]any
	b.must("GET", "/v1/releases/"+rid, "", http.StatusOK, &relAfter)
	if diff := cmp.Diff(relBefore["counts"], relAfter["counts"]); diff != "" {
		t.Fatalf("counts changed (-before +after):\n%s", diff)
	}
	if relAfter["archived_at"] != archived["archived_at"] || relAfter["status"] != "sent_with_failures" {
		t.Fatalf("release after archiving: archived_at %v, status %v", relAfter["archived_at"], relAfter["status"])
	}

	for _, path := range []string{"/v1/releases/" + rid + "/retry",
		"/v1/releases/" + rid + "/deliveries/" + dispatcher.DeliveryID(rid, dispatcher.ChannelTelegram, "-100777") + "/resume"} {
		w := b.do("POST", path, coordToken, "")
		if w.Code != http.StatusConflict || !strings.Contains(w.Body.String(), "archived") {
			t.Fatalf("POST %s on an archived release: %d %s", path, w.Code, w.Body)
		}
	}
	for _, did := range []string{"nope", "000000000000000000000000", "*"} {
		if w := b.do("GET", "/v1/releases/"+rid+"/deliveries/"+did, viewerToken, ""); w.Code != http.StatusNotFound {
			t.Fatalf("unknown delivery %q: %d %s", did, w.Code, w.Body)
		}
	}
	var found bool
	for _, e := range a.getAudit("release=" + rid).Items {
		if e.Action == "release.archive" && e.Target == rid && e.Actor == "coordinator" {
			found = true
		}
	}
	if !found {
		t.Fatal("no release.archive audit entry")
	}
}
