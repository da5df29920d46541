package store_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// BenchmarkClaimFinish: one delivery claimed and recorded sent at a time,
// as a worker does (go test -bench ClaimFinish -run XXX ./store/).
func BenchmarkClaimFinish(b *testing.B) {
	ctx := context.Background()
	rdb := redistest.Start(b).Client(b)
	s := store.New(rdb, nil)
	if _, err := s.Upgrade(ctx); err != nil {
		b.Fatal(err)
	}
	r := &dispatcher.Release{Title: "Bench", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		b.Fatal(err)
	}
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		b.Fatal(err)
	}
	ds := make([]*dispatcher.Delivery, b.N)
	for i := range ds {
		addr := fmt.Sprintf("periodista%07d@medio%d.example", i, i%50)
		ds[i] = &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, addr), Channel: dispatcher.ChannelEmail,
			Recipient: addr, Name: "Periodista", Language: "es", Status: dispatcher.DeliveryQueued}
	}
	for i := 0; i < len(ds); i += 1000 {
		if _, err := s.CreateDeliveries(ctx, r.ID, ds[i:min(i+1000, len(ds))]); err != nil {
			b.Fatal(err)
		}
	}
	rdb.ConfigResetStat(ctx)
	b.ResetTimer()
	var prev *dispatcher.Outcome
	for _, d := range ds {
		var outs []dispatcher.Outcome
		if prev != nil {
			outs = []dispatcher.Outcome{*prev}
		}
		c, _, err := s.FinishAndClaimBy(ctx, r.ID, "w1", outs, []string{d.ID}, time.Time{})
		if err != nil || len(c) != 1 {
			b.Fatalf("claim = %v, %v", c, err)
		}
		prev = &dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliverySent, MessageIDs: []string{"<" + d.ID + "." + r.ID + "@prensa.example.org>"}, ClaimedAt: c[0].ClaimedAt}
	}
	b.StopTimer()
	info := rdb.Info(ctx, "commandstats").Val()
	for line := range strings.Lines(info) {
		if strings.HasPrefix(line, "cmdstat_evalsha:") {
			b.Logf("%s", strings.TrimSpace(line))
		}
	}
}
