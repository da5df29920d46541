package dispatcher_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// TestSendNeedsApprovalWhenRequired: with RequireApproval, Send refuses a
// draft until its current version is approved, and schedules nothing
// meanwhile; without it, the same draft is sent.
func TestSendNeedsApprovalWhenRequired(t *testing.T) {
	ctx := context.Background()
	r := newRig()
	id := r.mem.AddRelease(dispatcher.Release{Title: "T", Body: "B", Language: "es", Version: 2, Author: "ana", ApprovedBy: "luis", ApprovedVersion: 1,
		Audiences: dispatcher.Audiences{Lists: []string{"lst_prensa"}}})
	svc := r.service(t, dispatcher.Config{RequireApproval: true})

	_, err := svc.Send(ctx, id, nil)
	var ce *dispatcher.ConflictError
	if !errors.As(err, &ce) || ce.Reason != dispatcher.ConflictUnapproved || ce.Version != 2 || ce.Author != "ana" || !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("Send of an unapproved version: %v", err)
	}
	if want := "release " + id + " needs approval of version 2 by a coordinator other than ana"; err.Error() != want {
		t.Fatalf("error %q, want %q", err, want)
	}
	if d := r.queue.Dispatches(); len(d) != 0 {
		t.Fatalf("dispatches enqueued for an unapproved release: %v", d)
	}
	if rel, _ := r.mem.Release(ctx, id); rel.Status != dispatcher.ReleaseDraft {
		t.Fatalf("status %s, want draft", rel.Status)
	}

	// The same version sent without the requirement goes.
	aud := dispatcher.Audiences{Lists: []string{"lst_prensa"}}
	other := r.mem.AddRelease(dispatcher.Release{Title: "T", Body: "B", Language: "es", Version: 2, Author: "ana", Audiences: aud})
	rel, err := r.service(t, dispatcher.Config{}).Send(ctx, other, nil)
	if err != nil || rel.Status != dispatcher.ReleaseScheduled {
		t.Fatalf("Send without the requirement: %v, %v", rel, err)
	}

	approved := r.mem.AddRelease(dispatcher.Release{Title: "T", Body: "B", Language: "es", Version: 2, Author: "ana", ApprovedBy: "luis", ApprovedVersion: 2, Audiences: aud})
	rel, err = svc.Send(ctx, approved, nil)
	if err != nil || rel.Status != dispatcher.ReleaseScheduled {
		t.Fatalf("Send of an approved version: %v, %v", rel, err)
	}
}

// TestCorrectionNeedsNoApproval: with RequireApproval, a release is sent
// once approved, and a correction of it goes out at once, to the same
// recipients, without an approval of its own (there is nothing that could
// approve it before it is sent).
func TestCorrectionNeedsNoApproval(t *testing.T) {
	h := newIdleHarness(t, dispatcher.Config{RequireApproval: true})
	h.startWorkers(t)
	ctx := context.Background()
	rel := &dispatcher.Release{Title: "Comunicado", Body: "Texto.", Language: "es", Version: 1, Author: "ana",
		Audiences: dispatcher.Audiences{Lists: []string{h.list(t, "ana@example.org", "bea@example.org")}}}
	if err := h.store.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	var ce *dispatcher.ConflictError
	if _, err := h.svc.Send(ctx, rel.ID, nil); !errors.As(err, &ce) || ce.Reason != dispatcher.ConflictUnapproved {
		t.Fatalf("Send before approval: %v, want unapproved", err)
	}
	if _, err := h.store.ApproveRelease(ctx, rel.ID, 1, "luis"); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Send(ctx, rel.ID, nil); err != nil {
		t.Fatal(err)
	}
	if r := h.wait(t, rel.ID); r.Status != dispatcher.ReleaseSent {
		t.Fatalf("release %s, want sent", r.Status)
	}
	body := "Texto corregido."
	c, created, err := h.svc.Correct(ctx, rel.ID, &dispatcher.CorrectionRequest{Note: "Cifra corregida.", Body: &body, Author: "ana"})
	if err != nil || !created {
		t.Fatalf("Correct with approval required: %v, %v, %v", c, created, err)
	}
	if r := h.wait(t, c.ID); r.Status != dispatcher.ReleaseSent || r.Counts.Total != 2 {
		t.Fatalf("correction %s with %d deliveries, want sent to 2", r.Status, r.Counts.Total)
	}
}
