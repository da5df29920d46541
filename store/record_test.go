package store

import (
	"context"
	"maps"
	"slices"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/redis/go-redis/v9"
)

// TestRecordCodecGoAndLua: a record written by Go reads the same in the
// scripts and one written by the scripts reads the same in Go, whatever
// its values hold (the separator, the escape, empty fields in the middle),
// and the record has a place for every delivery field the scripts know.
func TestRecordCodecGoAndLua(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	all := map[string]string{}
	for i, f := range recordFields {
		all[f] = "v" + string(rune('a'+i))
	}
	cases := []map[string]string{
		{dChannel: "email", dStatus: "queued", dRecipient: "ana@example.org", dName: "Ana Núñez", dLanguage: "es", dAttempts: "0", dRoundAttempts: "0", dCreatedAt: "1733450000000", dUpdatedAt: "1733450000000"},
		{dChannel: "email", dStatus: "failed", dError: "550 5.1.1\x1fno\x1esuch\x1e\x1fuser\x1ea\x1eb", dBounceSource: "rcpt"},
		{dName: "\x1f", dWorker: "\x1e", dReposted: "2"},
		all,
		{},
	}
	decode := newScript("local d = decodeRec(ARGV[1])\nlocal out = {}\nfor k, v in pairs(d) do out[#out + 1] = k; out[#out + 1] = v end\nreturn out")
	encode := newScript("local d = {}\nfor i = 1, #ARGV, 2 do d[ARGV[i]] = ARGV[i + 1] end\nreturn encodeRec(d)")
	for _, h := range cases {
		v, err := encodeRecord(h)
		if err != nil {
			t.Fatal(err)
		}
		if got := decodeRecord(v); !maps.Equal(got, h) {
			t.Errorf("Go: %q decodes to %q, want %q", v, got, h)
		}
		kv, err := decode.Run(ctx, rdb, nil, v).StringSlice()
		if err != nil {
			t.Fatal(err)
		}
		got := map[string]string{}
		for i := 0; i+1 < len(kv); i += 2 {
			got[kv[i]] = kv[i+1]
		}
		if diff := cmp.Diff(h, got); diff != "" {
			t.Errorf("Lua decodes Go's %q otherwise (-want +got):\n%s", v, diff)
		}
		var args []any
		for _, k := range slices.Sorted(maps.Keys(h)) {
			args = append(args, k, h[k])
		}
		lv, err := encode.Run(ctx, rdb, nil, args...).Text()
		if err != nil {
			t.Fatal(err)
		}
		if lv != v {
			t.Errorf("Lua encodes %q as %q, Go as %q", h, lv, v)
		}
	}
	if _, err := encodeRecord(map[string]string{"nope": "x"}); err == nil {
		t.Error("a record with an unknown field encoded without an error")
	}
	fields, err := newScript("local out = {}\nfor _, v in pairs(F) do out[#out + 1] = v end\nreturn out").Run(ctx, rdb, nil).StringSlice()
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(slices.Sorted(slices.Values(recordFields)), slices.Sorted(slices.Values(fields))); diff != "" {
		t.Errorf("record fields and the scripts' F table differ (-record +F):\n%s", diff)
	}
}

