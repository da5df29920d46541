package client

import (
	"context"
	"net/http"

	"github.com/pregon/pregon/dispatcher"
)

// Suppressions returns a page of the suppressed addresses, in email order
// (GET /v1/suppressions; an admin token).
func (c *Client) Suppressions(ctx context.Context, pq PageQuery) (*Page[dispatcher.Suppression], error) {
	return getPage[dispatcher.Suppression](ctx, c, "/v1/suppressions", nil, pq)
}

// LiftSuppression lets email be mailed again and returns its suppression
// as it was (DELETE /v1/suppressions/{email}; an admin token). An address
// that was not suppressed is an error that IsNotFound reports.
func (c *Client) LiftSuppression(ctx context.Context, email string) (*dispatcher.Suppression, error) {
	var s dispatcher.Suppression
	if err := c.do(ctx, request{method: http.MethodDelete, path: "/v1/suppressions/" + pathID(email)}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
