package main

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// memoryBudget is issue 12's most Redis memory per delivery, indexes
// included.
const memoryBudget = 250

// memoryResult is the Redis memory that n deliveries of one release take,
// written through the store as the planner and the workers write them:
// used_memory after, less before, per delivery.
type memoryResult struct {
	n            int
	queued, sent float64
	took         time.Duration
}

func (m *memoryResult) String() string {
	verdict := "within"
	if m.queued > memoryBudget || m.sent > memoryBudget {
		verdict = "OVER"
	}
	return fmt.Sprintf("Redis memory per delivery (-memory %d: one release's deliveries written through the store, INFO used_memory after less before, "+
		"divided by %s; records, buckets, their index and the counts included): queued %.0f B, sent with a Message-ID %.0f B (%s the %d B budget; %s s)\n",
		m.n, thousands(m.n), m.queued, m.sent, verdict, memoryBudget, seconds(m.took))
}

// runMemory measures Redis memory per delivery (memoryResult) on the
// bench's Redis, after Upgrade has set it up as pregon serve does. The
// deliveries stay: run it last.
func (b *bench) runMemory(ctx context.Context, n int) (*memoryResult, error) {
	start := time.Now()
	s := store.New(b.rdb, nil)
	if _, err := s.Upgrade(ctx); err != nil {
		return nil, err
	}
	// A small release first, so that every script is loaded before measuring.
	warm, err := sendingRelease(ctx, s)
	if err != nil {
		return nil, err
	}
	wd := benchDeliveries(warm, 0, 10)
	if err := createDeliveries(ctx, s, warm, wd); err != nil {
		return nil, err
	}
	if err := sendDeliveries(ctx, s, warm, wd); err != nil {
		return nil, err
	}
	rid, err := sendingRelease(ctx, s)
	if err != nil {
		return nil, err
	}
	ds := benchDeliveries(rid, 0, n)
	before, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return nil, err
	}
	m := &memoryResult{n: n}
	if err := createDeliveries(ctx, s, rid, ds); err != nil {
		return nil, err
	}
	after, err := usedMemory(ctx, b.rdb)
	if err != nil {
		return nil, err
	}
	m.queued = float64(after-before) / float64(n)
	if err := sendDeliveries(ctx, s, rid, ds); err != nil {
		return nil, err
	}
	if after, err = usedMemory(ctx, b.rdb); err != nil {
		return nil, err
	}
	m.sent = float64(after-before) / float64(n)
	m.took = time.Since(start)
	b.log.Info("measured Redis memory per delivery", "deliveries", n, "queued_bytes", int(m.queued), "sent_bytes", int(m.sent))
	return m, nil
}

// sendingRelease creates a release and sets it sending, as a dispatch does.
func sendingRelease(ctx context.Context, s *store.Store) (string, error) {
	r := &dispatcher.Release{Title: "Older release", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		return "", err
	}
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		return "", err
	}
	return r.ID, nil
}

// benchDeliveries returns n queued email deliveries of release rid, to
// addresses numbered from from.
func benchDeliveries(rid string, from, n int) []*dispatcher.Delivery {
	ds := make([]*dispatcher.Delivery, n)
	for i := range ds {
		addr := fmt.Sprintf("older%07d@medio%d.example", from+i, i%50)
		ds[i] = &dispatcher.Delivery{ID: dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, addr), Channel: dispatcher.ChannelEmail,
			Recipient: addr, Name: "Periodista " + strconv.Itoa(from+i), Language: "es", Status: dispatcher.DeliveryQueued}
	}
	return ds
}

func createDeliveries(ctx context.Context, s *store.Store, rid string, ds []*dispatcher.Delivery) error {
	for c := range slices.Chunk(ds, 1000) {
		if _, err := s.CreateDeliveries(ctx, rid, c); err != nil {
			return err
		}
	}
	return nil
}

// sendDeliveries claims the deliveries and records them sent, each with a
// Message-ID as pregon makes them.
func sendDeliveries(ctx context.Context, s *store.Store, rid string, ds []*dispatcher.Delivery) error {
	for c := range slices.Chunk(ds, 1000) {
		ids := make([]string, len(c))
		outs := make([]dispatcher.Outcome, len(c))
		for i, d := range c {
			ids[i] = d.ID
			outs[i] = dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliverySent, MessageIDs: []string{"<" + d.ID + "." + rid + "@bench.example>"}}
		}
		if _, _, err := s.ClaimDeliveries(ctx, rid, ids, time.Time{}); err != nil {
			return err
		}
		if _, _, err := s.FinishAndClaim(ctx, rid, outs, nil, time.Time{}); err != nil {
			return err
		}
	}
	return nil
}
