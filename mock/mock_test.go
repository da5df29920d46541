package mock_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// TestFakesRecordCallsAndNameUnsetFields: a fake records each call with
// its arguments, a field set on a Store from NewStore overrides its base,
// and a call whose field is nil panics naming the field.
func TestFakesRecordCallsAndNameUnsetFields(t *testing.T) {
	ctx := context.Background()
	ms := mock.NewMemStore(nil)
	rid := ms.AddRelease(dispatcher.Release{Title: "Nota"})
	s := mock.NewStore(ms)
	down := errors.New("redis down")
	s.MarkActiveFn = func(context.Context, string) error { return down }
	if r, err := s.Release(ctx, rid); err != nil || r.Title != "Nota" {
		t.Errorf("Release = %v, %v; want the MemStore's release", r, err)
	}
	if err := s.MarkActive(ctx, rid); !errors.Is(err, down) {
		t.Errorf("MarkActive = %v, want the overriding field's error", err)
	}
	if calls := s.Calls(); len(calls) != 2 || calls[0].Method != "Release" || calls[1].Method != "MarkActive" || calls[1].Args[0] != rid {
		t.Errorf("calls %+v, want Release then MarkActive(%s)", calls, rid)
	}
	if n := s.Count("MarkActive"); n != 1 {
		t.Errorf("Count(MarkActive) = %d, want 1", n)
	}

	defer func() {
		if got, want := recover(), "mock: SendEmail called, but SendEmailFn is not set"; got != want {
			t.Errorf("panic %v, want %q", got, want)
		}
	}()
	_, _ = (&mock.EmailSender{}).SendEmail(ctx, &dispatcher.EmailMessage{})
}
