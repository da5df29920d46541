package dispatcher_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// TestSendAtBeforeEmbargoIsAConflict: Send with an at before the release's
// embargo used to schedule it for then, handing it to its audiences early.
// It is ErrConflict and leaves the release a draft, whoever calls Send.
func TestSendAtBeforeEmbargoIsAConflict(t *testing.T) {
	h := newIdleHarness(t, dispatcher.Config{})
	ctx := context.Background()
	embargo := time.Now().Add(time.Hour).UTC().Truncate(time.Millisecond)
	r := &dispatcher.Release{Title: "Comunicado", Body: "Texto.", Language: "es", EmbargoUntil: &embargo,
		Audiences: dispatcher.Audiences{Lists: []string{h.list(t, "ana@example.org")}}}
	if err := h.store.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	if _, err := h.svc.Send(ctx, r.ID, &now); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("Send at now, embargo in an hour: err = %v, want ErrConflict", err)
	}
	if got, err := h.store.Release(ctx, r.ID); err != nil || got.Status != dispatcher.ReleaseDraft {
		t.Fatalf("after the refused send: %v, %v; want a draft", got, err)
	}
	got, err := h.svc.Send(ctx, r.ID, &embargo)
	if err != nil || got.Status != dispatcher.ReleaseScheduled {
		t.Fatalf("Send at the embargo = %v, %v; want scheduled", got, err)
	}
}
