package client

import (
	"context"

	"github.com/pregon/pregon/dispatcher"
)

// Checks returns a release's pre-send checklist, in the server's order:
// languages, embargo, audiences, attachments, links. A send is refused
// (an *Error with status 409 whose Checks name them) while any check has
// the level dispatcher.CheckError.
func (c *Client) Checks(ctx context.Context, releaseID string) ([]dispatcher.Check, error) {
	var out []dispatcher.Check
	if err := c.get(ctx, "/v1/releases/"+pathID(releaseID)+"/checks", nil, &out); err != nil {
		return nil, err
	}
	return out, nil
}

// Failed returns the checks of checks that are errors, which refuse a send.
func Failed(checks []dispatcher.Check) []dispatcher.Check {
	var out []dispatcher.Check
	for _, c := range checks {
		if c.Level == dispatcher.CheckError {
			out = append(out, c)
		}
	}
	return out
}
