package dispatcher_test

import (
	"context"
	"sync"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// cancelMidPlanning is a Store that runs hook before reading the second
// page of a list: the release is cancelled while it is being planned.
type cancelMidPlanning struct {
	*store.Store
	once sync.Once
	hook func()
}

func (c *cancelMidPlanning) Members(ctx context.Context, listID, cursor string, limit int) ([]dispatcher.Member, string, error) {
	if cursor != "" {
		c.once.Do(c.hook)
	}
	return c.Store.Members(ctx, listID, cursor, limit)
}

// TestCancelDuringPlanning: a release cancelled while its recipients are
// being planned shows no queued delivery once cancelled (those planned
// after the cancel are recorded cancelled), every recipient has a record,
// and no count exceeds the total.
func TestCancelDuringPlanning(t *testing.T) {
	h := newIdleHarness(t, dispatcher.Config{}) // no workers: nothing but the planner moves deliveries
	ctx := context.Background()
	emails := addresses("p%04d@example.org", 2500)
	rid := h.sendTo(t, emails...)
	wrapped := &cancelMidPlanning{Store: h.store}
	wrapped.hook = func() {
		if _, err := h.svc.Cancel(ctx, rid); err != nil {
			t.Errorf("cancel: %v", err)
		}
	}
	svc := newService(t, dispatcher.Config{Store: wrapped, Queue: h.queue, Logger: h.log}, false)
	if err := svc.Dispatch(ctx, rid); err != nil {
		t.Fatal(err)
	}
	rel, err := h.store.Release(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	c := rel.Counts
	if rel.Status != dispatcher.ReleaseCancelled || c.Total != int64(len(emails)) || c.ByStatus[dispatcher.DeliveryQueued] != 0 || c.ByStatus[dispatcher.DeliveryCancelled] != c.Total {
		t.Errorf("release %s, total %d, counts %v; want cancelled with all %d deliveries cancelled, none queued", rel.Status, c.Total, c.ByStatus, len(emails))
	}
	for st, n := range c.ByStatus {
		if n < 0 || n > c.Total {
			t.Errorf("count %s = %d, outside 0..total (%d)", st, n, c.Total)
		}
	}
}

// TestCountsNeverExceedTotal: counts read with a negative value (which the
// store's scripts never write) do not make a status exceed the total.
func TestCountsNeverExceedTotal(t *testing.T) {
	c := dispatcher.NewCounts()
	c.Add(dispatcher.ChannelEmail, dispatcher.DeliveryQueued, 5)
	c.Add(dispatcher.ChannelEmail, dispatcher.DeliveryCancelled, -2)
	if c.Total != 5 || c.ByStatus[dispatcher.DeliveryQueued] > c.Total || c.ByStatus[dispatcher.DeliveryCancelled] != 0 {
		t.Errorf("counts %v total %d; want 5 queued of 5", c.ByStatus, c.Total)
	}
}
