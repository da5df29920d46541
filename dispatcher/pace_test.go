package dispatcher_test

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// latePacer is a TelegramPacer whose first late turns have already gone by
// lateBy when they are given, as when the process was held up between
// taking a turn and its coming; the turns after them are now.
type latePacer struct {
	now    func() time.Time
	late   int
	lateBy time.Duration

	mu       sync.Mutex
	reserved []time.Time
	forgone  []time.Time
	used     []time.Time
}

func (p *latePacer) Reserve(context.Context, string) (time.Time, bool, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := p.now()
	if len(p.reserved) < p.late {
		at = at.Add(-p.lateBy)
	}
	p.reserved = append(p.reserved, at)
	return at, true, nil
}

func (p *latePacer) Forgo(_ context.Context, _ string, at time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.forgone = append(p.forgone, at)
	return nil
}

func (p *latePacer) Used(_ context.Context, _ string, at, done time.Time) error {
	p.mu.Lock()
	defer p.mu.Unlock()
	if done.Before(at) {
		return errors.New("answered before its turn")
	}
	p.used = append(p.used, at)
	return nil
}

func (p *latePacer) counts() (reserved, forgone, used []time.Time) {
	p.mu.Lock()
	defer p.mu.Unlock()
	return slices.Clone(p.reserved), slices.Clone(p.forgone), slices.Clone(p.used)
}

// TestPacedPartLateTakesANewTurn: a part whose turn has gone by more than a
// few milliseconds when its process gets to it gives the turn back and takes
// another, rather than reach Telegram bunched with the messages after it; a
// part always late goes after three new turns; a part only a little late
// goes at once. Each part is posted once, and the pacer told that the turn
// it went at was used.
func TestPacedPartLateTakesANewTurn(t *testing.T) {
	for _, tt := range []struct {
		name        string
		late        int
		lateBy      time.Duration
		wantForgone int
	}{
		{"on time", 0, 0, 0},
		{"a little late: goes", 2, 5 * time.Millisecond, 0},
		{"late once", 1, 50 * time.Millisecond, 1},
		{"always late: goes after three new turns", 100, 50 * time.Millisecond, 3},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			ctx := context.Background()
			rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseSending, Title: "Nota", Language: "es"})
			id := dispatcher.DeliveryID(rid, dispatcher.ChannelTelegram, "@canal")
			if _, err := r.mem.CreateDeliveries(ctx, rid, []*dispatcher.Delivery{{ID: id, Channel: dispatcher.ChannelTelegram,
				Recipient: "@canal", Language: "es", Status: dispatcher.DeliveryQueued}}); err != nil {
				t.Fatal(err)
			}
			r.render.TelegramFn = func(*dispatcher.Release, string) ([]string, error) { return []string{"uno"}, nil }
			pacer := &latePacer{now: r.clock.Now, late: tt.late, lateBy: tt.lateBy}
			svc := r.service(t, dispatcher.Config{TelegramPacer: pacer})
			if err := svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelTelegram, IDs: []string{id}}); err != nil {
				t.Fatal(err)
			}
			waitFor(t, "the post's outcome", func() bool { return r.record(t, rid, id).Status == dispatcher.DeliverySent })
			reserved, forgone, used := pacer.counts()
			if len(forgone) != tt.wantForgone || len(reserved) != tt.wantForgone+1 {
				t.Errorf("%d turns taken, %d given back; want %d and %d", len(reserved), len(forgone), tt.wantForgone+1, tt.wantForgone)
			}
			if !slices.Equal(forgone, reserved[:len(forgone)]) {
				t.Errorf("gave back %v, want the turns taken first %v", forgone, reserved[:len(forgone)])
			}
			if len(reserved) > 0 && !slices.Equal(used, reserved[len(reserved)-1:]) {
				t.Errorf("told the pacer of turns used %v, want the last turn taken %v", used, reserved[len(reserved)-1])
			}
			if posts := r.tg.Posts(); len(posts) != 1 || !slices.Equal(posts[0].Parts, []string{"uno"}) {
				t.Errorf("posted %d times, want once", len(posts))
			}
		})
	}
}
