package dispatcher_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// transientEmail fails every send transiently.
type transientEmail struct{}

func (transientEmail) SendEmail(context.Context, *dispatcher.EmailMessage) (string, error) {
	return "", dispatcher.Transient(errors.New("451 try again later"), 0)
}

// TestRetryDelayUsesTheInjectedClock: the delay of a retry's task is
// computed from the service's clock, not the wall clock, so a clock that
// runs a day ahead still enqueues the retry after the backoff.
func TestRetryDelayUsesTheInjectedClock(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st := store.New(rdb, nil)
	q := &recordingQueue{}
	ahead := func() time.Time { return time.Now().Add(24 * time.Hour) }
	const backoff = 40 * time.Second
	svc := newService(t, dispatcher.Config{Store: st, Queue: q, Now: ahead, Email: transientEmail{},
		Backoff: func(time.Duration, int) time.Duration { return backoff }}, true)
	rid, id := oneQueuedEmail(t, st)
	if err := svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: []string{id}}); err != nil {
		t.Fatal(err)
	}
	q.mu.Lock()
	defer q.mu.Unlock()
	if len(q.delays) != 1 || q.delays[0] > backoff || q.delays[0] < backoff-10*time.Second {
		t.Fatalf("retry enqueued with delays %v, want one of about %s", q.delays, backoff)
	}
}
