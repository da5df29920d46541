package webhooks_test

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/webhooks"
)

// queued is a webhooks.Queue that keeps what it is given.
type queued struct {
	mu    sync.Mutex
	tasks []task
}

type task struct {
	hook, event string
	body        []byte
}

func (q *queued) EnqueueWebhook(_ context.Context, hook, event string, body []byte) error {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.tasks = append(q.tasks, task{hook, event, body})
	return nil
}

// rig is a webhooks.Service on a real Redis, with a settable clock.
type rig struct {
	svc   *webhooks.Service
	st    *store.Store
	q     *queued
	clock *testkit.Clock
}

func newRig(t *testing.T, policy webhooks.Policy, mod func(*webhooks.Config)) *rig {
	t.Helper()
	rs := redistest.Start(t)
	r := &rig{q: &queued{}, clock: testkit.NewClock(time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC))}
	r.st = store.New(rs.Client(t), r.clock.Now)
	cfg := webhooks.Config{Store: r.st, Queue: r.q, Secret: []byte("server-secret-0123456789"), Policy: policy,
		Now: r.clock.Now, Resolver: fakeResolver{}}
	if mod != nil {
		mod(&cfg)
	}
	svc, err := webhooks.New(cfg)
	if err != nil {
		t.Fatal(err)
	}
	r.svc = svc
	return r
}

// receiver is an HTTP receiver that checks signatures with the clock's
// time and answers with the codes given, one per request, then 204.
type receiver struct {
	*httptest.Server
	secret   string
	now      func() time.Time
	codes    chan int
	verified atomic.Int32
	bad      atomic.Int32
}

func newReceiver(t *testing.T, now func() time.Time, codes ...int) *receiver {
	rc := &receiver{now: now, codes: make(chan int, len(codes)+1)}
	for _, c := range codes {
		rc.codes <- c
	}
	rc.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		if err := webhooks.Verify(rc.secret, r.Header.Get(webhooks.HeaderSignature), body, rc.now(), 0); err != nil {
			rc.bad.Add(1)
			http.Error(w, err.Error(), http.StatusUnauthorized)
			return
		}
		rc.verified.Add(1)
		select {
		case c := <-rc.codes:
			http.Error(w, "receiver says no", c)
		default:
			w.WriteHeader(http.StatusNoContent)
		}
	}))
	t.Cleanup(rc.Close)
	return rc
}

func event(id string, typ dispatcher.EventType) []byte {
	b, _ := json.Marshal(dispatcher.Event{ID: id, Type: typ, CreatedAt: time.Now().UTC(), Data: map[string]any{"release_id": "rel_1"}})
	return b
}

func TestDeliverRetriesThenDisables(t *testing.T) {
	r := newRig(t, webhooks.Policy{AllowPrivate: true, AllowHTTP: true}, func(c *webhooks.Config) { c.DisableAfter = 24 * time.Hour })
	ctx := context.Background()
	rc := newReceiver(t, r.clock.Now, 500, 500, 500)
	hook, secret, err := r.svc.Create(ctx, webhooks.Input{URL: rc.URL + "/hook", Description: "newsroom"})
	if err != nil {
		t.Fatal(err)
	}
	rc.secret = secret
	if secret != r.svc.Secret(hook.ID) || !strings.HasPrefix(secret, "whsec_") {
		t.Fatalf("secret %q, want the derived whsec_ one", secret)
	}
	body := event("evt_a", dispatcher.EventReleaseSent)

	// A 500: retried (the error is not permanent), failing since now.
	err = r.svc.Deliver(ctx, hook.ID, body, 1)
	if err == nil || dispatcher.IsPermanent(err) {
		t.Fatalf("Deliver after a 500 = %v, want a transient error", err)
	}
	h, _ := r.svc.Get(ctx, hook.ID)
	if h.Status != webhooks.StatusActive || h.FailingSince == nil || !h.FailingSince.Equal(r.clock.Now()) {
		t.Fatalf("after one failure: %+v, want active, failing since now", h)
	}
	// Still failing 23h later: still active.
	r.clock.Add(23 * time.Hour)
	if err := r.svc.Deliver(ctx, hook.ID, body, 2); err == nil || dispatcher.IsPermanent(err) {
		t.Fatalf("Deliver 23h on = %v, want a transient error", err)
	}
	// Failing past the day: disabled, with the reason, not retried.
	r.clock.Add(90 * time.Minute)
	err = r.svc.Deliver(ctx, hook.ID, body, 3)
	if !dispatcher.IsPermanent(err) {
		t.Fatalf("Deliver past the window = %v, want a permanent error", err)
	}
	h, _ = r.svc.Get(ctx, hook.ID)
	if h.Status != webhooks.StatusDisabled || !strings.Contains(h.DisabledReason, "500") || h.DisabledAt == nil {
		t.Fatalf("after a day of failures: %+v, want disabled with the 500 in the reason", h)
	}
	// Disabled: nothing is posted, and Notify queues nothing for it.
	if err := r.svc.Deliver(ctx, hook.ID, body, 4); !dispatcher.IsPermanent(err) {
		t.Errorf("Deliver to a disabled webhook = %v, want permanent", err)
	}
	if err := r.svc.Notify(ctx, dispatcher.Event{ID: "evt_b", Type: dispatcher.EventReleaseSent}); err != nil {
		t.Fatal(err)
	}
	if len(r.q.tasks) != 0 {
		t.Errorf("Notify queued %d tasks for a disabled webhook", len(r.q.tasks))
	}
	if got := rc.verified.Load(); got != 3 || rc.bad.Load() != 0 {
		t.Errorf("receiver verified %d requests and refused %d, want 3 and 0", got, rc.bad.Load())
	}
	as, err := r.svc.Deliveries(ctx, hook.ID)
	if err != nil {
		t.Fatal(err)
	}
	if len(as) != 3 || as[0].Try != 3 || as[2].Try != 1 || as[0].StatusCode != 500 || as[0].EventID != "evt_a" || as[0].Error == "" {
		t.Errorf("log = %+v, want the 3 failed tries, newest first", as)
	}

	// Enabled again: active, failures forgotten, and the next event goes.
	h, err = r.svc.Enable(ctx, hook.ID)
	if err != nil || h.Status != webhooks.StatusActive || h.FailingSince != nil || h.DisabledReason != "" {
		t.Fatalf("Enable = %+v, %v; want active with no failure", h, err)
	}
	if err := r.svc.Deliver(ctx, hook.ID, event("evt_c", dispatcher.EventReleaseSent), 1); err != nil {
		t.Fatalf("Deliver after enable = %v", err)
	}
	as, _ = r.svc.Deliveries(ctx, hook.ID)
	if as[0].StatusCode != 204 || as[0].Error != "" {
		t.Errorf("newest attempt = %+v, want a 204", as[0])
	}
}

