package dispatcher_test

import (
	"context"
	"io"
	"log/slog"
	"slices"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/mock"
)

// t0 is when the clock of a rig starts.
var t0 = time.Date(2026, 12, 4, 9, 0, 0, 0, time.UTC)

// rig is a dispatcher's surroundings without Redis or servers: an
// in-memory store behind a recording fake, a recording queue, a renderer,
// channels that succeed unless told otherwise, and a clock that moves only
// when the test moves it.
type rig struct {
	clock  *testkit.Clock
	mem    *mock.MemStore
	store  *mock.Store
	queue  *mock.Queue
	render *mock.Renderer
	email  *mock.EmailSender
	tg     *mock.TelegramSender
}

func newRig() *rig {
	clock := testkit.NewClock(t0)
	mem := mock.NewMemStore(clock.Now)
	return &rig{
		clock: clock, mem: mem, store: mock.NewStore(mem), queue: mock.NewQueue(), render: mock.NewRenderer(),
		email: &mock.EmailSender{SendEmailFn: func(_ context.Context, msg *dispatcher.EmailMessage) (string, error) {
			return msg.MessageID, nil
		}},
		tg: &mock.TelegramSender{SendTelegramFn: func(_ context.Context, p *dispatcher.TelegramPost) ([]string, error) {
			ids := make([]string, len(p.Parts))
			for i := range ids {
				ids[i] = p.DeliveryID + "/" + string(rune('a'+i))
			}
			return ids, nil
		}},
	}
}

// service returns a Service on the rig, worker "w1", with cfg's non-zero
// fields in place of the rig's.
func (r *rig) service(t *testing.T, cfg dispatcher.Config) *dispatcher.Service {
	t.Helper()
	def := dispatcher.Config{Store: r.store, Queue: r.queue, Renderer: r.render, Email: r.email, Telegram: r.tg,
		Now: r.clock.Now, WorkerID: "w1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil))}
	if testing.Verbose() {
		def.Logger = slog.New(slog.NewTextHandler(testWriter{t}, &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	if cfg.Store != nil {
		def.Store = cfg.Store
	}
	if cfg.Email != nil {
		def.Email = cfg.Email
	}
	def.Links = cfg.Links
	if cfg.WorkerID != "" {
		def.WorkerID = cfg.WorkerID
	}
	def.MaxAttempts, def.RetryBase, def.ClaimTimeout = cfg.MaxAttempts, cfg.RetryBase, cfg.ClaimTimeout
	def.RequireApproval = cfg.RequireApproval
	def.TelegramPacer = cfg.TelegramPacer
	s, err := dispatcher.NewService(def)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// sending stores a release that is sending, planned into one email
// delivery per address in to, and watched by the sweeper; it returns the
// release's id and the deliveries' ids, in the order of to.
func (r *rig) sending(t *testing.T, to ...string) (string, []string) {
	t.Helper()
	ctx := context.Background()
	rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseSending, Title: "Nota", Language: "es"})
	ids := make([]string, len(to))
	ds := make([]*dispatcher.Delivery, len(to))
	for i, addr := range to {
		ids[i] = dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, addr)
		ds[i] = &dispatcher.Delivery{ID: ids[i], Channel: dispatcher.ChannelEmail, Recipient: addr, Language: "es", Status: dispatcher.DeliveryQueued}
	}
	if _, err := r.mem.CreateDeliveries(ctx, rid, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := r.mem.SnapshotDone(ctx, rid); err != nil {
		t.Fatal(err)
	}
	if err := r.mem.MarkActive(ctx, rid); err != nil {
		t.Fatal(err)
	}
	return rid, ids
}

// record returns a delivery as the store holds it.
func (r *rig) record(t *testing.T, rid, id string) mock.Record {
	t.Helper()
	rec, ok := r.mem.Record(rid, id)
	if !ok {
		t.Fatalf("delivery %s of %s does not exist", id, rid)
	}
	return rec
}

// noTask, as the delay of the task a test wants enqueued, means none.
const noTask = time.Duration(-1)

// checkEnqueued fails t unless the batches enqueued so far are one batch
// of ids, to run after want, or none when want is noTask.
func (r *rig) checkEnqueued(t *testing.T, ids []string, want time.Duration) {
	t.Helper()
	var delays []time.Duration
	for _, b := range r.queue.Batches() {
		if !slices.Equal(b.IDs, ids) {
			t.Errorf("enqueued %v, want %v", b.IDs, ids)
		}
		delays = append(delays, b.Delay)
	}
	switch {
	case want == noTask && len(delays) > 0:
		t.Errorf("enqueued after %v, want no task", delays)
	case want != noTask && !slices.Equal(delays, []time.Duration{want}):
		t.Errorf("enqueued after %v, want one task after %s", delays, want)
	}
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("gave up waiting for %s", what)
		}
		time.Sleep(time.Millisecond)
	}
}

// beating makes worker's heartbeats (TTL 10s, the default) have run
// unbroken for the 5s a worker needs before it may take others for dead.
func (r *rig) beating(t *testing.T, worker string) {
	t.Helper()
	now := r.clock.Now()
	r.clock.Set(now.Add(-5 * time.Second))
	err := r.mem.Heartbeat(context.Background(), worker, 10*time.Second)
	r.clock.Set(now)
	if err != nil {
		t.Fatal(err)
	}
}
