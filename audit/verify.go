package audit

import (
	"context"
	"fmt"
)

// Break is a place where the chain does not hold.
type Break struct {
	// Seq is the number of the first entry that is wrong or missing.
	Seq int64 `json:"seq"`
	// Problem says what is wrong with the entry, as the rest of a sentence
	// that starts "entry 5": "was altered: ...", "is missing: ...".
	Problem string `json:"problem"`
}

func (b Break) Error() string { return fmt.Sprintf("entry %d %s", b.Seq, b.Problem) }

// maxBreaks is how many breaks a Verifier keeps: after a few, the rest say
// little more.
const maxBreaks = 20

// Verifier checks a chain fed to it entry by entry, oldest first. The zero
// value is ready to check a chain from its first entry.
type Verifier struct {
	last    Head // the last entry seen
	n       int64
	breaks  []Break
	omitted int
}

// Add checks the next entry of the chain: that it is the one after the
// last (a gap means entries are missing), that its hash matches its
// contents, and that its prev_hash is the last entry's hash. After a break
// it carries on from this entry, so that one missing entry is reported
// once.
func (v *Verifier) Add(e *Entry) {
	v.n++
	defer func() { v.last = HeadOf(e) }()
	want := v.last.Seq + 1
	gap := false
	switch {
	case e.Seq < want:
		v.fail(Break{Seq: e.Seq, Problem: fmt.Sprintf("appears after entry %d: entries are out of order or repeated", v.last.Seq)})
		return
	case e.Seq == want+1:
		v.fail(Break{Seq: want, Problem: fmt.Sprintf("is missing: entry %d follows entry %d", e.Seq, v.last.Seq)})
		gap = true
	case e.Seq > want:
		v.fail(Break{Seq: want, Problem: fmt.Sprintf("is missing, with the %d after it: entry %d follows entry %d", e.Seq-want-1, e.Seq, v.last.Seq)})
		gap = true
	}
	sum, err := Sum(e)
	if err != nil {
		v.fail(Break{Seq: e.Seq, Problem: "cannot be encoded: " + err.Error()})
		return
	}
	if sum != e.Hash {
		v.fail(Break{Seq: e.Seq, Problem: fmt.Sprintf("was altered: its hash is %.12s… but its contents hash to %.12s…", e.Hash, sum)})
		return
	}
	if !gap && e.PrevHash != v.last.Hash { // after a gap, the missing entry explains it
		what := fmt.Sprintf("entry %d's hash, %.12s…", v.last.Seq, v.last.Hash)
		if v.last.Seq == 0 {
			what = "empty, as the first entry's must be"
		}
		v.fail(Break{Seq: e.Seq, Problem: fmt.Sprintf("does not follow the entry before it: its prev_hash is %.12s…, not %s (an entry was altered and re-hashed, or replaced)", e.PrevHash, what)})
	}
}

// Finish checks the end of the chain against head, the log's record of
// its last entry, and returns every break found, oldest first (none: the
// chain holds).
func (v *Verifier) Finish(head Head) []Break {
	switch {
	case head.Seq > v.last.Seq:
		v.fail(Break{Seq: v.last.Seq + 1, Problem: fmt.Sprintf("is missing: the log's head says it ends at entry %d, the last entry found is %d", head.Seq, v.last.Seq)})
	case head.Seq < v.last.Seq:
		v.fail(Break{Seq: head.Seq + 1, Problem: fmt.Sprintf("is past the log's head (entry %d): the head record was altered", head.Seq)})
	case head.Hash != v.last.Hash:
		v.fail(Break{Seq: head.Seq, Problem: fmt.Sprintf("does not match the log's head: the head holds the hash %.12s…, the entry %.12s…", head.Hash, v.last.Hash)})
	}
	return v.breaks
}

// Count returns how many entries were checked.
func (v *Verifier) Count() int64 { return v.n }

// Omitted returns how many breaks were found beyond those Finish returns.
func (v *Verifier) Omitted() int { return v.omitted }

func (v *Verifier) fail(b Break) {
	if len(v.breaks) == maxBreaks {
		v.omitted++
		return
	}
	v.breaks = append(v.breaks, b)
}

// Report is the result of checking a whole chain.
type Report struct {
	// Entries is how many entries were checked.
	Entries int64
	// Head is the end of the chain the log records.
	Head Head
	// Breaks are the places the chain does not hold, oldest first; none when
	// it is intact. Omitted counts those beyond the first few.
	Breaks  []Break
	Omitted int
}

// Fetch returns a page of the chain, oldest first, from cursor ("" for
// the first page): its entries, the cursor of the next page ("" after the
// last) and the log's head when the page was read.
type Fetch func(ctx context.Context, cursor string) (entries []*Entry, next string, head Head, err error)

// Check walks the whole chain through fetch, oldest first, and checks it
// (see Verifier). It returns an error only when a page cannot be fetched.
func Check(ctx context.Context, fetch Fetch) (*Report, error) {
	var v Verifier
	var head Head
	cursor := ""
	for {
		entries, next, h, err := fetch(ctx, cursor)
		if err != nil {
			return nil, fmt.Errorf("read the audit log (after %d entries): %w", v.Count(), err)
		}
		for _, e := range entries {
			v.Add(e)
		}
		head = h
		if next == "" {
			break
		}
		cursor = next
	}
	return &Report{Entries: v.Count(), Head: head, Breaks: v.Finish(head), Omitted: v.Omitted()}, nil
}
