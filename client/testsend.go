package client

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// NewTest is the body of POST /v1/releases/{id}/test: the addresses and
// Telegram chats to send the test to, and the language (""; the release's).
type NewTest struct {
	Emails          []string `json:"emails"`
	TelegramChatIDs []string `json:"telegram_chat_ids"`
	Language        string   `json:"language,omitempty"`
	// Copy is dispatcher.CopyEarly to send the embargoed email the early
	// lists get (no Telegram chats then); "" for what every audience gets.
	Copy string `json:"copy,omitempty"`
}

// TestSend sends the release, as it is now, to the recipients of in, with
// "[TEST]" in front of the subject and the post, and returns the test send
// with every result pending. It makes no deliveries. Too many recipients or
// a bad one is an error that IsInvalid reports; too many test sends, a 429
// *Error whose RetryAfter says when to try again.
func (c *Client) TestSend(ctx context.Context, releaseID string, in NewTest) (*dispatcher.TestSend, error) {
	if in.Emails == nil {
		in.Emails = []string{}
	}
	if in.TelegramChatIDs == nil {
		in.TelegramChatIDs = []string{}
	}
	var t dispatcher.TestSend
	if err := c.post(ctx, "/v1/releases/"+pathID(releaseID)+"/test", in, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// GetTest returns a test send of a release with its results so far.
func (c *Client) GetTest(ctx context.Context, releaseID, testID string) (*dispatcher.TestSend, error) {
	var t dispatcher.TestSend
	if err := c.get(ctx, "/v1/releases/"+pathID(releaseID)+"/tests/"+pathID(testID), nil, &t); err != nil {
		return nil, err
	}
	return &t, nil
}

// ErrTestPending is returned by WaitTest when the test send still has
// pending results at its deadline.
var ErrTestPending = errors.New("test send still pending")

// WaitTest asks for the test send every poll until it is no longer pending,
// and returns it. When ctx ends first it returns the last reading with an
// error wrapping ErrTestPending (and ctx's error).
func (c *Client) WaitTest(ctx context.Context, releaseID, testID string, poll time.Duration) (*dispatcher.TestSend, error) {
	tick := time.NewTicker(poll)
	defer tick.Stop()
	var last *dispatcher.TestSend
	for {
		t, err := c.GetTest(ctx, releaseID, testID)
		switch {
		case err == nil:
			last = t
			if t.Status != dispatcher.TestPending {
				return t, nil
			}
		case ctx.Err() == nil:
			return last, err
		}
		select {
		case <-ctx.Done():
			return last, fmt.Errorf("%w: %w", ErrTestPending, ctx.Err())
		case <-tick.C:
		}
	}
}
