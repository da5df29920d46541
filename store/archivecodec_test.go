package store

import (
	"fmt"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

// TestArchiveBlockRoundTrip: a block gives back every field of every hash
// exactly, whatever the values: absent and empty, integers and what only
// looks like one, the marker bytes, ids inside strings.
func TestArchiveBlockRoundTrip(t *testing.T) {
	const rid = "rel_0abc"
	odd := []string{"", "0", "-12", "007", "+5", "1e3", "9223372036854775807", "\x01", "\x02\x03", "a\x00b", rid, "ñ"}
	var recs []archived
	for i := range 60 {
		to := fmt.Sprintf("p%d@x.org", i)
		id := dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, to)
		if i%5 == 0 {
			id = fmt.Sprintf("custom-%02d", i) // not derived
		}
		h := map[string]string{dChannel: "email", dRecipient: to, dStatus: "sent",
			dCreatedAt: fmt.Sprint(1764950000000 + i), dUpdatedAt: fmt.Sprint(1764950000000 - 3*i),
			dMessageIDs: "<" + id + "." + rid + "@x.org> " + id}
		h["odd"] = odd[i%len(odd)]
		if i%3 == 0 {
			h["num"] = fmt.Sprint(i * 1000)
		} else if i%3 == 1 {
			h["num"] = ""
		}
		if i%7 == 0 {
			delete(h, dCreatedAt)
		}
		if i == 10 {
			h[dRecipient] = id // a recipient equal to its id
		}
		recs = append(recs, archived{ID: id, H: h})
	}
	b, err := encodeBlock(rid, recs)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeBlock(rid, b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(recs, got); diff != "" {
		t.Fatalf("round trip (-want +got):\n%s", diff)
	}
	if _, err := decodeBlock(rid, b[:len(b)/2]); err == nil {
		t.Fatal("a truncated block decoded")
	}
}
