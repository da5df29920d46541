package store_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// correctionOf returns the release corrected (body replaced, next
// version) and the correction's release, as dispatcher.Service.Correct
// builds them.
func correctionOf(rel *dispatcher.Release, body, key string) (*dispatcher.Release, *dispatcher.Release) {
	corrected := *rel
	corrected.Body, corrected.Version, corrected.Counts = body, rel.Version+1, nil
	child := corrected
	child.Audiences = dispatcher.Audiences{}
	child.CorrectionOf = &dispatcher.CorrectionOf{ReleaseID: rel.ID, Note: "Cifra corregida.", Version: corrected.Version, Key: key}
	return &corrected, &child
}

func listed(t *testing.T, s *store.Store, status dispatcher.ReleaseStatus, id string) bool {
	t.Helper()
	rs, _, err := s.Releases(context.Background(), status, "", 100, false, 0)
	if err != nil {
		t.Fatal(err)
	}
	for _, r := range rs {
		if r.ID == id {
			return true
		}
	}
	return false
}

func TestCorrectRelease(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	rel := &dispatcher.Release{Title: "Aviso", Body: "Cuatro concesiones.", Language: "es", Version: 1}
	if err := s.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	corrected, child := correctionOf(rel, "Tres concesiones.", "k1")
	if _, _, err := s.CorrectRelease(ctx, rel.ID, 1, corrected, child); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("correction of a draft: %v, want ErrConflict", err)
	}
	if _, err := s.SetReleaseStatus(ctx, rel.ID, dispatcher.ReleaseSentWithFailures, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.CorrectRelease(ctx, rel.ID, 2, corrected, child); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("correction from a version the release is not at: %v, want ErrConflict", err)
	}
	id, created, err := s.CorrectRelease(ctx, rel.ID, 1, corrected, child)
	if err != nil || !created || id == "" || child.ID != id {
		t.Fatalf("CorrectRelease = %q, %v, %v (child id %q)", id, created, err, child.ID)
	}
	// The same correction again is the one made.
	_, again := correctionOf(rel, "Tres concesiones.", "k1")
	if id2, created, err := s.CorrectRelease(ctx, rel.ID, 1, corrected, again); err != nil || created || id2 != id {
		t.Fatalf("the same correction again = %q, %v, %v; want %q, false", id2, created, err, id)
	}
	if key, last, err := s.LastCorrection(ctx, rel.ID); err != nil || key != "k1" || last != id {
		t.Fatalf("LastCorrection = %q, %q, %v", key, last, err)
	}

	// The release has the corrected text and keeps the one it replaced.
	got, err := s.Release(ctx, rel.ID)
	if err != nil {
		t.Fatal(err)
	}
	if got.Body != "Tres concesiones." || got.Version != 2 || got.Status != dispatcher.ReleaseSentWithFailures {
		t.Errorf("corrected release: body %q, version %d, status %s", got.Body, got.Version, got.Status)
	}
	old, err := s.ReleaseVersion(ctx, rel.ID, 1)
	if err != nil || old.Body != "Cuatro concesiones." || old.Version != 1 {
		t.Fatalf("version 1 = %+v, %v", old, err)
	}
	if _, err := s.ReleaseVersion(ctx, rel.ID, 2); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("version 2 (the current one) kept: %v", err)
	}

	// Until its release is created, the correction is listed as a draft.
	cs, err := s.Corrections(ctx, rel.ID)
	if err != nil || len(cs) != 1 || cs[0].ID != id || cs[0].Status != dispatcher.ReleaseDraft || cs[0].CorrectionOf.Note != "Cifra corregida." {
		t.Fatalf("Corrections before CreateCorrection = %+v, %v", cs, err)
	}
	for range 2 {
		if err := s.CreateCorrection(ctx, rel.ID, id); err != nil {
			t.Fatal(err)
		}
	}
	if err := s.CreateCorrection(ctx, rel.ID, rel.ID); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("CreateCorrection of no correction: %v, want ErrNotFound", err)
	}
	// It lives its life as a release, in no listing.
	if _, _, err := s.ScheduleSend(ctx, id, time.Now(), time.Time{}, false, 0); err != nil {
		t.Fatal(err)
	}
	if st, err := s.SetReleaseStatus(ctx, id, dispatcher.ReleaseSending, dispatcher.ReleaseScheduled); err != nil || st != dispatcher.ReleaseSending {
		t.Fatalf("correction to sending: %s, %v", st, err)
	}
	c, err := s.Release(ctx, id)
	if err != nil || c.CorrectionOf == nil || c.CorrectionOf.ReleaseID != rel.ID || c.Body != "Tres concesiones." {
		t.Fatalf("correction release = %+v, %v", c, err)
	}
	for _, st := range []dispatcher.ReleaseStatus{"", dispatcher.ReleaseDraft, dispatcher.ReleaseScheduled, dispatcher.ReleaseSending} {
		if listed(t, s, st, id) {
			t.Errorf("the correction is listed among releases %q", st)
		}
	}
	if !listed(t, s, "", rel.ID) || !listed(t, s, dispatcher.ReleaseSentWithFailures, rel.ID) {
		t.Error("the corrected release is no longer listed")
	}
	cs, err = s.Corrections(ctx, rel.ID)
	if err != nil || len(cs) != 1 || cs[0].Status != dispatcher.ReleaseSending || cs[0].Counts == nil {
		t.Fatalf("Corrections = %+v, %v", cs, err)
	}

	// A second correction is made from version 2.
	corrected3, child3 := correctionOf(got, "Tres concesiones, dos suspendidas.", "k2")
	id3, created, err := s.CorrectRelease(ctx, rel.ID, 2, corrected3, child3)
	if err != nil || !created || id3 == id {
		t.Fatalf("second correction = %q, %v, %v", id3, created, err)
	}
	if v2, err := s.ReleaseVersion(ctx, rel.ID, 2); err != nil || v2.Body != "Tres concesiones." {
		t.Fatalf("version 2 = %+v, %v", v2, err)
	}
	if cs, err = s.Corrections(ctx, rel.ID); err != nil || len(cs) != 2 || cs[0].ID != id || cs[1].ID != id3 {
		t.Fatalf("Corrections after the second = %+v, %v", cs, err)
	}
}
