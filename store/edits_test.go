package store_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// newDraft stores a draft release by author and returns it as read back.
func newDraft(t *testing.T, s *store.Store, author string) *dispatcher.Release {
	t.Helper()
	ctx := context.Background()
	r := &dispatcher.Release{Title: "Dragado", Body: "Texto.", Language: "es", Author: author, Version: 1,
		Audiences: dispatcher.Audiences{Lists: []string{"lst_x"}}}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	got, err := s.Release(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// conflict returns the reason of a *dispatcher.ConflictError, failing the
// test when err is not one.
func conflict(t *testing.T, err error) *dispatcher.ConflictError {
	t.Helper()
	var ce *dispatcher.ConflictError
	if !errors.As(err, &ce) || !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("err = %v, want a *dispatcher.ConflictError", err)
	}
	return ce
}

// statusIDs returns the ids of the releases in one status's index.
func statusIDs(t *testing.T, s *store.Store, st dispatcher.ReleaseStatus) []string {
	t.Helper()
	rs, _, err := s.Releases(context.Background(), st, "", 100, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, r := range rs {
		ids = append(ids, r.ID)
	}
	return ids
}

func TestEditAndApprove(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	r := newDraft(t, s, "ana")
	if r.Version != 1 || r.Author != "ana" || r.ApprovedVersion != 0 {
		t.Fatalf("new release: version %d, author %q, approved %d; want 1, ana, 0", r.Version, r.Author, r.ApprovedVersion)
	}

	// The author cannot approve; another coordinator approves version 1.
	if ce := conflict(t, errOf(s.ApproveRelease(ctx, r.ID, 1, "ana"))); ce.Reason != dispatcher.ConflictOwnRelease || ce.Author != "ana" {
		t.Fatalf("approval by the author: %+v", ce)
	}
	if ce := conflict(t, errOf(s.ApproveRelease(ctx, r.ID, 2, "luis"))); ce.Reason != dispatcher.ConflictVersion || ce.Version != 1 {
		t.Fatalf("approval of version 2: %+v, want ConflictVersion at 1", ce)
	}
	ap, err := s.ApproveRelease(ctx, r.ID, 1, "luis")
	if err != nil {
		t.Fatal(err)
	}
	if ap.ApprovedBy != "luis" || ap.ApprovedVersion != 1 {
		t.Fatalf("approved: by %q version %d, want luis 1", ap.ApprovedBy, ap.ApprovedVersion)
	}

	// An edit makes version 2 and leaves the approval on version 1.
	next := *ap
	next.Title = "Dragado suspendido"
	ed, err := s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 1})
	if err != nil {
		t.Fatal(err)
	}
	if ed.Version != 2 || ed.Title != "Dragado suspendido" || ed.ApprovedVersion != 1 || ed.ApprovedBy != "luis" || ed.Status != dispatcher.ReleaseDraft {
		t.Fatalf("edited: %+v", ed)
	}
	// The summaries that collections read follow the edit.
	if rs, _, err := s.Releases(ctx, "", "", 10, false, 0); err != nil || len(rs) != 1 || rs[0].Title != "Dragado suspendido" || rs[0].Version != 2 {
		t.Fatalf("Releases after the edit: %v, %v", rs, err)
	}
	// An edit made from version 1 is refused now.
	if ce := conflict(t, errOf(s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 1}))); ce.Reason != dispatcher.ConflictVersion || ce.Version != 2 {
		t.Fatalf("stale edit: %+v", ce)
	}

	// With approval required, version 2 is not sent until approved.
	if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, true, 0); conflict(t, err).Reason != dispatcher.ConflictUnapproved {
		t.Fatalf("send of an unapproved version: %v", err)
	}
	if got, _ := s.Release(ctx, r.ID); got.Status != dispatcher.ReleaseDraft {
		t.Fatalf("status after a refused send: %s, want draft", got.Status)
	}
	if _, err := s.ApproveRelease(ctx, r.ID, 2, "luis"); err != nil {
		t.Fatal(err)
	}
	// A send of the version checked before the edit (1) schedules nothing.
	if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, true, 1); conflict(t, err).Reason != dispatcher.ConflictVersion || conflict(t, err).Version != 2 {
		t.Fatalf("send of version 1, at version 2: %v", err)
	}
	if got, _ := s.Release(ctx, r.ID); got.Status != dispatcher.ReleaseDraft {
		t.Fatalf("status after a send of another version: %s, want draft", got.Status)
	}
	sc, _, err := s.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, true, 2)
	if err != nil || sc.Status != dispatcher.ReleaseScheduled {
		t.Fatalf("send of an approved version: %v, %v", sc, err)
	}

	// An edit of a scheduled release, approval required, sends it back to
	// draft and out of the scheduled index.
	next = *sc
	next.Summary = "Resumen nuevo."
	ed, err = s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 2, RequireApproval: true})
	if err != nil {
		t.Fatal(err)
	}
	if ed.Status != dispatcher.ReleaseDraft || ed.ScheduledAt != nil || ed.Version != 3 || ed.ApprovedVersion != 2 {
		t.Fatalf("edit of a scheduled release with approval required: %+v", ed)
	}
	if ids := statusIDs(t, s, dispatcher.ReleaseScheduled); len(ids) != 0 {
		t.Fatalf("scheduled index holds %v", ids)
	}
	if ids := statusIDs(t, s, dispatcher.ReleaseDraft); len(ids) != 1 || ids[0] != r.ID {
		t.Fatalf("draft index holds %v", ids)
	}

	// Without approval required, a scheduled release stays scheduled.
	if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, false, 0); err != nil {
		t.Fatal(err)
	}
	ed, err = s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 3})
	if err != nil || ed.Status != dispatcher.ReleaseScheduled || ed.Version != 4 || ed.ScheduledAt == nil {
		t.Fatalf("edit of a scheduled release: %+v, %v", ed, err)
	}

	// Once sending, nothing may change, nor be approved.
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled); err != nil {
		t.Fatal(err)
	}
	if ce := conflict(t, errOf(s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 4}))); ce.Reason != dispatcher.ConflictStatus || ce.Status != dispatcher.ReleaseSending {
		t.Fatalf("edit while sending: %+v", ce)
	}
	if ce := conflict(t, errOf(s.ApproveRelease(ctx, r.ID, 4, "luis"))); ce.Reason != dispatcher.ConflictStatus {
		t.Fatalf("approval while sending: %+v", ce)
	}
	if _, err := s.EditRelease(ctx, &dispatcher.Edit{Release: &dispatcher.Release{ID: "rel_nothere"}, Base: 1}); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Fatalf("edit of an unknown release: %v", err)
	}
}

