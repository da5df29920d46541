package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/hibiken/asynq"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
)

func TestBackoffGrowsWithJitterAndCaps(t *testing.T) {
	base := 100 * time.Millisecond
	for n, want := range map[int]time.Duration{1: base, 2: 2 * base, 3: 4 * base, 6: 32 * base} {
		for range 50 {
			got := Backoff(base, n)
			if got < want*8/10 || got > want*12/10 {
				t.Fatalf("Backoff(%s, %d) = %s, want %s ±20%%", base, n, got, want)
			}
		}
	}
	if got := Backoff(time.Minute, 40); got > time.Hour*12/10 {
		t.Errorf("Backoff(1m, 40) = %s, want at most an hour (+jitter)", got)
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		err       error
		skipRetry bool
	}{
		{nil, false},
		{errors.New("redis: connection refused"), false},
		{fmt.Errorf("release x: %w", dispatcher.ErrNotFound), true},
		{dispatcher.Permanent(errors.New("bad")), true},
		{dispatcher.Transient(errors.New("later"), 0), false},
	}
	for _, tt := range tests {
		got := classify(tt.err)
		if (got == nil) != (tt.err == nil) {
			t.Errorf("classify(%v) = %v", tt.err, got)
		}
		if errors.Is(got, asynq.SkipRetry) != tt.skipRetry {
			t.Errorf("classify(%v) skip retry = %v, want %v", tt.err, !tt.skipRetry, tt.skipRetry)
		}
	}
}

type recorder struct {
	dispatched chan string
	delivered  chan dispatcher.Batch
}

func (r *recorder) Dispatch(_ context.Context, id string) error { r.dispatched <- id; return nil }
func (r *recorder) Deliver(_ context.Context, b dispatcher.Batch) error {
	r.delivered <- b
	return nil
}

