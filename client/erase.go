package client

import (
	"context"
	"net/http"

	"github.com/pregon/pregon/dispatcher"
)

// Erasure is what erasing an address did, and the keyed hash by which the
// audit log names it.
type Erasure struct {
	dispatcher.Erasure
	EmailHMAC string `json:"email_hmac"`
}

// EraseContact erases email on request (POST /v1/contacts/{email}/erase; a
// coordinator token): it leaves every list, its contact record and
// suppression go, and only a keyed hash remains, so that it is never mailed
// again.
func (c *Client) EraseContact(ctx context.Context, email string) (*Erasure, error) {
	var e Erasure
	if err := c.do(ctx, request{method: http.MethodPost, path: "/v1/contacts/" + pathID(email) + "/erase"}, &e); err != nil {
		return nil, err
	}
	return &e, nil
}

// Suppression returns why email is never mailed, erasure included
// (GET /v1/suppressions/{email}; an admin token). An address that is
// mailed is an error that IsNotFound reports.
func (c *Client) Suppression(ctx context.Context, email string) (*dispatcher.Suppression, error) {
	var s dispatcher.Suppression
	if err := c.do(ctx, request{method: http.MethodGet, path: "/v1/suppressions/" + pathID(email)}, &s); err != nil {
		return nil, err
	}
	return &s, nil
}
