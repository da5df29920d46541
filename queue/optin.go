package queue

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/hibiken/asynq"
)

// TypeConfirmation is the task that sends a double opt-in confirmation
// email. It goes on the dispatch queue, which is never long: a person who
// just signed up waits for it, and must not wait behind a release's
// deliveries on the email queue.
const TypeConfirmation = "optin:confirm"

// maxConfirmationRetries bounds the retries of a confirmation email that
// failed transiently (SMTP 4xx, network, Redis): with the backoff from
// RetryBase they span a few hours, well within the link's 48 hours.
const maxConfirmationRetries = 10

// Confirmation is what a confirmation email needs: who signed up to which
// list, in which language. It carries no link: the worker signs it when it
// sends, so that nothing that could confirm a subscription waits in Redis.
type Confirmation struct {
	ListID   string `json:"list_id"`
	Email    string `json:"email"`
	Language string `json:"language,omitempty"`
}

// EnqueueConfirmation enqueues the confirmation email of c. While one for
// the same address and list waits or runs, another is not added.
func (c *Client) EnqueueConfirmation(ctx context.Context, conf Confirmation) error {
	payload, _ := json.Marshal(conf)
	sum := sha256.Sum256([]byte(conf.ListID + "\x00" + conf.Email))
	_, err := c.c.EnqueueContext(ctx, asynq.NewTask(TypeConfirmation, payload),
		asynq.Queue(QueueDispatch), asynq.TaskID("optin:"+hex.EncodeToString(sum[:16])), asynq.MaxRetry(maxConfirmationRetries))
	if err != nil && !errors.Is(err, asynq.ErrTaskIDConflict) {
		return fmt.Errorf("enqueue confirmation email: %w", err)
	}
	return nil
}

// ConfirmationHandler sends confirmation emails. *optin.Mailer implements it.
type ConfirmationHandler interface {
	// SendConfirmation sends the confirmation email of c, if it is still
	// due; a *dispatcher.SendError that is permanent is not retried.
	SendConfirmation(ctx context.Context, c Confirmation) error
}

// HandleConfirmations makes the server send confirmation emails with h.
// Call it before Start.
func (s *Server) HandleConfirmations(h ConfirmationHandler) {
	s.mux.HandleFunc(TypeConfirmation, func(ctx context.Context, t *asynq.Task) error {
		var c Confirmation
		if err := json.Unmarshal(t.Payload(), &c); err != nil || c.ListID == "" || c.Email == "" {
			return fmt.Errorf("bad confirmation payload: %v: %w", err, asynq.SkipRetry)
		}
		return classify(h.SendConfirmation(ctx, c))
	})
}
