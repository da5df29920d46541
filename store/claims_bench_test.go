package store_test

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

// BenchmarkClaimFinish: one delivery claimed and recorded sent at a time,
// each outcome with the next claim (go test -bench Claim -run XXX ./store/).
// It reports Redis's own CPU per delivery (INFO cpu), which a busy machine
// inflates less than the time per call.
func BenchmarkClaimFinish(b *testing.B) { benchClaims(b, 1) }

// BenchmarkClaimAhead: eight deliveries claimed at a time, each outcome
// recorded on its own (FinishBy), the last with the next claims, as a
// worker sending email does (dispatcher.Config.ClaimAhead).
func BenchmarkClaimAhead(b *testing.B) { benchClaims(b, 8) }

func benchClaims(b *testing.B, ahead int) {
	ctx := context.Background()
	rdb, s, r := benchSendingRelease(b)
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
	cpu0 := redisCPU(ctx, b, rdb)
	b.ResetTimer()
	var prev *dispatcher.Outcome
	var held []*dispatcher.Claimed
	for i := 0; i < len(ds); {
		var outs []dispatcher.Outcome
		if prev != nil {
			outs = []dispatcher.Outcome{*prev}
		}
		if len(held) == 0 {
			var ids []string
			for ; len(ids) < ahead && i+len(ids) < len(ds); i++ {
				ids = append(ids, ds[i].ID)
			}
			c, _, err := s.FinishAndClaimBy(ctx, r.ID, "w1", outs, ids, time.Time{})
			if err != nil || len(c) != len(ids) {
				b.Fatalf("claim = %v, %v", c, err)
			}
			held = c
		} else if _, err := s.FinishBy(ctx, r.ID, "w1", outs); err != nil {
			b.Fatal(err)
		}
		c := held[0]
		held = held[1:]
		prev = &dispatcher.Outcome{ID: c.ID, Status: dispatcher.DeliverySent, MessageIDs: []string{"<" + c.ID + "." + r.ID + "@prensa.example.org>"}, ClaimedAt: c.ClaimedAt}
	}
	if _, err := s.FinishBy(ctx, r.ID, "w1", []dispatcher.Outcome{*prev}); err != nil {
		b.Fatal(err)
	}
	b.StopTimer()
	b.ReportMetric(float64((redisCPU(ctx, b, rdb)-cpu0).Microseconds())/float64(b.N), "redis-cpu-µs/op")
	info := rdb.Info(ctx, "commandstats").Val()
	for line := range strings.Lines(info) {
		if strings.HasPrefix(line, "cmdstat_evalsha:") {
			b.Logf("%s", strings.TrimSpace(line))
		}
	}
}

// redisCPU returns the CPU time the Redis server has used (INFO cpu).
func redisCPU(ctx context.Context, b *testing.B, rdb *redis.Client) time.Duration {
	info, err := rdb.Info(ctx, "cpu").Result()
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	for line := range strings.Lines(info) {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if ok && (k == "used_cpu_sys" || k == "used_cpu_user") {
			f, err := strconv.ParseFloat(v, 64)
			if err != nil {
				b.Fatal(err)
			}
			sum += f
		}
	}
	return time.Duration(sum * float64(time.Second))
}

// BenchmarkFinishByConcurrent: 20 senders of one release and worker at
// once (PREGON_CONCURRENCY's default), each recording one outcome at a time
// with FinishBy, as a worker sending email does; the calls that come while
// one is on its way go together (finishgroup.go). It reports Redis's CPU
// and script calls per outcome.
func BenchmarkFinishByConcurrent(b *testing.B) {
	ctx := context.Background()
	rdb, s, r := benchSendingRelease(b)
	ds := make([]*dispatcher.Delivery, b.N)
	ids := make([]string, b.N)
	for i := range ds {
		addr := fmt.Sprintf("periodista%07d@medio%d.example", i, i%50)
		ds[i] = &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, dispatcher.ChannelEmail, addr), Channel: dispatcher.ChannelEmail,
			Recipient: addr, Name: "Periodista", Language: "es", Status: dispatcher.DeliveryQueued}
		ids[i] = ds[i].ID
	}
	var claimed []*dispatcher.Claimed
	for i := 0; i < len(ds); i += 1000 {
		if _, err := s.CreateDeliveries(ctx, r.ID, ds[i:min(i+1000, len(ds))]); err != nil {
			b.Fatal(err)
		}
		c, _, err := s.FinishAndClaimBy(ctx, r.ID, "w1", nil, ids[i:min(i+1000, len(ds))], time.Time{})
		if err != nil {
			b.Fatal(err)
		}
		claimed = append(claimed, c...)
	}
	const senders = 20
	rdb.ConfigResetStat(ctx)
	cpu0 := redisCPU(ctx, b, rdb)
	b.ResetTimer()
	var wg sync.WaitGroup
	for w := range senders {
		wg.Go(func() {
			for i := w; i < len(claimed); i += senders {
				c := claimed[i]
				out := dispatcher.Outcome{ID: c.ID, Status: dispatcher.DeliverySent, ClaimedAt: c.ClaimedAt,
					MessageIDs: []string{"<" + c.ID + "." + r.ID + "@prensa.example.org>"}}
				if _, err := s.FinishBy(ctx, r.ID, "w1", []dispatcher.Outcome{out}); err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
	b.StopTimer()
	b.ReportMetric(float64((redisCPU(ctx, b, rdb)-cpu0).Microseconds())/float64(b.N), "redis-cpu-µs/op")
	info := rdb.Info(ctx, "commandstats").Val()
	for line := range strings.Lines(info) {
		if k, v, ok := strings.Cut(strings.TrimSpace(line), ":"); ok && k == "cmdstat_evalsha" {
			calls, _, _ := strings.Cut(strings.TrimPrefix(v, "calls="), ",")
			n, _ := strconv.ParseFloat(calls, 64)
			b.ReportMetric(n/float64(b.N), "scripts/op")
		}
	}
}

// benchSendingRelease starts a Redis with an upgraded store and a release in
// status sending, for a benchmark to add deliveries to.
func benchSendingRelease(b *testing.B) (*redis.Client, *store.Store, *dispatcher.Release) {
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
	return rdb, s, r
}
