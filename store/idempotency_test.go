package store_test

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// TestIdempotencyKey: a key is claimed once; while claimed, others see the
// claim's fingerprint and no result; once finished, its release and code;
// a dropped key can be claimed again; a lapsed claim cannot be finished.
func TestIdempotencyKey(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	key := strings.Repeat("ab", 32)
	if fp, _, _, err := s.ClaimIdempotencyKey(ctx, key, "fp1", "owner1", time.Minute); err != nil || fp != "" {
		t.Fatalf("first claim = %q, %v; want it claimed", fp, err)
	}
	fp, rid, code, err := s.ClaimIdempotencyKey(ctx, key, "fp2", "owner2", time.Minute)
	if err != nil || fp != "fp1" || rid != "" || code != 0 {
		t.Fatalf("second claim = %q %q %d %v; want held by fp1, in progress", fp, rid, code, err)
	}
	// Only the owner finishes or drops it.
	if err := s.DropIdempotencyKey(ctx, key, "owner2"); err != nil {
		t.Fatal(err)
	}
	if err := s.FinishIdempotencyKey(ctx, key, "owner2", "rel_x", 201, time.Hour); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("finish by another owner: %v, want ErrConflict", err)
	}
	if err := s.FinishIdempotencyKey(ctx, key, "owner1", "rel_x", 201, time.Hour); err != nil {
		t.Fatal(err)
	}
	fp, rid, code, err = s.ClaimIdempotencyKey(ctx, key, "fp1", "owner3", time.Minute)
	if err != nil || fp != "fp1" || rid != "rel_x" || code != 201 {
		t.Fatalf("claim after finish = %q %q %d %v; want fp1 rel_x 201", fp, rid, code, err)
	}
	if ttl := s.Client().PTTL(ctx, "pregon:idem:"+key).Val(); ttl <= time.Minute {
		t.Errorf("a finished key lives %s, want the finish's hour", ttl)
	}
	// A finished key is never dropped.
	if err := s.DropIdempotencyKey(ctx, key, "owner1"); err != nil {
		t.Fatal(err)
	}
	if fp, _, _, _ := s.ClaimIdempotencyKey(ctx, key, "fp9", "owner9", time.Minute); fp != "fp1" {
		t.Errorf("finished key dropped: claim = %q", fp)
	}

	other := strings.Repeat("cd", 32)
	if fp, _, _, err := s.ClaimIdempotencyKey(ctx, other, "fp1", "o1", time.Minute); err != nil || fp != "" {
		t.Fatalf("claim = %q, %v", fp, err)
	}
	if err := s.DropIdempotencyKey(ctx, other, "o1"); err != nil {
		t.Fatal(err)
	}
	if fp, _, _, err := s.ClaimIdempotencyKey(ctx, other, "fp2", "o2", time.Minute); err != nil || fp != "" {
		t.Fatalf("claim after drop = %q, %v; want it claimed again", fp, err)
	}

	if _, _, _, err := s.ClaimIdempotencyKey(ctx, "not-a-digest", "fp", "o", time.Minute); err == nil {
		t.Error("a key that is not a digest was accepted")
	}
}
