package dispatcher_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// noRenewals is a Store whose claim renewals fail, as while Redis is frozen.
type noRenewals struct{ *store.Store }

func (noRenewals) RenewClaim(context.Context, string, string, time.Time) (time.Time, bool, error) {
	return time.Time{}, false, errors.New("i/o timeout")
}

// heldEmail counts sends and holds the first until release is closed.
type heldEmail struct {
	sends   atomic.Int32
	entered chan struct{}
	release chan struct{}
}

func (e *heldEmail) SendEmail(ctx context.Context, m *dispatcher.EmailMessage) (string, error) {
	if e.sends.Add(1) == 1 {
		close(e.entered)
		<-e.release
	}
	return "<" + m.DeliveryID + "@x>", nil
}

// TestOwnStaleClaimIsNotTakenOver: while this process is sending a
// delivery whose claim has gone stale (its renewals failed, as while Redis
// is frozen), neither its sweeper nor another of its tasks takes it over;
// the send is recorded sent once it completes, and made once.
func TestOwnStaleClaimIsNotTakenOver(t *testing.T) {
	ctx := context.Background()
	st := store.New(redistest.Start(t).Client(t), nil)
	q := &recordingQueue{}
	mail := &heldEmail{entered: make(chan struct{}), release: make(chan struct{})}
	var offset atomic.Int64 // the clock jumps past the claim timeout
	now := func() time.Time { return time.Now().Add(time.Duration(offset.Load())) }
	svc := newService(t, dispatcher.Config{Store: noRenewals{st}, Queue: q, Now: now, Email: mail, ClaimTimeout: time.Minute}, true)
	rid, id := oneQueuedEmail(t, st)
	batch := dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: []string{id}}
	done := make(chan error, 1)
	go func() { done <- svc.Deliver(ctx, batch) }()
	select {
	case <-mail.entered:
	case <-time.After(10 * time.Second):
		t.Fatal("the send never started")
	}
	offset.Store(int64(2 * time.Minute)) // the claim is now stale
	if _, err := svc.Sweep(ctx); err != nil {
		t.Fatal(err)
	}
	if bs := q.take(); len(bs) != 0 {
		t.Errorf("the sweeper enqueued %v, a delivery this process is sending", bs)
	}
	if err := svc.Deliver(ctx, batch); err != nil { // the same task run again meanwhile
		t.Fatal(err)
	}
	close(mail.release)
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	if n := mail.sends.Load(); n != 1 {
		t.Errorf("sent %d times, want once", n)
	}
	d, err := st.Delivery(ctx, rid, id)
	if err != nil || d.Status != dispatcher.DeliverySent {
		t.Errorf("delivery = %+v, %v; want sent", d, err)
	}
}
