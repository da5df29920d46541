package store

import (
	"context"
	"slices"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
)

// TestLuaConstantsNameEveryValue: the Lua tables that the scripts read their
// statuses and channels from hold every value of the Go side, so that a
// status added in Go cannot be missing from the scripts unnoticed.
func TestLuaConstantsNameEveryValue(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	strs := func(vs ...string) []string { return vs }
	var deliveries, releases, channels []string
	for _, st := range dispatcher.DeliveryStatuses {
		deliveries = append(deliveries, string(st))
	}
	for _, st := range dispatcher.ReleaseStatuses {
		releases = append(releases, string(st))
	}
	for _, ch := range dispatcher.Channels {
		channels = append(channels, string(ch))
	}
	tests := []struct {
		table string
		want  []string
	}{
		{"DS", deliveries},
		{"RS", releases},
		{"CH", channels},
		{"CHANNELS", channels},
		{"UNSUCCESSFUL", strs(string(dispatcher.DeliveryFailed), string(dispatcher.DeliveryUncertain))},
		{"F", strs(dChannel, dRecipient, dName, dLanguage, dStatus, dAttempts, dRoundAttempts, dError,
			dMessageIDs, dCreatedAt, dUpdatedAt, dRetryDue, dClaimedAt, dWorker, dBounce, dBounceAt, dBounceSource, dParts, dReposted)},
		{"R", strs(rData, rSummary, rStatus, rSendAt, rSnapshot, rUpdatedAt, rActivity,
			rVersion, rAuthor, rApprovedBy, rApprovedVersion, rAsked, rEarly, rEarlySnap, rCorrectionOf, rLastCorrection,
			rArchivedAt, rRedactions)},
	}
	for _, tt := range tests {
		sc := newScript("local out = {}\nfor _, v in pairs(" + tt.table + ") do out[#out + 1] = v end\nreturn out\n")
		got, err := sc.Run(ctx, rdb, nil).StringSlice()
		if err != nil {
			t.Fatalf("%s: %v", tt.table, err)
		}
		slices.Sort(got)
		want := slices.Sorted(slices.Values(tt.want))
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("Lua table %s (-want +got):\n%s", tt.table, diff)
		}
	}
}
