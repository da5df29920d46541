package store_test

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

// TestMemoryPerDelivery: 20,000 deliveries of a release take at most 250
// bytes of Redis each (used_memory before and after, so everything they
// add counts: records, buckets, their index, the counts), queued and once
// sent with a Message-ID, on a Redis as Upgrade leaves it. A memory
// figure, not a time.
func TestMemoryPerDelivery(t *testing.T) {
	const n, budget = 20_000, 250
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	s := store.New(rdb, nil)
	if _, err := s.Upgrade(ctx); err != nil {
		t.Fatal(err)
	}
	if ws, err := s.Warnings(ctx); err != nil {
		t.Fatal(err)
	} else {
		for _, w := range ws {
			if strings.Contains(w, "listpack") {
				t.Errorf("after Upgrade: %s", w)
			}
		}
	}
	newRelease := func() string {
		r := &dispatcher.Release{Title: "Memoria", Body: "b", Language: "es"}
		if err := s.CreateRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
		if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
			t.Fatal(err)
		}
		return r.ID
	}
	deliveries := func(rid string, n int) []*dispatcher.Delivery {
		ds := make([]*dispatcher.Delivery, n)
		for i := range ds {
			addr := fmt.Sprintf("periodista%06d@medio%d.example", i, i%50)
			ds[i] = &dispatcher.Delivery{ID: dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, addr), Channel: dispatcher.ChannelEmail,
				Recipient: addr, Name: "Periodista " + strconv.Itoa(i), Language: "es", Status: dispatcher.DeliveryQueued}
		}
		return ds
	}
	send := func(rid string, ds []*dispatcher.Delivery) {
		for c := range slices.Chunk(ds, 1000) {
			ids := make([]string, len(c))
			outs := make([]dispatcher.Outcome, len(c))
			for i, d := range c {
				ids[i] = d.ID
				outs[i] = dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliverySent, MessageIDs: []string{"<" + d.ID + "." + rid + "@prensa.example.org>"}}
			}
			if _, _, err := s.ClaimDeliveries(ctx, rid, ids, time.Time{}); err != nil {
				t.Fatal(err)
			}
			if err := s.FinishDeliveries(ctx, rid, outs); err != nil {
				t.Fatal(err)
			}
		}
	}
	create := func(rid string, ds []*dispatcher.Delivery) {
		for c := range slices.Chunk(ds, 1000) {
			if _, err := s.CreateDeliveries(ctx, rid, c); err != nil {
				t.Fatal(err)
			}
		}
	}
	// A small release first, so that the scripts are loaded before measuring.
	warm := newRelease()
	wd := deliveries(warm, 10)
	create(warm, wd)
	send(warm, wd)

	rid := newRelease()
	ds := deliveries(rid, n)
	before := usedMemory(t, rdb)
	create(rid, ds)
	queued := float64(usedMemory(t, rdb)-before) / n
	send(rid, ds)
	sent := float64(usedMemory(t, rdb)-before) / n
	t.Logf("Redis per delivery of %d: queued %.0f B, sent %.0f B", n, queued, sent)
	if queued > budget || sent > budget {
		t.Errorf("Redis per delivery of %d: queued %.0f B, sent %.0f B; want at most %d B", n, queued, sent, budget)
	}
	if got, err := s.Delivery(ctx, rid, ds[n/2].ID); err != nil || got.Status != dispatcher.DeliverySent || got.Recipient != ds[n/2].Recipient {
		t.Fatalf("a measured delivery reads %+v, %v", got, err)
	}
}

func usedMemory(t *testing.T, rdb *redis.Client) int64 {
	t.Helper()
	info, err := rdb.Info(context.Background(), "memory").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "used_memory:"); ok {
			n, err := strconv.ParseInt(v, 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("INFO memory has no used_memory")
	return 0
}
