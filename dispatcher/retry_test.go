package dispatcher_test

import (
	"context"
	"strings"
	"sync"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// staleReader is a Store whose first Release call runs meanwhile before it
// answers with what it read before: a second retry interleaved with the
// first.
type staleReader struct {
	*store.Store
	once      sync.Once
	meanwhile func()
}

func (s *staleReader) Release(ctx context.Context, id string) (*dispatcher.Release, error) {
	r, err := s.Store.Release(ctx, id)
	s.once.Do(s.meanwhile)
	return r, err
}

// TestInterleavedRetriesDoNotStickSending (a 5.7.1, which fails without
// suppressing, so that the retry mails the address again): two retries of the same release
// that interleave (the second read the release, with its failed delivery,
// before the first requeued it and it was sent) leave it sent, not sending
// with nothing pending.
func TestInterleavedRetriesDoNotStickSending(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if strings.HasPrefix(rcpt, "gone@") && attempt == 1 {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "refused by policy"}
		}
		return nil
	})
	rid := h.sendTo(t, "ok@example.org", "gone@example.org")
	if rel := h.wait(t, rid); rel.Status != dispatcher.ReleaseSentWithFailures {
		t.Fatalf("release %s, want sent_with_failures", rel.Status)
	}
	stale := &staleReader{Store: h.store, meanwhile: func() {
		if n, err := h.svc.Retry(ctx, rid); err != nil || n != 1 {
			t.Errorf("first retry = %d, %v; want 1", n, err)
		}
		if rel := h.wait(t, rid); rel.Status != dispatcher.ReleaseSent {
			t.Errorf("after the first retry: release %s, want sent", rel.Status)
		}
	}}
	second := newService(t, dispatcher.Config{Store: stale, Queue: h.queue, Logger: h.log}, false)
	if n, err := second.Retry(ctx, rid); err != nil || n != 0 {
		t.Errorf("second retry = %d, %v; want 0", n, err)
	}
	rel, err := h.store.Release(ctx, rid)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Status != dispatcher.ReleaseSent || rel.Counts.ByStatus[dispatcher.DeliverySent] != 2 {
		t.Errorf("release %s with counts %v, want sent with 2 sent", rel.Status, rel.Counts.ByStatus)
	}
}
