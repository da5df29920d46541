package audit_test

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/audit"
)

var t0 = time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)

// chain returns n entries chained from an empty log, a second apart, each
// with a detail that survives JSON as it must.
func chain(t *testing.T, n int) []*audit.Entry {
	t.Helper()
	var head audit.Head
	out := make([]*audit.Entry, n)
	for i := range out {
		e := &audit.Entry{At: t0.Add(time.Duration(i) * time.Second), Actor: "ana", Action: audit.ContactsImport,
			Target: "lst_1", Client: "203.0.113.7",
			Detail: map[string]any{"added": i, "big": int64(1) << 60, "ratio": 0.25, "name": "Cooperativa «La Esperanza» & <otros>",
				"tags": []string{"minería", "agua"}, "nested": map[string]any{"ok": true}}}
		if err := audit.Next(head, e); err != nil {
			t.Fatal(err)
		}
		head = audit.HeadOf(e)
		out[i] = e
	}
	return out
}

// roundTrip returns entries as a reader of the log gets them: through JSON.
func roundTrip(t *testing.T, es []*audit.Entry) []*audit.Entry {
	t.Helper()
	b, err := json.Marshal(es)
	if err != nil {
		t.Fatal(err)
	}
	var out []*audit.Entry
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatal(err)
	}
	return out
}

func check(es []*audit.Entry, head audit.Head) []audit.Break {
	var v audit.Verifier
	for _, e := range es {
		v.Add(e)
	}
	return v.Finish(head)
}

func TestNextChainsAndHashes(t *testing.T) {
	es := chain(t, 3)
	if es[0].Seq != 1 || es[0].PrevHash != "" || len(es[0].Hash) != 64 {
		t.Fatalf("first entry = %+v", es[0])
	}
	for i := 1; i < len(es); i++ {
		if es[i].Seq != es[i-1].Seq+1 || es[i].PrevHash != es[i-1].Hash || es[i].Hash == es[i-1].Hash {
			t.Fatalf("entry %d does not follow entry %d: %+v after %+v", i+1, i, es[i], es[i-1])
		}
	}
	// The hash is the SHA-256 of the canonical encoding, fixed here so that
	// a change to the encoding, which would break every stored chain, shows.
	e := &audit.Entry{At: t0, Actor: "ana", Action: audit.ReleaseApprove, Target: "rel_1", Version: 3, Client: "203.0.113.7"}
	if err := audit.Next(audit.Head{}, e); err != nil {
		t.Fatal(err)
	}
	b, err := audit.Canonical(e)
	if err != nil {
		t.Fatal(err)
	}
	const want = `{"seq":1,"at":"2026-02-04T16:00:00.000Z","actor":"ana","action":"release.approve","target":"rel_1","version":3,"client":"203.0.113.7","detail":null,"prev_hash":""}`
	if string(b) != want {
		t.Errorf("Canonical =\n%s\nwant\n%s", b, want)
	}
	// printf '%s' "$canonical" | sha256sum
	const sum = "9eef400a61452fe83b5d2d4f788fa65780037c6f197df4c5b8a1f92431fe2aaa"
	if e.Hash != sum {
		t.Errorf("Hash = %q, want %q", e.Hash, sum)
	}
}

func TestNextNeverGoesBackInTime(t *testing.T) {
	head := audit.Head{Seq: 7, Hash: "ab", At: t0}
	e := &audit.Entry{At: t0.Add(-time.Minute).In(time.FixedZone("CST", -6*3600)), Action: audit.ListCreate}
	if err := audit.Next(head, e); err != nil {
		t.Fatal(err)
	}
	if !e.At.Equal(t0) || e.Seq != 8 || e.PrevHash != "ab" {
		t.Errorf("entry after a later head = seq %d at %s prev %q; want seq 8 at %s prev ab", e.Seq, e.At, e.PrevHash, t0)
	}
}

func TestChainSurvivesJSON(t *testing.T) {
	es := roundTrip(t, chain(t, 4))
	if bs := check(es, audit.HeadOf(es[3])); len(bs) != 0 {
		t.Fatalf("an intact chain read back from JSON has breaks: %v", bs)
	}
}

func TestVerifierFindsBreaks(t *testing.T) {
	tests := []struct {
		name    string
		tamper  func(es []*audit.Entry, head *audit.Head) []*audit.Entry
		seq     int64
		problem string
	}{
		{"detail edited", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry {
			es[2].Detail["added"] = json.Number("900")
			return es
		}, 3, "was altered"},
		{"actor edited", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry { es[0].Actor = "luis"; return es }, 1, "was altered"},
		{"time edited", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry { es[4].At = es[4].At.Add(time.Hour); return es }, 5, "was altered"},
		{"entry deleted", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry { return append(es[:3], es[4:]...) }, 4, "is missing: entry 5 follows entry 3"},
		{"two deleted", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry { return append(es[:1], es[3:]...) }, 2, "is missing, with the 1 after it"},
		{"first deleted", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry { return es[1:] }, 1, "is missing: entry 2 follows entry 0"},
		{"last deleted", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry { return es[:5] }, 6, "the log's head says it ends at entry 6"},
		{"edited and re-hashed", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry {
			es[1].Actor = "mallory"
			sum, _ := audit.Sum(es[1])
			es[1].Hash = sum
			return es
		}, 3, "does not follow the entry before it"},
		{"seq edited", func(es []*audit.Entry, _ *audit.Head) []*audit.Entry { es[2].Seq = 30; return es }, 3, "is missing"},
		{"head altered", func(es []*audit.Entry, head *audit.Head) []*audit.Entry {
			head.Hash = strings.Repeat("0", 64)
			return es
		}, 6, "does not match the log's head"},
		{"head moved back", func(es []*audit.Entry, head *audit.Head) []*audit.Entry { head.Seq = 4; return es }, 5, "past the log's head"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			es := roundTrip(t, chain(t, 6))
			head := audit.HeadOf(es[5])
			es = tt.tamper(es, &head)
			bs := check(es, head)
			if len(bs) == 0 {
				t.Fatal("no break found")
			}
			if bs[0].Seq != tt.seq || !strings.Contains(bs[0].Problem, tt.problem) {
				t.Errorf("first break = %v; want entry %d: ...%s...", bs[0], tt.seq, tt.problem)
			}
		})
	}
}

func TestCheckWalksPages(t *testing.T) {
	es := roundTrip(t, chain(t, 7))
	head := audit.HeadOf(es[6])
	es[4].Client = "198.51.100.1" // altered
	pages := map[string][]*audit.Entry{"": es[:3], "p2": es[3:6], "p3": es[6:]}
	nexts := map[string]string{"": "p2", "p2": "p3", "p3": ""}
	rep, err := audit.Check(context.Background(), func(ctx context.Context, cursor string) ([]*audit.Entry, string, audit.Head, error) {
		return pages[cursor], nexts[cursor], head, nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if rep.Entries != 7 || rep.Head != head || len(rep.Breaks) != 1 || rep.Breaks[0].Seq != 5 {
		t.Errorf("report = %+v; want 7 entries, the head, one break at entry 5", rep)
	}
}
