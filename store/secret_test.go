package store_test

import (
	"bytes"
	"context"
	"sync"
	"testing"

	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestSharedSecret checks that processes sharing a Redis agree on one
// secret, whoever asks first, and that it outlives them.
func TestSharedSecret(t *testing.T) {
	ctx := context.Background()
	srv := redistest.Start(t)
	const n = 8
	secrets := make([][]byte, n)
	created := make([]bool, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := store.New(srv.Client(t), nil) // one client per "process"
			var err error
			if secrets[i], created[i], err = s.SharedSecret(ctx); err != nil {
				t.Error(err)
			}
		}()
	}
	wg.Wait()
	makers := 0
	for i := range n {
		if created[i] {
			makers++
		}
		if len(secrets[i]) != 32 || !bytes.Equal(secrets[i], secrets[0]) {
			t.Errorf("process %d got secret %x, process 0 %x", i, secrets[i], secrets[0])
		}
	}
	if makers != 1 {
		t.Errorf("%d processes made the secret, want 1", makers)
	}
	again, made, err := store.New(srv.Client(t), nil).SharedSecret(ctx)
	if err != nil || made || !bytes.Equal(again, secrets[0]) {
		t.Errorf("later call = %x, %v, %v; want the same secret, not made", again, made, err)
	}

	// A damaged value is reported, not used.
	if err := srv.Client(t).Set(ctx, "pregon:secret", "not hex", 0).Err(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := store.New(srv.Client(t), nil).SharedSecret(ctx); err == nil {
		t.Error("SharedSecret accepted a damaged value")
	}
}
