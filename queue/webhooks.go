package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
)

// Outgoing webhooks: one task per (event, webhook), on a queue of their own
// so that a slow receiver never holds up a release.
const (
	TypeWebhook   = "webhook:deliver"
	QueueWebhooks = "webhooks"
)

// maxWebhookRetries bounds the retries of one event to one webhook: with the
// backoff (RetryBase doubling up to an hour) about a day. The webhook is
// disabled sooner when it fails for PREGON_WEBHOOK_DISABLE_AFTER.
const maxWebhookRetries = 30

// webhookRetention keeps a delivered event's task, so that the same event
// queued again for the same webhook (noticed by two workers) is dropped.
const webhookRetention = 24 * time.Hour

type webhookPayload struct {
	WebhookID string          `json:"webhook_id"`
	Event     json.RawMessage `json:"event"`
}

// EnqueueWebhook enqueues the delivery of an event (body, its JSON) to a
// webhook. It is idempotent: while the task is waiting, running, or kept
// after it ran (a day), the same event is not queued again for the webhook.
func (c *Client) EnqueueWebhook(ctx context.Context, webhookID, eventID string, body []byte) error {
	payload, err := json.Marshal(webhookPayload{WebhookID: webhookID, Event: body})
	if err != nil {
		return fmt.Errorf("enqueue webhook %s: %w", webhookID, err)
	}
	_, err = c.c.EnqueueContext(ctx, asynq.NewTask(TypeWebhook, payload),
		asynq.Queue(QueueWebhooks), asynq.TaskID("webhook:"+webhookID+":"+eventID),
		asynq.MaxRetry(maxWebhookRetries), asynq.Retention(webhookRetention), asynq.Timeout(time.Minute))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue event %s for webhook %s: %w", eventID, webhookID, err)
	}
	return nil
}

// WebhookHandler delivers events to webhooks (*webhooks.Service implements it).
type WebhookHandler interface {
	// Deliver posts an event to a webhook; try counts from 1. A permanent
	// error (dispatcher.Permanent) is not retried.
	Deliver(ctx context.Context, webhookID string, event []byte, try int) error
}

// HandleWebhooks makes the server deliver webhook tasks with h. Call it
// before Start.
func (s *Server) HandleWebhooks(h WebhookHandler) {
	s.mux.HandleFunc(TypeWebhook, func(ctx context.Context, t *asynq.Task) error {
		var p webhookPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.WebhookID == "" {
			return fmt.Errorf("bad webhook payload %q: %v: %w", t.Payload(), err, asynq.SkipRetry)
		}
		n, _ := asynq.GetRetryCount(ctx)
		return classify(h.Deliver(ctx, p.WebhookID, p.Event, n+1))
	})
}
