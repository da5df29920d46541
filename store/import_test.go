package store_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/redis/go-redis/v9"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// pipelineHook records the size of every transaction (MULTI … EXEC
// pipeline) sent to Redis and can fail the one numbered failAt (from 1; 0:
// none).
type pipelineHook struct {
	mu     sync.Mutex
	sizes  []int
	failAt int
}

func (h *pipelineHook) DialHook(next redis.DialHook) redis.DialHook          { return next }
func (h *pipelineHook) ProcessHook(next redis.ProcessHook) redis.ProcessHook { return next }
func (h *pipelineHook) ProcessPipelineHook(next redis.ProcessPipelineHook) redis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []redis.Cmder) error {
		if len(cmds) == 0 || cmds[0].Name() != "multi" {
			return next(ctx, cmds)
		}
		h.mu.Lock()
		h.sizes = append(h.sizes, len(cmds))
		fail := len(h.sizes) == h.failAt
		h.mu.Unlock()
		if fail {
			return errors.New("injected: connection reset")
		}
		return next(ctx, cmds)
	}
}

func contacts(n int, format string) []dispatcher.Contact {
	cs := make([]dispatcher.Contact, n)
	for i := range cs {
		cs[i] = dispatcher.Contact{Email: fmt.Sprintf(format, i), Name: fmt.Sprintf("Contacto %d", i)}
	}
	return cs
}

// TestImportContactsBatches checks that a large import reaches Redis in
// transactions of at most store.MaxImportBatch contacts each (so that no
// single call holds Redis for long), and that the counts and suppression
// reasons are right.
func TestImportContactsBatches(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	hook := &pipelineHook{}
	rdb.AddHook(hook)
	s := store.New(rdb, nil)
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	const n = 2*store.MaxImportBatch + store.MaxImportBatch/2 // three batches, the last half full
	cs := contacts(n, "p%05d@example.org")
	inLast := cs[n-store.MaxImportBatch/4].Email // an address in the last batch
	if err := s.Suppress(ctx, "p00007@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}
	if err := s.Suppress(ctx, inLast, "hard_bounce"); err != nil {
		t.Fatal(err)
	}
	hook.sizes = nil
	added, updated, sup, err := s.ImportContacts(ctx, l.ID, cs)
	if err != nil || added != n || updated != 0 {
		t.Fatalf("ImportContacts = %d, %d, %v; want %d, 0, nil", added, updated, err, n)
	}
	if diff := cmp.Diff(map[string]string{"p00007@example.org": "unsubscribed", inLast: "hard_bounce"}, sup); diff != "" {
		t.Errorf("suppressed (-want +got):\n%s", diff)
	}
	// MULTI, an HSET and a ZADD per contact, one HMGET, one HDEL (of
	// pending members: an import confirms them), EXEC.
	const most = 2*store.MaxImportBatch + 4
	if len(hook.sizes) != 3 {
		t.Errorf("%d pipelines %v, want 3", len(hook.sizes), hook.sizes)
	}
	for i, size := range hook.sizes {
		if size > most {
			t.Errorf("pipeline %d sent %d commands, more than %d", i, size, most)
		}
	}
	if got := rdb.ZCard(ctx, "pregon:{"+l.ID+"}:members").Val(); got != n {
		t.Errorf("%d members in Redis, want %d", got, n)
	}

	// The same contacts again: all updated.
	added, updated, _, err = s.ImportContacts(ctx, l.ID, cs[:10])
	if err != nil || added != 0 || updated != 10 {
		t.Errorf("again = %d, %d, %v; want 0, 10, nil", added, updated, err)
	}
}

// TestImportContactsCut checks that when Redis fails in the middle of an
// import, the counts returned are those of the batches that were saved.
func TestImportContactsCut(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	hook := &pipelineHook{}
	rdb.AddHook(hook)
	s := store.New(rdb, nil)
	l := &dispatcher.List{Name: "Prensa", Kind: dispatcher.ListPress}
	if err := s.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	hook.mu.Lock()
	hook.sizes, hook.failAt = nil, 2 // the second batch fails
	hook.mu.Unlock()
	added, updated, _, err := s.ImportContacts(ctx, l.ID, contacts(2*store.MaxImportBatch+1, "c%05d@example.org"))
	if err == nil {
		t.Fatal("no error from a failed batch")
	}
	if added != store.MaxImportBatch || updated != 0 {
		t.Errorf("counts after a cut = %d, %d; want %d, 0 (the first batch)", added, updated, store.MaxImportBatch)
	}
	if got := rdb.ZCard(ctx, "pregon:{"+l.ID+"}:members").Val(); got != int64(added) {
		t.Errorf("%d members in Redis, but %d reported", got, added)
	}
}
