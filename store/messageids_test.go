package store

import (
	"slices"
	"testing"
)

// TestPackMessageIDs: message ids pack to short strings and back
// unchanged, whatever they hold; a value stored unpacked by an earlier
// version reads as it did.
func TestPackMessageIDs(t *testing.T) {
	const rid, id = "rel_06h1jqf3bj1222x7vz7da858f0", "3f9a0c1d2e4b5a6978877665"
	for _, ids := range [][]string{
		{"<" + id + "." + rid + "@prensa.example.org>"},
		{"812", "813", "814"},
		{"<a$i$r$$b@x>", "$:", "$", id + id, rid},
	} {
		v := packMessageIDs(rid, id, ids)
		if got := unpackMessageIDs(rid, id, v); !slices.Equal(got, ids) {
			t.Errorf("pack %q = %q, unpacked %q", ids, v, got)
		}
	}
	if v := packMessageIDs(rid, id, []string{"<" + id + "." + rid + "@prensa.example.org>"}); len(v) > 40 {
		t.Errorf("packed Message-ID %q is %d bytes, want it well under Redis's 64-byte listpack limit", v, len(v))
	}
	if got := unpackMessageIDs(rid, id, "<old@x> 12"); !slices.Equal(got, []string{"<old@x>", "12"}) {
		t.Errorf("unpacked legacy value = %q", got)
	}
	if got := unpackMessageIDs(rid, id, ""); got == nil || len(got) != 0 {
		t.Errorf("no message ids = %#v, want an empty slice", got)
	}
}
