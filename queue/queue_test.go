package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
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
	// The second dispatch was dropped as a duplicate, so no other task is left.
	info, err := asynq.NewInspectorFromRedisClient(rdb).GetQueueInfo(QueueDispatch)
	if err != nil {
		t.Fatal(err)
	}
	if n := info.Pending + info.Scheduled + info.Active + info.Retry; n != 0 {
		t.Errorf("%d dispatch tasks left, want 0", n)
	}
	if n := len(rec.dispatched); n != 0 {
		t.Errorf("the dispatch ran %d more times, want once", n)
	}
}
