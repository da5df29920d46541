package main

import (
	"context"
	"fmt"
	"log/slog"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// taskForgetter deletes the queued tasks that name an address
// (*queue.Client implements it).
type taskForgetter interface {
	Forget(ctx context.Context, email string) (deleted, running int, err error)
}

// erasure is the API's erasure store (issue 14 item 5): the store erases
// the address (its hash first, then lists, records, live and archived
// deliveries), then the queues forget it: the webhook events about it and
// its confirmation email, waiting or kept after they ran.
type erasure struct {
	*store.Store
	tasks taskForgetter
	log   *slog.Logger
}

// Erase erases email in the store, then in the queues.
func (e erasure) Erase(ctx context.Context, email string) (*dispatcher.Erasure, error) {
	er, err := e.Store.Erase(ctx, email)
	if err != nil {
		return er, err
	}
	deleted, running, err := e.tasks.Forget(ctx, email)
	if err != nil {
		return er, fmt.Errorf("erase: queued tasks: %w", err)
	}
	e.log.InfoContext(ctx, "erasure: queued tasks that named the address deleted", "deleted", deleted, "running", running)
	return er, nil
}
