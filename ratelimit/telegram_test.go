package ratelimit

import (
	"context"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
)

// TestTelegramReserve checks, on a real Redis and a settable clock, the
// turns Reserve gives: the bot's spaced by 1/PerSecond with Headroom, a
// chat's next turn only once its last has gone by the chat gap, and no
// more than PerChatPerMinute in any minute of one chat.
func TestTelegramReserve(t *testing.T) {
	ctx := context.Background()
	t0 := time.UnixMilli(1_800_000_000_000)
	now := t0
	tg := &Telegram{L: New(redistest.Start(t).Client(t)), PerSecond: 30, PerChatPerMinute: 3, Now: func() time.Time { return now }}
	reserve := func(chat string) (time.Duration, bool) {
		t.Helper()
		at, taken, err := tg.Reserve(ctx, chat)
		if err != nil {
			t.Fatal(err)
		}
		return at.Sub(now), taken
	}
	botGap := 34 * time.Millisecond    // 1s/30 + 2 %, rounded up
	chatGap := 1020 * time.Millisecond // 1s + 2 %
	steps := []struct {
		name    string
		advance time.Duration // the clock moves on first
		chat    string
		wait    time.Duration
		taken   bool
	}{
		{"first turn, at once", 0, "@a", 0, true},
		{"another chat, one bot gap later", 0, "@b", botGap, true},
		{"a third chat, after both", 0, "@c", 2 * botGap, true},
		{"@a again: not before the chat gap, and nothing taken", 0, "@a", chatGap, false},
		{"@a once the chat gap has gone", chatGap, "@a", 0, true},
		{"@a a third time", chatGap, "@a", 0, true},
		{"@a a fourth time: three in a minute already", chatGap, "@a", time.Minute*102/100 - 3*chatGap, false},
		{"@d meanwhile, at once: @a took nothing", 0, "@d", 0, true},
	}
	for _, st := range steps {
		now = now.Add(st.advance)
		wait, taken := reserve(st.chat)
		if wait != st.wait || taken != st.taken {
			t.Errorf("%s: wait %s, taken %t; want %s, %t", st.name, wait, taken, st.wait, st.taken)
		}
	}
}

// TestTelegramWaitSharesTurns checks that Wait takes its turns from the
// same schedule as Reserve, and gives up, taking none, when the turn is
// further than MaxWait.
func TestTelegramWaitSharesTurns(t *testing.T) {
	ctx := context.Background()
	l := New(redistest.Start(t).Client(t))
	var slept []time.Duration
	l.sleep = func(_ context.Context, d time.Duration) error { slept = append(slept, d); return nil }
	l.MaxWait = 500 * time.Millisecond
	now := time.UnixMilli(1_800_000_000_000)
	tg := &Telegram{L: l, PerSecond: 30, PerChatPerMinute: 20, Now: func() time.Time { return now }}
	if _, _, err := tg.Reserve(ctx, "@a"); err != nil {
		t.Fatal(err)
	}
	if err := tg.Wait(ctx, "@b"); err != nil {
		t.Fatal(err)
	}
	if len(slept) != 1 || slept[0] != 34*time.Millisecond {
		t.Errorf("Wait slept %v, want one bot gap (34ms) after Reserve's turn", slept)
	}
	err := tg.Wait(ctx, "@a")
	if d, ok := dispatcherRetryAfter(err); !ok || d != 1020*time.Millisecond {
		t.Errorf("Wait for @a within its chat gap: %v (retry after %s); want a transient error after 1.02s", err, d)
	}
}

func dispatcherRetryAfter(err error) (time.Duration, bool) {
	if err == nil {
		return 0, false
	}
	return dispatcher.RetryAfter(err)
}

// TestTelegramForgo checks that a chat's turn given back no longer holds
// the chat's next turn a chat gap away (its turn before does), while the
// bot's time it took stays taken.
func TestTelegramForgo(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_800_000_000_000)
	tg := &Telegram{L: New(redistest.Start(t).Client(t)), PerSecond: 30, Now: func() time.Time { return now }}
	botGap, chatGap := 34*time.Millisecond, 1020*time.Millisecond
	first, taken, err := tg.Reserve(ctx, "@a")
	if err != nil || !taken || !first.Equal(now) {
		t.Fatalf("first turn %s %t %v, want now", first, taken, err)
	}
	now = now.Add(chatGap)
	second, _, err := tg.Reserve(ctx, "@a")
	if err != nil || !second.Equal(now) {
		t.Fatalf("second turn %s %v, want now", second, err)
	}
	// The second turn is given back: @a's next turn is measured from the
	// first, which has gone by a chat gap, so it is now, after the bot's
	// time the second turn took.
	if err := tg.Forgo(ctx, "@a", second); err != nil {
		t.Fatal(err)
	}
	again, taken, err := tg.Reserve(ctx, "@a")
	if err != nil || !taken || again.Sub(now) != botGap {
		t.Errorf("turn after giving one back: %s after now, taken %t, %v; want %s, taken", again.Sub(now), taken, err, botGap)
	}
	// Without giving it back, @a waits a chat gap.
	if _, taken, _ := tg.Reserve(ctx, "@a"); taken {
		t.Errorf("a turn right after one taken: taken, want held for the chat gap")
	}
	// Giving back a turn the chat does not have changes nothing.
	if err := tg.Forgo(ctx, "@nobody", now); err != nil {
		t.Fatal(err)
	}
}

// TestTelegramUsed: a chat's turn whose message was answered late is
// measured from the answer: the chat's next turn comes a chat gap after it,
// not after the turn. A turn the chat does not have is left alone.
func TestTelegramUsed(t *testing.T) {
	ctx := context.Background()
	now := time.UnixMilli(1_800_000_000_000)
	tg := &Telegram{L: New(redistest.Start(t).Client(t)), PerSecond: 30, Now: func() time.Time { return now }}
	chatGap := 1020 * time.Millisecond
	turn, taken, err := tg.Reserve(ctx, "@a")
	if err != nil || !taken {
		t.Fatalf("first turn: taken %t, %v", taken, err)
	}
	done := turn.Add(300 * time.Millisecond)
	if err := tg.Used(ctx, "@a", turn, done); err != nil {
		t.Fatal(err)
	}
	if err := tg.Used(ctx, "@a", turn.Add(-time.Hour), done); err != nil { // not @a's turn
		t.Fatal(err)
	}
	now = turn.Add(chatGap)
	next, taken, err := tg.Reserve(ctx, "@a")
	if err != nil || taken || !next.Equal(done.Add(chatGap)) {
		t.Fatalf("a chat gap after the turn: %s after it, taken %t, %v; want held until a chat gap after the answer (%s)",
			next.Sub(turn), taken, err, done.Add(chatGap).Sub(turn))
	}
	now = done.Add(chatGap)
	if next, taken, err = tg.Reserve(ctx, "@a"); err != nil || !taken || !next.Equal(now) {
		t.Errorf("a chat gap after the answer: %s, taken %t, %v; want now", next.Sub(now), taken, err)
	}
}
