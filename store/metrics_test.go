package store_test

import (
	"context"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

func TestReleaseCounts(t *testing.T) {
	ctx := context.Background()
	st := newStore(t)
	var ids []string
	for range 3 {
		r := &dispatcher.Release{Title: "t", Body: "b", Language: "es"}
		if err := st.CreateRelease(ctx, r); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID)
	}
	if _, err := st.SetReleaseStatus(ctx, ids[0], dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetReleaseStatus(ctx, ids[1], dispatcher.ReleaseCancelled, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	got, err := st.ReleaseCounts(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := map[dispatcher.ReleaseStatus]int64{
		dispatcher.ReleaseDraft: 1, dispatcher.ReleaseScheduled: 0, dispatcher.ReleaseSending: 1,
		dispatcher.ReleaseSent: 0, dispatcher.ReleaseSentWithFailures: 0, dispatcher.ReleaseCancelled: 1,
	}
	if d := cmp.Diff(want, got); d != "" {
		t.Errorf("ReleaseCounts (-want +got):\n%s", d)
	}
}
