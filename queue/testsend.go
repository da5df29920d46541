package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
	"github.com/pregon/pregon/dispatcher"
)

// TypeTest is the task that runs a test send of a release. It goes on the
// dispatch queue: a test send is a few messages, and a coordinator waits
// for it.
const TypeTest = "release:test"

// maxTestRetries bounds asynq's retries of a test send that could not be
// read or recorded (Redis unreachable); its recipients' failures are its
// results, not retried.
const maxTestRetries = 5

var _ dispatcher.TestQueue = (*Client)(nil)

type testPayload struct {
	TestID string `json:"test_id"`
}

// EnqueueTest enqueues the test send with id to run now. It is idempotent:
// while the task is waiting or running, another is not added.
func (c *Client) EnqueueTest(ctx context.Context, id string) error {
	payload, _ := json.Marshal(testPayload{TestID: id})
	_, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeTest, payload),
		asynq.Queue(QueueDispatch), asynq.TaskID("test:"+id), asynq.MaxRetry(maxTestRetries))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue test send %s: %w", id, err)
	}
	return nil
}

// TestHandler runs test sends. *dispatcher.Service implements it.
type TestHandler interface {
	// RunTest sends a test send to its recipients and records the results.
	RunTest(ctx context.Context, id string) error
}

// HandleTests makes the server run test send tasks with h. Call it before
// Start.
func (s *Server) HandleTests(h TestHandler) {
	s.mux.HandleFunc(TypeTest, func(ctx context.Context, t *asynq.Task) error {
		var p testPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.TestID == "" {
			return fmt.Errorf("bad test payload %q: %v: %w", t.Payload(), err, asynq.SkipRetry)
		}
		return classify(h.RunTest(ctx, p.TestID))
	})
}
