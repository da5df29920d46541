// Package queue carries Pregón's work through asynq on Redis: the task types
// and their payloads, a client that enqueues them, and a server that runs
// them with Pregón's retry policy.
package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/hibiken/asynq"
	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Task types.
const (
	TypeDispatch = "release:dispatch"
	TypeEmail    = "delivery:email"
	TypeTelegram = "delivery:telegram"
)

// Queue names, with their weights in Server.
const (
	QueueDispatch = "dispatch"
	QueueEmail    = "email"
	QueueTelegram = "telegram"
)

// maxTaskRetries bounds asynq's own retries of a task whose handler failed as
// a whole (e.g. Redis unreachable). Per-delivery retries are counted on the
// delivery, not here.
const maxTaskRetries = 25

// Client enqueues Pregón's tasks. It implements dispatcher.Queue.
type Client struct {
	c   *asynq.Client
	in  *asynq.Inspector // Forget (forget.go)
	now func() time.Time
}

var _ dispatcher.Queue = (*Client)(nil)

// ClientOption configures a Client.
type ClientOption func(*Client)

// WithClock sets the clock that delayed tasks' times are computed from
// (default time.Now); pass the dispatcher's.
func WithClock(now func() time.Time) ClientOption {
	return func(c *Client) {
		if now != nil {
			c.now = now
		}
	}
}

// NewClient returns a Client on an open Redis client.
func NewClient(rdb redis.UniversalClient, opts ...ClientOption) *Client {
	c := &Client{c: asynq.NewClientFromRedisClient(rdb), in: asynq.NewInspectorFromRedisClient(rdb), now: time.Now}
	for _, o := range opts {
		o(c)
	}
	return c
}

// EnqueueDispatch enqueues the dispatch of a release to run at at. It is
// idempotent: while a dispatch of the release for the same time (to the
// millisecond) is waiting or running, another is not added. A dispatch for
// another time is: a release whose embargo moved gets a dispatch at the new
// lift, and the one at the old lift, when it runs, finds the release not
// due and does nothing (see dispatcher.Service.Dispatch).
func (c *Client) EnqueueDispatch(ctx context.Context, releaseID string, at time.Time) error {
	payload, _ := json.Marshal(dispatchPayload{ReleaseID: releaseID})
	_, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeDispatch, payload),
		asynq.Queue(QueueDispatch), asynq.TaskID(DispatchTaskID(releaseID, at)),
		asynq.ProcessAt(at), asynq.MaxRetry(maxTaskRetries))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue dispatch of %s: %w", releaseID, err)
	}
	return nil
}

// EnqueueBatches enqueues one delivery task per batch, to run after delay.
// asynq schedules to the second, so each batch also carries the exact time
// before which it must not be sent, and the handler waits out the rest.
func (c *Client) EnqueueBatches(ctx context.Context, bs []dispatcher.Batch, delay time.Duration) error {
	var at time.Time
	if delay > 0 {
		at = c.now().Add(delay)
	}
	for _, b := range bs {
		typ, q := TypeEmail, QueueEmail
		if b.Channel == dispatcher.ChannelTelegram {
			typ, q = TypeTelegram, QueueTelegram
		}
		if !at.IsZero() {
			b.NotBefore = at.UnixMilli()
		}
		payload, err := json.Marshal(b)
		if err != nil {
			return fmt.Errorf("enqueue batch of %s: %w", b.ReleaseID, err)
		}
		opts := []asynq.Option{asynq.Queue(q), asynq.MaxRetry(maxTaskRetries)}
		if !at.IsZero() {
			opts = append(opts, asynq.ProcessAt(at))
		}
		if _, err := c.c.EnqueueContext(ctx, asynq.NewTask(typ, payload), opts...); err != nil {
			return fmt.Errorf("enqueue %s batch of %s: %w", b.Channel, b.ReleaseID, err)
		}
	}
	return nil
}

// DispatchTaskID is the id of the task that dispatches a release at at.
func DispatchTaskID(releaseID string, at time.Time) string {
	return "dispatch:" + releaseID + ":" + strconv.FormatInt(at.UnixMilli(), 10)
}

type dispatchPayload struct {
	ReleaseID string `json:"release_id"`
}