// TestEditAfterEarlyCopiesMovesOnlyTheEmbargo: once the early lists had the
// release, an edit of anything but the embargo is refused.
func TestEditAfterEarlyCopiesMovesOnlyTheEmbargo(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	r := newDraft(t, s, "ana")
	if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, false, 0); err != nil {
		t.Fatal(err)
	}
	// What the embargo tier records once it planned the early copies.
	if err := s.Client().HSet(ctx, "pregon:{"+r.ID+"}:release", "early", "1").Err(); err != nil {
		t.Fatal(err)
	}
	next := *r
	next.Title = "Otro título"
	if ce := conflict(t, errOf(s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 1}))); ce.Reason != dispatcher.ConflictEarly {
		t.Fatalf("edit of the text after the early copies: %+v", ce)
	}
	lift := time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)
	next = *r
	next.EmbargoUntil = &lift
	ed, err := s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 1, OnlyEmbargo: true, RequireApproval: true})
	if err != nil {
		t.Fatal(err)
	}
	if ed.Version != 2 || ed.EmbargoUntil == nil || !ed.EmbargoUntil.Equal(lift) || ed.Status != dispatcher.ReleaseScheduled {
		t.Fatalf("moving the lift: %+v", ed)
	}
}

// TestConcurrentEditsOfOneVersion: of edits made from the same version,
// exactly one is stored.
func TestConcurrentEditsOfOneVersion(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	r := newDraft(t, s, "ana")
	const n = 8
	var wg sync.WaitGroup
	errs := make([]error, n)
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			next := *r
			next.Title = "Título " + string(rune('A'+i))
			_, errs[i] = s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 1})
		}()
	}
	wg.Wait()
	won := 0
	for _, err := range errs {
		switch {
		case err == nil:
			won++
		case conflict(t, err).Reason != dispatcher.ConflictVersion:
			t.Fatalf("losing edit: %v", err)
		}
	}
	got, err := s.Release(ctx, r.ID)
	if err != nil {
		t.Fatal(err)
	}
	if won != 1 || got.Version != 2 {
		t.Fatalf("%d edits won, version %d; want 1 and 2", won, got.Version)
	}
}

func errOf(_ *dispatcher.Release, err error) error { return err }

// TestDraftOnlyEditRefusedOnceScheduled: an edit that leaves a release
// unsendable (no audience) is stored on a draft, and refused by a release
// that was scheduled since it was read, which keeps what it had.
func TestDraftOnlyEditRefusedOnceScheduled(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	r := newDraft(t, s, "ana")
	next := *r
	next.Audiences = dispatcher.Audiences{}
	ed, err := s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 1, DraftOnly: true})
	if err != nil || ed.Version != 2 || !ed.Audiences.None() || ed.Status != dispatcher.ReleaseDraft {
		t.Fatalf("draft without an audience: %+v, %v", ed, err)
	}
	withList := *ed
	withList.Audiences = r.Audiences
	if ed, err = s.EditRelease(ctx, &dispatcher.Edit{Release: &withList, Base: 2}); err != nil || ed.Audiences.None() {
		t.Fatalf("audience back: %+v, %v", ed, err)
	}
	// Scheduled between the edit's read and its write.
	if _, _, err := s.ScheduleSend(ctx, r.ID, time.Now().Add(time.Hour), time.Time{}, false, 3); err != nil {
		t.Fatal(err)
	}
	next = *ed
	next.Audiences = dispatcher.Audiences{}
	ce := conflict(t, errOf(s.EditRelease(ctx, &dispatcher.Edit{Release: &next, Base: 3, DraftOnly: true})))
	if ce.Reason != dispatcher.ConflictIncomplete || ce.Status != dispatcher.ReleaseScheduled || ce.Version != 3 {
		t.Fatalf("draft-only edit of a scheduled release: %+v", ce)
	}
	if got, err := s.Release(ctx, r.ID); err != nil || got.Version != 3 || got.Audiences.None() || got.Status != dispatcher.ReleaseScheduled {
		t.Fatalf("after the refused edit: %+v, %v", got, err)
	}
}
