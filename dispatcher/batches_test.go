package dispatcher_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// recordingQueue keeps what is enqueued instead of enqueuing it.
type recordingQueue struct {
	mu      sync.Mutex
	batches []dispatcher.Batch
	delays  []time.Duration // one per batch
}

func (q *recordingQueue) EnqueueDispatch(context.Context, string, time.Time) error { return nil }
func (q *recordingQueue) EnqueueBatches(_ context.Context, bs []dispatcher.Batch, delay time.Duration) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.batches = append(q.batches, bs...)
	for range bs {
		q.delays = append(q.delays, delay)
	}
	return nil
}

func (q *recordingQueue) take() []dispatcher.Batch {
	q.mu.Lock()
	defer q.mu.Unlock()
	bs := q.batches
	q.batches, q.delays = nil, nil
	return bs
}

// oneQueuedEmail creates a release with one queued email delivery and
// returns the ids of both.
func oneQueuedEmail(t *testing.T, s *store.Store) (rid, id string) {
	t.Helper()
	rid, chans := mixedRelease(t, s, 1, 0, dispatcher.DeliveryQueued)
	for k := range chans {
		id = k
	}
	return rid, id
}

// mixedRelease stores a sending, fully planned release with nEmail email
// and nTelegram Telegram deliveries in status st, and returns its id and
// each delivery's channel.
func mixedRelease(t *testing.T, s *store.Store, nEmail, nTelegram int, st dispatcher.DeliveryStatus) (string, map[string]dispatcher.ChannelKind) {
	t.Helper()
	ctx := context.Background()
	r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	if err := s.MarkActive(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	chans := map[string]dispatcher.ChannelKind{}
	var ds []*dispatcher.Delivery
	add := func(ch dispatcher.ChannelKind, to string) {
		d := &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, ch, to), Channel: ch, Recipient: to, Status: dispatcher.DeliveryQueued}
		ds = append(ds, d)
		chans[d.ID] = ch
	}
	for i := range nEmail {
		add(dispatcher.ChannelEmail, string(rune('a'+i%26))+string(rune('a'+i/26))+"@x.org")
	}
	for i := range nTelegram {
		add(dispatcher.ChannelTelegram, "@canal"+string(rune('a'+i)))
	}
	ids, err := s.CreateDeliveries(ctx, r.ID, ds)
	if err != nil {
		t.Fatal(err)
	}
	if st == dispatcher.DeliveryFailed {
		c, _, err := s.ClaimDeliveries(ctx, r.ID, ids, time.Now().Add(-time.Hour))
		if err != nil {
			t.Fatal(err)
		}
		var outs []dispatcher.Outcome
		for _, d := range c {
			outs = append(outs, dispatcher.Outcome{ID: d.ID, Status: dispatcher.DeliveryFailed, Error: "boom"})
		}
		if err := s.FinishDeliveries(ctx, r.ID, outs); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := s.SnapshotDone(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	return r.ID, chans
}

// TestBatchesCarryTheirChannel: every batch that Retry, the sweeper and a
// re-run dispatch enqueue holds deliveries of its own channel only, so that
// Telegram deliveries go to the Telegram queue (with its pacing) and email
// ones to the email queue; none is left out.
func TestBatchesCarryTheirChannel(t *testing.T) {
	tests := []struct {
		name string
		st   dispatcher.DeliveryStatus
		run  func(ctx context.Context, svc *dispatcher.Service, rid string) error
	}{
		{"retry", dispatcher.DeliveryFailed, func(ctx context.Context, svc *dispatcher.Service, rid string) error {
			_, err := svc.Retry(ctx, rid)
			return err
		}},
		{"sweep", dispatcher.DeliveryQueued, func(ctx context.Context, svc *dispatcher.Service, _ string) error {
			_, err := svc.Sweep(ctx)
			return err
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			ctx := context.Background()
			rdb := redistest.Start(t).Client(t)
			st := store.New(rdb, nil)
			q := &recordingQueue{}
			later := func() time.Time { return time.Now().Add(time.Hour) } // every release is idle
			svc := newService(t, dispatcher.Config{Store: st, Queue: q, Now: later, BatchSize: 4}, false)
			rid, chans := mixedRelease(t, st, 9, 3, tt.st)
			if err := tt.run(ctx, svc, rid); err != nil {
				t.Fatal(err)
			}
			seen := map[string]bool{}
			for _, b := range q.take() {
				if len(b.IDs) > 4 {
					t.Errorf("a batch of %d, more than the batch size 4", len(b.IDs))
				}
				for _, id := range b.IDs {
					if chans[id] != b.Channel {
						t.Errorf("%s delivery %s in a %s batch", chans[id], id, b.Channel)
					}
					seen[id] = true
				}
			}
			if len(seen) != len(chans) {
				t.Errorf("%d of %d deliveries enqueued", len(seen), len(chans))
			}
		})
	}
}
