package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/internal/redistest"
)

// TestOnWaitCalledForEachWait checks that OnWait hears of each turn that was
// not free, whether Wait then sleeps or gives up, and of no other.
func TestOnWaitCalledForEachWait(t *testing.T) {
	l := New(redistest.Start(t).Client(t))
	l.MaxWait = time.Second
	l.sleep = func(context.Context, time.Duration) error { return nil }
	var keys []string
	l.OnWait = func(r Rule, d time.Duration) {
		if d <= 0 {
			t.Errorf("OnWait(%s) with wait %s", r.Key, d)
		}
		keys = append(keys, r.Key)
	}
	ctx := context.Background()
	free := Rule{Key: "free", Rate: 1000, Period: time.Second, Burst: 100}
	tight := Rule{Key: "tight", Rate: 1, Period: time.Minute}
	_ = l.Wait(ctx, free, tight) // both free
	_ = l.Wait(ctx, free, tight) // tight is a minute away: gives up
	if d := cmp.Diff([]string{"tight"}, keys); d != "" {
		t.Errorf("OnWait keys (-want +got):\n%s", d)
	}
}
