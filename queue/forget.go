package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	"github.com/hibiken/asynq"
)

// forgetPage is how many tasks Forget reads at a time.
const forgetPage = 500

// Forget deletes the tasks that name email (normalised) in their payload,
// in every queue and state but running: the webhook events about it
// (delivery.failed, delivery.bounced, contact.unsubscribed: waiting,
// retrying, given up, or kept a day after they were delivered) and its
// confirmation email. Erasure on request (issue 14 item 5) calls it after
// the store has forgotten the address. It returns how many it deleted and
// how many were running (left: a webhook event delivered is then kept for
// a day, until a later erasure of the address).
func (c *Client) Forget(ctx context.Context, email string) (deleted, running int, err error) {
	if email == "" {
		return 0, 0, errors.New("forget tasks: no address")
	}
	quoted, _ := json.Marshal(email) // as a JSON payload writes it (& < > escaped)
	forms := []string{strings.ToLower(email), strings.ToLower(string(quoted[1 : len(quoted)-1]))}
	names := func(t *asynq.TaskInfo) bool {
		p := strings.ToLower(string(t.Payload))
		for _, f := range forms {
			if strings.Contains(p, f) {
				return true
			}
		}
		return false
	}
	queues, err := c.in.Queues()
	if err != nil {
		return 0, 0, fmt.Errorf("forget tasks: queues: %w", err)
	}
	type list func(queue string, opts ...asynq.ListOption) ([]*asynq.TaskInfo, error)
	// matching returns the ids of the tasks of queue q that ls lists and
	// that name the address: all of them first, then the deletions
	// (deleting while paging would shift the pages).
	matching := func(q string, ls list) ([]string, error) {
		var ids []string
		for page := 1; ; page++ {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
			ts, err := ls(q, asynq.PageSize(forgetPage), asynq.Page(page))
			if err != nil {
				return nil, fmt.Errorf("forget tasks of queue %s: %w", q, err)
			}
			for _, t := range ts {
				if names(t) {
					ids = append(ids, t.ID)
				}
			}
			if len(ts) < forgetPage {
				return ids, nil
			}
		}
	}
	for _, q := range queues {
		ids, err := matching(q, c.in.ListActiveTasks)
		if err != nil {
			return deleted, running, err
		}
		running += len(ids)
		for _, ls := range []list{c.in.ListPendingTasks, c.in.ListScheduledTasks, c.in.ListRetryTasks,
			c.in.ListArchivedTasks, c.in.ListCompletedTasks} {
			ids, err := matching(q, ls)
			if err != nil {
				return deleted, running, err
			}
			for _, id := range ids {
				switch err := c.in.DeleteTask(q, id); {
				case err == nil:
					deleted++
				case errors.Is(err, asynq.ErrTaskNotFound):
					// done and dropped, or deleted, meanwhile
				default:
					// It started meanwhile (asynq refuses to delete a
					// running task), or Redis failed.
					if ti, gerr := c.in.GetTaskInfo(q, id); gerr == nil && ti.State == asynq.TaskStateActive {
						running++
						continue
					}
					return deleted, running, fmt.Errorf("forget task %s of queue %s: %w", id, q, err)
				}
			}
		}
	}
	return deleted, running, nil
}
