package dispatcher_test

import (
	"context"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestSweepTakesOverDeadWorker: as soon as a worker's liveness key has gone,
// the sweeper enqueues again what it held and the queued deliveries of the
// same release (its tasks held some), without waiting for the claim timeout
// or for the release to look idle; what a live worker holds is left alone.
func TestSweepTakesOverDeadWorker(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st := store.New(rdb, nil)
	q := &recordingQueue{}
	// The sweeping worker has been alive for an hour (its clock is an hour
	// ahead of its first heartbeat), and claims go stale after two.
	later := func() time.Time { return time.Now().Add(time.Hour) }
	svc := newService(t, dispatcher.Config{Store: st, Queue: q, Now: later, ClaimTimeout: 2 * time.Hour, WorkerID: "sweeper:1:cc"}, false)
	// Another sweeper whose heartbeats began just now (as after a freeze of
	// Redis, when every key had expired): it does not judge others yet.
	young := newService(t, dispatcher.Config{Store: st, Queue: q, ClaimTimeout: 2 * time.Hour, WorkerID: "young:1:dd"}, false)
	rid, chans := mixedRelease(t, st, 4, 0, dispatcher.DeliveryQueued)
	var ids []string
	for id := range chans {
		ids = append(ids, id)
	}
	sort.Strings(ids)
	const dead, live = "gone:7:aa", "alive:7:bb"
	for _, w := range []string{dead, live, "sweeper:1:cc", "young:1:dd"} {
		if err := st.Heartbeat(ctx, w, time.Minute); err != nil {
			t.Fatal(err)
		}
	}
	longAgo := time.Now().Add(-time.Hour)
	if c, _, err := st.FinishAndClaimBy(ctx, rid, dead, nil, ids[:1], longAgo); err != nil || len(c) != 1 {
		t.Fatalf("claim by %s = %v, %v", dead, c, err)
	}
	if c, _, err := st.FinishAndClaimBy(ctx, rid, live, nil, ids[1:2], longAgo); err != nil || len(c) != 1 {
		t.Fatalf("claim by %s = %v, %v", live, c, err)
	}
	// Both alive: the release is busy, nothing to do.
	if _, err := svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if bs := q.take(); len(bs) != 0 {
		t.Fatalf("sweep with every worker alive enqueued %v", bs)
	}
	if err := rdb.Del(ctx, "pregon:worker:"+dead).Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := young.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if bs := q.take(); len(bs) != 0 {
		t.Fatalf("a sweeper whose own heartbeats began just now judged %s dead and enqueued %v", dead, bs)
	}
	if _, err := svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, b := range q.take() {
		got = append(got, b.IDs...)
	}
	sort.Strings(got)
	want := append([]string{ids[0]}, ids[2:]...)
	sort.Strings(want)
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("enqueued %v, want the dead worker's %s and the queued %v", got, ids[0], ids[2:])
	}
	// Its deliveries taken over, the dead worker is forgotten.
	if ws, _, err := st.DeadWorkers(ctx, "sweeper:1:cc"); err != nil || len(ws) != 0 {
		t.Errorf("dead workers after the sweep = %v, %v; want none", ws, err)
	}
}

// TestHeartbeat: the liveness key exists while the heartbeat runs, and a
// worker that leaves removes it.
func TestHeartbeat(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st := store.New(rdb, nil)
	svc := newService(t, dispatcher.Config{Store: st, Queue: &recordingQueue{}, LivenessTTL: 3 * time.Second}, false)
	key := "pregon:worker:" + svc.WorkerID()
	stop, err := svc.StartHeartbeat(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// Renewed (every second): its time to live goes up again.
	first, err := rdb.PTTL(ctx, key).Result()
	if err != nil || first <= 0 {
		t.Fatalf("liveness key %s: ttl %s, %v", key, first, err)
	}
	deadline := time.Now().Add(10 * time.Second)
	for low := first; ; {
		ttl, err := rdb.PTTL(ctx, key).Result()
		if err != nil {
			t.Fatal(err)
		}
		if ttl < 0 {
			t.Fatalf("liveness key %s gone while the heartbeat runs", key)
		}
		if ttl > low {
			break
		}
		low = min(low, ttl)
		if time.Now().After(deadline) {
			t.Fatalf("liveness key never renewed (ttl %s)", ttl)
		}
		time.Sleep(10 * time.Millisecond)
	}
	stop(true)
	if n, _ := rdb.Exists(ctx, key).Result(); n != 0 {
		t.Errorf("liveness key still there after leaving")
	}
	if ws, _ := rdb.SMembers(ctx, "pregon:workers").Result(); len(ws) != 0 {
		t.Errorf("workers registered after leaving: %v", ws)
	}
}
