package mock

import (
	"context"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

var _ dispatcher.Queue = (*Queue)(nil)

// Queue is a function-field fake of dispatcher.Queue.
type Queue struct {
	Recorder

	EnqueueDispatchFn func(ctx context.Context, releaseID string, at time.Time) error
	EnqueueBatchesFn  func(ctx context.Context, bs []dispatcher.Batch, delay time.Duration) error
}

// NewQueue returns a Queue that accepts every task and only records it.
func NewQueue() *Queue {
	return &Queue{
		EnqueueDispatchFn: func(context.Context, string, time.Time) error { return nil },
		EnqueueBatchesFn:  func(context.Context, []dispatcher.Batch, time.Duration) error { return nil },
	}
}

// EnqueueDispatch calls EnqueueDispatchFn.
func (q *Queue) EnqueueDispatch(ctx context.Context, releaseID string, at time.Time) error {
	return call(&q.Recorder, q.EnqueueDispatchFn, "EnqueueDispatch", releaseID, at)(ctx, releaseID, at)
}

// EnqueueBatches calls EnqueueBatchesFn.
func (q *Queue) EnqueueBatches(ctx context.Context, bs []dispatcher.Batch, delay time.Duration) error {
	return call(&q.Recorder, q.EnqueueBatchesFn, "EnqueueBatches", bs, delay)(ctx, bs, delay)
}

// Enqueued is one batch passed to EnqueueBatches, with the delay it was
// given.
type Enqueued struct {
	dispatcher.Batch
	Delay time.Duration
}

// Batches returns the batches enqueued so far, in order, each with its delay.
func (q *Queue) Batches() []Enqueued {
	var out []Enqueued
	for _, c := range q.Calls("EnqueueBatches") {
		for _, b := range c.Args[0].([]dispatcher.Batch) {
			out = append(out, Enqueued{Batch: b, Delay: c.Args[1].(time.Duration)})
		}
	}
	return out
}

// Dispatches returns the release ids passed to EnqueueDispatch so far.
func (q *Queue) Dispatches() []string {
	var out []string
	for _, c := range q.Calls("EnqueueDispatch") {
		out = append(out, c.Args[0].(string))
	}
	return out
}

// DispatchTimes returns the times passed to EnqueueDispatch for a release
// so far, in order.
func (q *Queue) DispatchTimes(releaseID string) []time.Time {
	var out []time.Time
	for _, c := range q.Calls("EnqueueDispatch") {
		if c.Args[0].(string) == releaseID {
			out = append(out, c.Args[1].(time.Time))
		}
	}
	return out
}
