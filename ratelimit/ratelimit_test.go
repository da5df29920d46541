package ratelimit

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
)

// TestWaitSpacesEvents checks, on a real Redis and without reading the
// clock, that Wait asks to sleep between events: the sleeps it requests add
// up to the spacing the rule implies.
func TestWaitSpacesEvents(t *testing.T) {
	l := New(redistest.Start(t).Client(t))
	var slept atomic.Int64
	l.sleep = func(ctx context.Context, d time.Duration) error {
		slept.Add(int64(d))
		return sleepCtx(ctx, d)
	}
	rule := Rule{Key: "t", Rate: 50, Period: time.Second}
	var wg sync.WaitGroup
	for range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for range 5 {
				if err := l.Wait(context.Background(), rule); err != nil {
					t.Error(err)
				}
			}
		}()
	}
	wg.Wait()
	// 20 events at 50/s need 19 gaps of 20ms; concurrent waiters each sleep,
	// so the sum of requested sleeps is at least the span.
	if got := time.Duration(slept.Load()); got < 19*20*time.Millisecond*9/10 {
		t.Errorf("requested sleeps add up to %s, want at least ~380ms", got)
	}
}

func TestWaitLongerThanMaxWaitIsTransient(t *testing.T) {
	l := New(redistest.Start(t).Client(t))
	l.MaxWait = time.Second
	rule := Rule{Key: "chat", Rate: 1, Period: time.Minute}
	if err := l.Wait(context.Background(), rule); err != nil {
		t.Fatal(err)
	}
	err := l.Wait(context.Background(), rule)
	if !errors.Is(err, ErrRateLimited) || dispatcher.IsPermanent(err) {
		t.Fatalf("second event: err = %v, want a transient ErrRateLimited", err)
	}
	if d, ok := dispatcher.RetryAfter(err); !ok || d < 50*time.Second || d > time.Minute {
		t.Errorf("retry after = %s, %v; want about a minute", d, ok)
	}
}
