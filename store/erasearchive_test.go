package store_test

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// erasedAs is what a delivery's recipient becomes when email is erased
// (erase.go): the keyed hash, from the secret the test stores are given.
func erasedAs(email string) string {
	k := hmac.New(sha256.New, []byte(eraseSecret))
	k.Write([]byte("pregon erasure v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte(email))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// redactedView is what readAll should give after the addresses in erased
// were erased: their deliveries to the hash, without name, the address in
// their error replaced by the hash; everything else as it was.
func redactedView(rb readBack, erased ...string) readBack {
	fix := func(ds []*dispatcher.Delivery) []*dispatcher.Delivery {
		if ds == nil {
			return nil
		}
		out := make([]*dispatcher.Delivery, len(ds))
		for i, d := range ds {
			c := *d
			for _, e := range erased {
				if c.Channel == dispatcher.ChannelEmail && c.Recipient == e {
					c.Recipient, c.Name = erasedAs(e), ""
					c.LastError = strings.ReplaceAll(c.LastError, strings.ToUpper(e), erasedAs(e))
				}
			}
			out[i] = &c
		}
		return out
	}
	rb.All, rb.Failed, rb.Telegram = fix(rb.All), fix(rb.Failed), fix(rb.Telegram)
	return rb
}

// TestEraseInArchive: two addresses of an archive of two blocks are
// erased, one of them failed (in the failure log). Every other delivery
// reads back as before, by page, filter and id, with the same counts; the
// two are redacted as live records are; the failure log loses only its
// entry; the archive keeps one field per block; the database holds neither
// address, decoded blocks included.
func TestEraseInArchive(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	rid := finishedRelease(t, s, 4500) // two blocks
	const failed, sent = "periodista00007@medio0.example", "periodista04400@medio4.example"
	before := readAll(t, s, rid)
	log, err := s.FailureLog(ctx, rid, "", 100)
	if err != nil || len(log) != 4 {
		t.Fatalf("failure log = %d entries, %v; want 4", len(log), err)
	}
	if _, err := s.ArchiveRelease(ctx, rid); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{failed, sent} {
		if !strings.Contains(archiveDump(t, c), e) {
			t.Fatalf("the archive does not hold %s before the erasure", e)
		}
		er, err := s.Erase(ctx, e)
		if err != nil || er.Redacted != 1 || er.Suppressed != 0 {
			t.Fatalf("Erase(%s) = %+v, %v; want 1 redacted", e, er, err)
		}
	}
	again := store.New(c, nil) // a process that never saw it live nor cached a block
	if diff := cmp.Diff(redactedView(before, failed, sent), readAll(t, again, rid)); diff != "" {
		t.Fatalf("archived deliveries after the erasure (-want +got):\n%s", diff)
	}
	after, err := again.FailureLog(ctx, rid, "", 100)
	if err != nil {
		t.Fatal(err)
	}
	var want []dispatcher.Failure
	for _, f := range log {
		if f.Delivery.Recipient != failed {
			want = append(want, f)
		}
	}
	if diff := cmp.Diff(want, after); diff != "" || len(want) != 3 {
		t.Fatalf("failure log after the erasure (-want +got):\n%s", diff)
	}
	if fields := c.HKeys(ctx, "pregon:{"+rid+"}:archive").Val(); len(fields) != 3 {
		t.Fatalf("archive fields = %v, want two blocks and the index (the rewritten blocks' old fields dropped)", fields)
	}
	for _, e := range []string{failed, sent} {
		assertForgotten(t, c, e)
	}
	// Erasing again finds nothing more to redact.
	if er, err := s.Erase(ctx, sent); err != nil || er.Redacted != 0 {
		t.Fatalf("second Erase = %+v, %v; want nothing redacted", er, err)
	}
}

// TestEraseWhileArchiving: an address is erased after the archive of a
// release that delivered to it was built and before it commits; the
// commit refuses the build (it read the record before its redaction), and
// the next archive holds only the hash.
func TestEraseWhileArchiving(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	const ana = "ana@example.org"
	rid := sentTo(t, s, []string{ana, "bob@example.org"}, ana)
	before := readAll(t, s, rid)
	store.SetArchiveHook(s, func(step string) error {
		if step == "commit" {
			if er, err := s.Erase(ctx, ana); err != nil || er.Redacted != 1 {
				t.Errorf("Erase = %+v, %v; want 1 redacted (live)", er, err)
			}
		}
		return nil
	})
	if _, err := s.ArchiveRelease(ctx, rid); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("archive built before the erasure: err = %v, want a conflict", err)
	}
	store.SetArchiveHook(s, nil)
	if rel, err := s.ArchiveRelease(ctx, rid); err != nil || rel.ArchivedAt == nil {
		t.Fatalf("archive again = %+v, %v", rel, err)
	}
	if diff := cmp.Diff(redactedView(before, ana), readAll(t, store.New(c, nil), rid)); diff != "" {
		t.Fatalf("archived deliveries (-want +got):\n%s", diff)
	}
	assertForgotten(t, c, ana)
}

// TestEraseArchivedConcurrently: six addresses of one archive block are
// erased at once by six processes while a seventh pages through the
// deliveries; every rewrite of the block survives (none overwrites
// another's), the others' deliveries are untouched, and every page read
// meanwhile has its delivery.
func TestEraseArchivedConcurrently(t *testing.T) {
	ctx := context.Background()
	s, c := newErasingStore(t)
	var to []string
	for i := range 8 {
		to = append(to, fmt.Sprintf("p%d@example.org", i))
	}
	rid := sentTo(t, s, to, to[0], to[7])
	before := readAll(t, s, rid)
	if _, err := s.ArchiveRelease(ctx, rid); err != nil {
		t.Fatal(err)
	}
	erased := to[:6]
	var wg sync.WaitGroup
	start := make(chan struct{})
	for _, e := range erased {
		wg.Go(func() {
			p := store.New(c, nil)
			p.SetErasureSecret([]byte(eraseSecret))
			<-start
			if er, err := p.Erase(ctx, e); err != nil || er.Redacted != 1 {
				t.Errorf("Erase(%s) = %+v, %v; want 1 redacted", e, er, err)
			}
		})
	}
	// A reader pages through the deliveries meanwhile, each page read
	// afresh (no cached block): a block replaced under it is found again.
	done := make(chan struct{})
	read := make(chan int)
	go func() {
		pages := 0
		defer func() { read <- pages }()
		for {
			select {
			case <-done:
				return
			default:
			}
			r := store.New(c, nil)
			for cursor := ""; ; pages++ {
				ds, next, err := r.Deliveries(ctx, rid, dispatcher.DeliveryFilter{}, cursor, 1)
				if err != nil || len(ds) != 1 {
					t.Errorf("page after %q while erasing = %d deliveries, %v", cursor, len(ds), err)
					return
				}
				if next == "" {
					break
				}
				cursor = next
			}
		}
	}()
	close(start)
	wg.Wait()
	close(done)
	if n := <-read; n == 0 {
		t.Error("the reader read no page")
	}
	if diff := cmp.Diff(redactedView(before, erased...), readAll(t, store.New(c, nil), rid)); diff != "" {
		t.Fatalf("archived deliveries (-want +got):\n%s", diff)
	}
	if fields := c.HKeys(ctx, "pregon:{"+rid+"}:archive").Val(); len(fields) != 2 {
		t.Fatalf("archive fields = %v, want one block and the index", fields)
	}
	for _, e := range erased {
		assertForgotten(t, c, e)
	}
}
