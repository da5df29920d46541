package dispatcher_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// TestDeliverClassifiesSendErrors: the status a delivery is left in for
// each kind of error its channel returns, the error recorded, and when a
// retry is enqueued, its delay (MaxAttempts 5, RetryBase 10s, the default
// doubling backoff).
func TestDeliverClassifiesSendErrors(t *testing.T) {
	busy := errors.New("451 4.3.0 try again later")
	gone := errors.New("550 5.1.1 mailbox unavailable")
	tests := []struct {
		name string
		// done is how many attempts this round has already made.
		done int
		// send returns the channel's error; cancel ends the task's context
		// (a shutdown) while it sends.
		send    func(ctx context.Context, cancel func()) error
		want    dispatcher.DeliveryStatus
		wantErr string
		// wantDelay is the delay of the retry enqueued.
		wantDelay time.Duration
		wantTask  error // what Deliver returns
	}{
		{name: "sent", send: func(context.Context, func()) error { return nil },
			want: dispatcher.DeliverySent, wantDelay: noTask},
		{name: "permanent", send: func(context.Context, func()) error { return dispatcher.Permanent(gone) },
			want: dispatcher.DeliveryFailed, wantErr: gone.Error() + " (permanent)", wantDelay: noTask},
		{name: "transient, first attempt: the base delay", send: func(context.Context, func()) error { return dispatcher.Transient(busy, 0) },
			want: dispatcher.DeliveryRetrying, wantErr: busy.Error() + " (transient)", wantDelay: 10 * time.Second},
		{name: "transient, third attempt: the base delay doubled twice", done: 2,
			send: func(context.Context, func()) error { return dispatcher.Transient(busy, 0) },
			want: dispatcher.DeliveryRetrying, wantErr: busy.Error() + " (transient)", wantDelay: 40 * time.Second},
		{name: "transient with retry-after: the provider's delay", done: 2,
			send: func(context.Context, func()) error { return dispatcher.Transient(busy, 90*time.Second) },
			want: dispatcher.DeliveryRetrying, wantErr: busy.Error() + " (transient, retry after 1m30s)", wantDelay: 90 * time.Second},
		{name: "unclassified error: transient", send: func(context.Context, func()) error { return errors.New("EOF") },
			want: dispatcher.DeliveryRetrying, wantErr: "EOF", wantDelay: 10 * time.Second},
		{name: "uncertain: not repeated", send: func(context.Context, func()) error {
			return dispatcher.Uncertain(errors.New("connection reset after DATA"))
		},
			want: dispatcher.DeliveryUncertain, wantErr: "connection reset after DATA (uncertain)", wantDelay: noTask},
		{name: "cancelled during shutdown: handed back untried",
			send: func(ctx context.Context, cancel func()) error {
				cancel()
				return fmt.Errorf("dial smtp: %w", ctx.Err())
			},
			want: dispatcher.DeliveryRetrying, wantErr: "dial smtp: context canceled", wantDelay: 0, wantTask: context.Canceled},
		{name: "cut by shutdown after the data went out: uncertain",
			send: func(ctx context.Context, cancel func()) error {
				cancel()
				return dispatcher.Uncertain(fmt.Errorf("await reply to DATA: %w", ctx.Err()))
			},
			want: dispatcher.DeliveryUncertain, wantErr: "await reply to DATA: context canceled (uncertain)", wantDelay: noTask, wantTask: context.Canceled},
		{name: "context.Canceled without a shutdown: transient",
			send: func(context.Context, func()) error { return fmt.Errorf("provider: %w", context.Canceled) },
			want: dispatcher.DeliveryRetrying, wantErr: "provider: context canceled", wantDelay: 10 * time.Second},
		{name: "out of attempts", done: 4, send: func(context.Context, func()) error { return dispatcher.Transient(busy, 0) },
			want: dispatcher.DeliveryFailed, wantErr: "gave up after 5 attempts: " + busy.Error() + " (transient)", wantDelay: noTask},
		{name: "out of attempts despite a retry-after", done: 4, send: func(context.Context, func()) error { return dispatcher.Transient(busy, time.Second) },
			want: dispatcher.DeliveryFailed, wantErr: "gave up after 5 attempts: " + busy.Error() + " (transient, retry after 1s)", wantDelay: noTask},
		{name: "permanent on the last attempt: its own error", done: 4, send: func(context.Context, func()) error { return dispatcher.Permanent(gone) },
			want: dispatcher.DeliveryFailed, wantErr: gone.Error() + " (permanent)", wantDelay: noTask},
		{name: "shutdown on the last attempt: handed back, not failed", done: 4,
			send: func(ctx context.Context, cancel func()) error {
				cancel()
				return ctx.Err()
			},
			want: dispatcher.DeliveryRetrying, wantErr: "context canceled", wantDelay: 0, wantTask: context.Canceled},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := newRig()
			rid, ids := r.sending(t, "ana@example.org")
			if tt.done > 0 {
				rec := r.record(t, rid, ids[0])
				rec.Status, rec.Attempts, rec.RoundAttempts = dispatcher.DeliveryRetrying, tt.done, tt.done
				r.mem.Put(rid, rec)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			email := &mock.EmailSender{SendEmailFn: func(ctx context.Context, msg *dispatcher.EmailMessage) (string, error) {
				if err := tt.send(ctx, cancel); err != nil {
					return "", err
				}
				return msg.MessageID, nil
			}}
			svc := r.service(t, dispatcher.Config{Email: email, MaxAttempts: 5, RetryBase: 10 * time.Second})

			err := svc.Deliver(ctx, dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids})
			if !errors.Is(err, tt.wantTask) || (err == nil) != (tt.wantTask == nil) {
				t.Fatalf("Deliver = %v, want %v", err, tt.wantTask)
			}
			rec := r.record(t, rid, ids[0])
			if rec.Status != tt.want || rec.LastError != tt.wantErr || rec.Attempts != tt.done+1 {
				t.Errorf("delivery %s (%q) after %d attempts, want %s (%q) after %d", rec.Status, rec.LastError, rec.Attempts, tt.want, tt.wantErr, tt.done+1)
			}
			r.checkEnqueued(t, ids, tt.wantDelay)
			if tt.want == dispatcher.DeliveryRetrying && !rec.Due.Equal(t0.Add(tt.wantDelay)) {
				t.Errorf("retry due at %s, want %s", rec.Due, t0.Add(tt.wantDelay))
			}
		})
	}
}