func TestDeliverRecoversAfterFailure(t *testing.T) {
	r := newRig(t, webhooks.Policy{AllowPrivate: true, AllowHTTP: true}, nil)
	ctx := context.Background()
	rc := newReceiver(t, r.clock.Now, 503)
	hook, secret, err := r.svc.Create(ctx, webhooks.Input{URL: rc.URL})
	if err != nil {
		t.Fatal(err)
	}
	rc.secret = secret
	body := event("evt_a", dispatcher.EventDeliveryFailed)
	if err := r.svc.Deliver(ctx, hook.ID, body, 1); err == nil {
		t.Fatal("Deliver after a 503 succeeded")
	}
	r.clock.Add(25 * time.Hour) // a success, however late, resets the failure
	if err := r.svc.Deliver(ctx, hook.ID, body, 2); err != nil {
		t.Fatalf("second Deliver = %v", err)
	}
	h, _ := r.svc.Get(ctx, hook.ID)
	if h.Status != webhooks.StatusActive || h.FailingSince != nil {
		t.Errorf("after a success: %+v, want active, not failing", h)
	}
}

func TestDeliverDropsForDeletedWebhook(t *testing.T) {
	r := newRig(t, webhooks.Policy{AllowPrivate: true, AllowHTTP: true}, nil)
	ctx := context.Background()
	rc := newReceiver(t, r.clock.Now)
	hook, _, err := r.svc.Create(ctx, webhooks.Input{URL: rc.URL})
	if err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Delete(ctx, hook.ID); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Deliver(ctx, hook.ID, event("evt_a", dispatcher.EventReleaseSent), 1); !errors.Is(err, dispatcher.ErrNotFound) || !dispatcher.IsPermanent(err) {
		t.Errorf("Deliver to a deleted webhook = %v, want a permanent not found", err)
	}
	if rc.verified.Load()+rc.bad.Load() != 0 {
		t.Error("the receiver of a deleted webhook was called")
	}
	if err := r.svc.Delete(ctx, hook.ID); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("second Delete = %v, want not found", err)
	}
	if _, err := r.svc.Deliveries(ctx, hook.ID); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("Deliveries of a deleted webhook = %v, want not found", err)
	}
}