// TestRoundTrip enqueues each kind of task on a real Redis and checks that
// the server hands it to the handler intact, and that a dispatch enqueued
// twice runs once.
func TestRoundTrip(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	c := NewClient(rdb)
	rec := &recorder{dispatched: make(chan string, 4), delivered: make(chan dispatcher.Batch, 4)}
	ctx := context.Background()
	at := time.Now().Add(50 * time.Millisecond)
	for range 2 {
		if err := c.EnqueueDispatch(ctx, "rel_1", at); err != nil {
			t.Fatal(err)
		}
	}
	b := dispatcher.Batch{ReleaseID: "rel_1", Channel: dispatcher.ChannelTelegram, IDs: []string{"a", "b"}}
	if err := c.EnqueueBatches(ctx, []dispatcher.Batch{b}, 10*time.Millisecond); err != nil {
		t.Fatal(err)
	}
	// The second dispatch was dropped as a duplicate: one task waits. (Read
	// before any server runs, so asynq's state cannot move meanwhile.)
	insp := asynq.NewInspectorFromRedisClient(rdb)
	if n := dispatchTasks(t, insp); n != 1 {
		t.Fatalf("%d dispatch tasks enqueued by two EnqueueDispatch calls, want 1", n)
	}
	srv := NewServer(rdb, Config{Concurrency: 2, PollInterval: 10 * time.Millisecond, ShutdownTimeout: time.Second}, rec)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	defer srv.Shutdown()
	timeout := time.After(10 * time.Second)
	select {
	case id := <-rec.dispatched:
		if id != "rel_1" {
			t.Errorf("dispatched %q", id)
		}
	case <-timeout:
		t.Fatal("dispatch never ran")
	}
	select {
	case got := <-rec.delivered:
		if got.ReleaseID != b.ReleaseID || got.Channel != b.Channel || fmt.Sprint(got.IDs) != fmt.Sprint(b.IDs) || got.NotBefore == 0 {
			j, _ := json.Marshal(got)
			t.Errorf("delivered %s, want %+v with a not-before time", j, b)
		}
	case <-timeout:
		t.Fatal("delivery never ran")
	}
	// Once asynq has let go of the finished task (it stays active for a
	// moment after the handler returns), the dispatch must have run once.
	deadline := time.Now().Add(10 * time.Second)
	for n := dispatchTasks(t, insp); n != 0; n = dispatchTasks(t, insp) {
		if time.Now().After(deadline) {
			t.Fatalf("%d dispatch tasks still in the queue 10s after the dispatch ran", n)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if n := len(rec.dispatched); n != 0 {
		t.Errorf("the dispatch ran %d more times, want once", n)
	}
}

// TestDispatchForAnotherTimeIsItsOwnTask: a release whose lift was moved
// gets a dispatch at the new time beside the one at the old (which finds
// nothing to do when it runs); the same time twice is still one task.
func TestDispatchForAnotherTimeIsItsOwnTask(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	c := NewClient(rdb)
	ctx := context.Background()
	lift := time.Now().Add(time.Hour).Truncate(time.Millisecond)
	for _, at := range []time.Time{lift, lift, lift.Add(30 * time.Minute), lift.Add(30 * time.Minute), lift.Add(time.Millisecond)} {
		if err := c.EnqueueDispatch(ctx, "rel_1", at); err != nil {
			t.Fatal(err)
		}
	}
	if err := c.EnqueueDispatch(ctx, "rel_2", lift); err != nil {
		t.Fatal(err)
	}
	insp := asynq.NewInspectorFromRedisClient(rdb)
	tasks, err := insp.ListScheduledTasks(QueueDispatch)
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, ti := range tasks {
		got[ti.ID] = true
	}
	want := map[string]bool{
		DispatchTaskID("rel_1", lift): true, DispatchTaskID("rel_1", lift.Add(30*time.Minute)): true,
		DispatchTaskID("rel_1", lift.Add(time.Millisecond)): true, DispatchTaskID("rel_2", lift): true,
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("scheduled dispatch tasks %v, want %v", got, want)
	}
}

// dispatchTasks counts the dispatch tasks waiting, scheduled, running or
// waiting for a retry.
func dispatchTasks(t *testing.T, insp *asynq.Inspector) int {
	t.Helper()
	info, err := insp.GetQueueInfo(QueueDispatch)
	if err != nil {
		t.Fatal(err)
	}
	return info.Pending + info.Scheduled + info.Active + info.Retry
}

// TestEnqueueBatchesUsesTheClock: a delayed batch's not-before time is
// computed from the client's clock.
func TestEnqueueBatchesUsesTheClock(t *testing.T) {
	rdb := redistest.Start(t).Client(t)
	fixed := time.Date(2030, 5, 1, 12, 0, 0, 0, time.UTC)
	c := NewClient(rdb, WithClock(func() time.Time { return fixed }))
	b := dispatcher.Batch{ReleaseID: "rel_1", Channel: dispatcher.ChannelEmail, IDs: []string{"a"}}
	if err := c.EnqueueBatches(context.Background(), []dispatcher.Batch{b}, time.Minute); err != nil {
		t.Fatal(err)
	}
	tasks, err := asynq.NewInspectorFromRedisClient(rdb).ListScheduledTasks(QueueEmail)
	if err != nil || len(tasks) != 1 {
		t.Fatalf("scheduled tasks = %v, %v; want 1", tasks, err)
	}
	var got dispatcher.Batch
	if err := json.Unmarshal(tasks[0].Payload, &got); err != nil {
		t.Fatal(err)
	}
	if want := fixed.Add(time.Minute).UnixMilli(); got.NotBefore != want {
		t.Errorf("not before = %d, want %d (the clock's now + 1m)", got.NotBefore, want)
	}
	if !tasks[0].NextProcessAt.Equal(fixed.Add(time.Minute)) {
		t.Errorf("process at %s, want %s", tasks[0].NextProcessAt, fixed.Add(time.Minute))
	}
}

// blocker is a Handler whose Deliver reports its context and waits.
type blocker struct {
	started chan context.Context
	release chan struct{}
}

func (b *blocker) Dispatch(context.Context, string) error { return nil }
func (b *blocker) Deliver(ctx context.Context, _ dispatcher.Batch) error {
	b.started <- ctx
	<-b.release
	return nil
}

// TestFrozenRedisDoesNotCutADelivery freezes Redis (SIGSTOP) for longer
// than asynq's 30 s task lease while a delivery task runs: asynq gives up
// the task's lease, but the batch's context is not cancelled (that would
// cut a send in the middle and record it uncertain); a shutdown still
// cancels it.
func TestFrozenRedisDoesNotCutADelivery(t *testing.T) {
	if testing.Short() {
		t.Skip("freezes Redis for 35 s")
	}
	rdb := redistest.Start(t).Client(t)
	ctx := context.Background()
	info, err := rdb.InfoMap(ctx, "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(info["Server"]["process_id"])
	if err != nil {
		t.Fatal(err)
	}
	h := &blocker{started: make(chan context.Context, 1), release: make(chan struct{})}
	srv := NewServer(rdb, Config{Concurrency: 1, PollInterval: 10 * time.Millisecond, ShutdownTimeout: time.Second}, h)
	if err := srv.Start(); err != nil {
		t.Fatal(err)
	}
	if err := NewClient(rdb).EnqueueBatches(ctx, []dispatcher.Batch{{ReleaseID: "rel_1", Channel: dispatcher.ChannelEmail, IDs: []string{"a"}}}, 0); err != nil {
		t.Fatal(err)
	}
	var tctx context.Context
	select {
	case tctx = <-h.started:
	case <-time.After(10 * time.Second):
		t.Fatal("the delivery task never ran")
	}
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thaw := func() { syscall.Kill(pid, syscall.SIGCONT) }
	t.Cleanup(thaw)
	// The lease (30 s) runs out during the freeze; asynq notices at its
	// first heartbeat after (every 5 s).
	frozen := time.NewTimer(32 * time.Second)
	select {
	case <-tctx.Done():
		t.Fatalf("the delivery's context was cancelled during the freeze: %v", tctx.Err())
	case <-frozen.C:
	}
	thaw()
	after := time.NewTimer(8 * time.Second)
	select {
	case <-tctx.Done():
		t.Fatalf("the delivery's context was cancelled after a freeze: %v", tctx.Err())
	case <-after.C:
	}
	close(h.release)
	srv.Shutdown()
	if tctx.Err() == nil {
		t.Errorf("the delivery's context outlived the server's shutdown")
	}
}