// TestTelegramRetrySendsOnlyTheRest: a post that fails part way keeps the
// ids of the messages that went out, and its retry sends only the rest.
func TestTelegramRetrySendsOnlyTheRest(t *testing.T) {
	r := newRig()
	ctx := context.Background()
	rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseSending, Title: "Nota", Language: "es"})
	id := dispatcher.DeliveryID(rid, dispatcher.ChannelTelegram, "@canal")
	if _, err := r.mem.CreateDeliveries(ctx, rid, []*dispatcher.Delivery{{ID: id, Channel: dispatcher.ChannelTelegram,
		Recipient: "@canal", Language: "es", Status: dispatcher.DeliveryQueued}}); err != nil {
		t.Fatal(err)
	}
	r.render.TelegramFn = func(*dispatcher.Release, string) ([]string, error) { return []string{"one", "two", "three"}, nil }
	r.tg.SendTelegramFn = func(_ context.Context, p *dispatcher.TelegramPost) ([]string, error) {
		if p.Parts[0] == "one" {
			return []string{"m1"}, dispatcher.Transient(errors.New("429 too many requests"), 3*time.Second)
		}
		return []string{"m2", "m3"}, nil
	}
	svc := r.service(t, dispatcher.Config{})
	b := dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelTelegram, IDs: []string{id}}
	for range 2 {
		if err := svc.Deliver(ctx, b); err != nil {
			t.Fatal(err)
		}
	}
	var parts [][]string
	for _, p := range r.tg.Posts() {
		parts = append(parts, p.Parts)
	}
	if want := [][]string{{"one", "two", "three"}, {"two", "three"}}; !slices.EqualFunc(parts, want, slices.Equal) {
		t.Errorf("posts sent %q, want %q", parts, want)
	}
	if rec := r.record(t, rid, id); rec.Status != dispatcher.DeliverySent || !slices.Equal(rec.MessageIDs, []string{"m1", "m2", "m3"}) {
		t.Errorf("delivery %s with messages %v, want sent with m1 m2 m3", rec.Status, rec.MessageIDs)
	}
}