// TestDeliverRefusesLoopbackAtDialTime: a webhook stored with a URL that
// now leads to a loopback address (as a name re-pointed after it was
// registered would) is refused by the dialer, and the refusal logged.
func TestDeliverRefusesLoopbackAtDialTime(t *testing.T) {
	r := newRig(t, webhooks.Policy{}, nil)
	ctx := context.Background()
	var hits atomic.Int32
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { hits.Add(1) }))
	defer srv.Close()
	hook := &webhooks.Webhook{URL: srv.URL + "/hook", Events: []string{webhooks.AllEvents}, Status: webhooks.StatusActive, CreatedAt: r.clock.Now()}
	if err := r.st.CreateWebhook(ctx, hook); err != nil { // past Create's check, as a re-pointed name would be
		t.Fatal(err)
	}
	if err := r.svc.Deliver(ctx, hook.ID, event("evt_a", dispatcher.EventReleaseSent), 1); err == nil {
		t.Fatal("Deliver to a loopback address succeeded")
	}
	if hits.Load() != 0 {
		t.Error("the loopback server was reached")
	}
	as, _ := r.svc.Deliveries(ctx, hook.ID)
	if len(as) != 1 || as[0].StatusCode != 0 || !strings.Contains(as[0].Error, "loopback or private") {
		t.Errorf("log = %+v, want one refused attempt", as)
	}
}

func TestCreateRefusesBadInput(t *testing.T) {
	r := newRig(t, webhooks.Policy{}, nil)
	ctx := context.Background()
	for _, in := range []webhooks.Input{
		{URL: "http://127.0.0.1:8080/hook"},
		{URL: "https://127.0.0.1/hook"},
		{URL: "https://169.254.169.254/"},
		{URL: "not a url"},
		{URL: "https://1.2.3.4/", Events: []string{"release.sent", "release.exploded"}},
	} {
		_, _, err := r.svc.Create(ctx, in)
		var ie *webhooks.InputError
		if !errors.As(err, &ie) {
			t.Errorf("Create(%+v) = %v, want an *InputError", in, err)
		}
	}
	hooks, _ := r.svc.List(ctx)
	if len(hooks) != 0 {
		t.Errorf("%d webhooks stored after refusals", len(hooks))
	}
}

func TestNotifyQueuesForSubscribers(t *testing.T) {
	r := newRig(t, webhooks.Policy{}, nil)
	ctx := context.Background()
	all, _, err := r.svc.Create(ctx, webhooks.Input{URL: "https://1.2.3.4/all"})
	if err != nil {
		t.Fatal(err)
	}
	r.clock.Add(time.Millisecond) // ids order by creation time
	sent, _, err := r.svc.Create(ctx, webhooks.Input{URL: "https://1.2.3.4/sent", Events: []string{"release.sent", "release.sent"}})
	if err != nil {
		t.Fatal(err)
	}
	if all.Events[0] != webhooks.AllEvents || len(sent.Events) != 1 {
		t.Fatalf("events: %v and %v, want [*] and [release.sent]", all.Events, sent.Events)
	}
	e := dispatcher.Event{ID: "evt_f", Type: dispatcher.EventDeliveryFailed, Data: map[string]any{"delivery_id": "d1"}}
	if err := r.svc.Notify(ctx, e); err != nil {
		t.Fatal(err)
	}
	if err := r.svc.Notify(ctx, dispatcher.Event{ID: "evt_s", Type: dispatcher.EventReleaseSent}); err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, tk := range r.q.tasks {
		got = append(got, tk.hook+" "+tk.event)
	}
	want := []string{all.ID + " evt_f", all.ID + " evt_s", sent.ID + " evt_s"}
	if strings.Join(got, ",") != strings.Join(want, ",") {
		t.Errorf("queued %v, want %v", got, want)
	}
	var body struct {
		ID, Type  string
		CreatedAt time.Time `json:"created_at"`
		Data      map[string]any
	}
	if err := json.Unmarshal(r.q.tasks[0].body, &body); err != nil || body.ID != "evt_f" || body.Type != "delivery.failed" ||
		body.CreatedAt.IsZero() || body.Data["delivery_id"] != "d1" {
		t.Errorf("body %s (%v), want the event with its created_at", r.q.tasks[0].body, err)
	}
}

func TestLogIsBounded(t *testing.T) {
	r := newRig(t, webhooks.Policy{AllowPrivate: true, AllowHTTP: true}, func(c *webhooks.Config) { c.LogSize = 3 })
	ctx := context.Background()
	rc := newReceiver(t, r.clock.Now)
	hook, secret, err := r.svc.Create(ctx, webhooks.Input{URL: rc.URL})
	if err != nil {
		t.Fatal(err)
	}
	rc.secret = secret
	for i := range 5 {
		if err := r.svc.Deliver(ctx, hook.ID, event("evt_"+string(rune('a'+i)), dispatcher.EventReleaseSent), 1); err != nil {
			t.Fatal(err)
		}
	}
	as, _ := r.svc.Deliveries(ctx, hook.ID)
	if len(as) != 3 || as[0].EventID != "evt_e" || as[2].EventID != "evt_c" {
		t.Errorf("log = %+v, want the last 3, newest first", as)
	}
}