// TestUpgradeMovesOldDeliveries: deliveries that an earlier version kept as
// a hash each (and a ZSET of ids) read the same after Upgrade moved them
// into records, the old keys are gone, the moved deliveries go on working
// (claim, finish), and a second Upgrade has nothing to do.
func TestUpgradeMovesOldDeliveries(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	s := New(rdb, nil)
	r := &dispatcher.Release{Title: "Old", Body: "b", Language: "es"}
	if err := s.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := s.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	rid := r.ID
	id := func(to string) string { return dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, to) }
	old := map[string]map[string]string{
		id("queued@example.org"): {dChannel: "email", dRecipient: "queued@example.org", dName: "Queued", dLanguage: "es", dStatus: "queued",
			dAttempts: "0", dRoundAttempts: "0", dError: "", dCreatedAt: "1733450000000", dUpdatedAt: "1733450000000"},
		id("sent@example.org"): {dChannel: "email", dRecipient: "sent@example.org", dName: "Sent", dLanguage: "es", dStatus: "sent",
			dAttempts: "1", dRoundAttempts: "1", dError: "", dMessageIDs: "<" + id("sent@example.org") + "." + rid + "@example.org>", // unpacked, as before packing
			dCreatedAt: "1733450000000", dUpdatedAt: "1733450001000", dRetryDue: ""},
		id("bounced@example.org"): {dChannel: "email", dRecipient: "bounced@example.org", dLanguage: "en", dStatus: "failed",
			dAttempts: "2", dRoundAttempts: "2", dError: "550 5.1.1 no such user", dMessageIDs: packMessageIDs(rid, id("bounced@example.org"), []string{"<" + id("bounced@example.org") + "." + rid + "@example.org>"}),
			dCreatedAt: "1733450000000", dUpdatedAt: "1733450002000", dBounce: "hard", dBounceAt: "1733450002000", dBounceSource: "rcpt"},
	}
	p := rdb.Pipeline()
	for did, h := range old {
		p.HSet(ctx, deliveryPrefix(rid)+did, h)
		p.ZAdd(ctx, deliveriesKey(rid), redisZ(did))
	}
	p.HSet(ctx, countsKey(rid), "email:queued", 1, "email:sent", 1, "email:failed", 1, cPending, 1)
	if _, err := p.Exec(ctx); err != nil {
		t.Fatal(err)
	}
	want := map[string]*dispatcher.Delivery{}
	for did, h := range old {
		want[did] = deliveryFrom(rid, did, h)
	}

	n, err := s.Upgrade(ctx)
	if err != nil || n != 3 {
		t.Fatalf("Upgrade = %d, %v; want 3 moved", n, err)
	}
	if keys := rdb.Keys(ctx, deliveryPrefix(rid)+"*").Val(); len(keys) != 0 || rdb.Exists(ctx, deliveriesKey(rid)).Val() != 0 {
		t.Errorf("after Upgrade the old keys %v (and the ZSET: %d) are left", keys, rdb.Exists(ctx, deliveriesKey(rid)).Val())
	}
	got, next, err := s.Deliveries(ctx, rid, dispatcher.DeliveryFilter{}, "", 10)
	if err != nil || next != "" || len(got) != 3 {
		t.Fatalf("Deliveries = %d, %q, %v; want 3", len(got), next, err)
	}
	for _, d := range got {
		if diff := cmp.Diff(want[d.ID], d); diff != "" {
			t.Errorf("delivery %s after Upgrade (-before +after):\n%s", d.ID, diff)
		}
	}
	if ids, _, err := s.DeliveryIDs(ctx, rid, "", 10); err != nil || !slices.IsSorted(ids) || len(ids) != 3 {
		t.Errorf("DeliveryIDs = %v, %v; want the 3 in order", ids, err)
	}

	q := id("queued@example.org")
	claimed, _, err := s.ClaimDeliveries(ctx, rid, []string{q}, time.Time{})
	if err != nil || len(claimed) != 1 || claimed[0].Recipient != "queued@example.org" || claimed[0].Attempts != 1 {
		t.Fatalf("claim of a moved delivery = %+v, %v", claimed, err)
	}
	if err := s.FinishDeliveries(ctx, rid, []dispatcher.Outcome{{ID: q, Status: dispatcher.DeliverySent, MessageIDs: []string{"<m@x>"}, ClaimedAt: claimed[0].ClaimedAt}}); err != nil {
		t.Fatal(err)
	}
	if d, err := s.Delivery(ctx, rid, q); err != nil || d.Status != dispatcher.DeliverySent || !slices.Equal(d.MessageIDs, []string{"<m@x>"}) {
		t.Fatalf("moved delivery after its send = %+v, %v", d, err)
	}
	if n, err := s.Upgrade(ctx); err != nil || n != 0 {
		t.Errorf("second Upgrade = %d, %v; want nothing to do", n, err)
	}
}

func redisZ(member string) redis.Z { return redis.Z{Member: member} }
