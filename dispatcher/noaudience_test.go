package dispatcher_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// TestNoAudienceGoesNowhere: a draft saved before its audience was chosen
// is refused by Send, and one found scheduled without an audience (which
// neither a send nor an edit allows) is not dispatched to no one, nor
// published: it goes back to draft.
func TestNoAudienceGoesNowhere(t *testing.T) {
	ctx := t.Context()
	r := newRig()
	svc := r.service(t, dispatcher.Config{})
	id := r.mem.AddRelease(dispatcher.Release{Title: "Borrador", Body: "Texto.", Language: "es", Version: 1})

	_, err := svc.Send(ctx, id, nil)
	if !errors.Is(err, dispatcher.ErrConflict) || !strings.Contains(err.Error(), "has no audience") {
		t.Fatalf("Send of a draft with no audience: %v, want a conflict naming the audience", err)
	}
	if rel, _ := r.mem.Release(ctx, id); rel.Status != dispatcher.ReleaseDraft || len(r.queue.Dispatches()) != 0 {
		t.Fatalf("after the refused send: %s, dispatches %v", rel.Status, r.queue.Dispatches())
	}

	// Scheduled behind the checks' back, as no path of the API allows.
	if _, _, err := r.mem.ScheduleSend(ctx, id, t0, t0, false, 0); err != nil {
		t.Fatal(err)
	}
	if err := svc.Dispatch(ctx, id); err != nil {
		t.Fatal(err)
	}
	rel, err := r.mem.Release(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Status != dispatcher.ReleaseDraft || len(r.mem.Records(id)) != 0 || len(r.queue.Batches()) != 0 {
		t.Fatalf("dispatch with no audience: status %s, %d deliveries, %d batches; want a draft again and nothing planned",
			rel.Status, len(r.mem.Records(id)), len(r.queue.Batches()))
	}
}
