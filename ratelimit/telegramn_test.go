package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/pregon/pregon/internal/redistest"
)

// TestTelegramReserveN checks, on a real Redis and a settable clock, the
// turns of an album: three consecutive turns of the bot and a spare, the
// album going at the spare; the chat's next message three chat gaps after
// it (moved on by UsedN when the album was answered late), and every item
// counted against the chat's minute.
func TestTelegramReserveN(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_800_000_000_000)
	tg := &Telegram{L: New(redistest.Start(t).Client(t)), PerSecond: 30, PerChatPerMinute: 5, Now: func() time.Time { return now }}
	botGap, chatGap := 34*time.Millisecond, 1020*time.Millisecond
	at, taken, err := tg.ReserveN(ctx, "@a", 3)
	if err != nil || !taken || at.Sub(now) != 3*botGap {
		t.Fatalf("album of 3: at +%s taken %t (%v); want +%s", at.Sub(now), taken, err, 3*botGap)
	}
	if b, _, _ := tg.Reserve(ctx, "@b"); b.Sub(now) != 4*botGap {
		t.Errorf("another chat's message at +%s, want after the album's turns and spare (+%s)", b.Sub(now), 4*botGap)
	}
	if err := tg.UsedN(ctx, "@a", at, at.Add(50*time.Millisecond)); err != nil {
		t.Fatal(err)
	}
	next, taken, err := tg.Reserve(ctx, "@a")
	if err != nil || taken || next.Sub(at) != 3*chatGap+50*time.Millisecond {
		t.Errorf("@a's next message: +%s after the album (taken %t, %v); want +%s", next.Sub(at), taken, err, 3*chatGap+50*time.Millisecond)
	}
	now = next
	if _, taken, _ := tg.ReserveN(ctx, "@a", 3); taken {
		t.Error("a second album of 3 in a minute of 5 was given turns")
	}
	if _, taken, _ := tg.ReserveN(ctx, "@a", 2); !taken {
		t.Error("an album of 2 after 3 in a minute of 5 was refused")
	}
}
