package client

import (
	"context"
	"net/http"

	"github.com/pregon/pregon/webhooks"
)

// NewWebhook is the body of POST /v1/webhooks. Events empty means every event.
type NewWebhook struct {
	URL         string   `json:"url"`
	Events      []string `json:"events,omitempty"`
	Description string   `json:"description,omitempty"`
}

// CreatedWebhook is a webhook just registered, with its signing secret
// (shown this once).
type CreatedWebhook struct {
	webhooks.Webhook
	Secret string `json:"secret"`
}

// CreateWebhook registers a webhook (a coordinator token).
func (c *Client) CreateWebhook(ctx context.Context, in NewWebhook) (*CreatedWebhook, error) {
	var out CreatedWebhook
	if err := c.post(ctx, "/v1/webhooks", in, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// Webhooks returns every webhook, oldest first.
func (c *Client) Webhooks(ctx context.Context) ([]webhooks.Webhook, error) {
	var p Page[webhooks.Webhook]
	if err := c.get(ctx, "/v1/webhooks", nil, &p); err != nil {
		return nil, err
	}
	return p.Items, nil
}

// DeleteWebhook removes a webhook.
func (c *Client) DeleteWebhook(ctx context.Context, id string) error {
	return c.do(ctx, request{method: http.MethodDelete, path: "/v1/webhooks/" + pathID(id)}, nil)
}

// EnableWebhook makes a disabled webhook active again.
func (c *Client) EnableWebhook(ctx context.Context, id string) (*webhooks.Webhook, error) {
	var out webhooks.Webhook
	if err := c.post(ctx, "/v1/webhooks/"+pathID(id)+"/enable", nil, &out); err != nil {
		return nil, err
	}
	return &out, nil
}

// WebhookDeliveries returns the last attempts at posting to a webhook,
// newest first.
func (c *Client) WebhookDeliveries(ctx context.Context, id string) ([]webhooks.Attempt, error) {
	var p Page[webhooks.Attempt]
	if err := c.get(ctx, "/v1/webhooks/"+pathID(id)+"/deliveries", nil, &p); err != nil {
		return nil, err
	}
	return p.Items, nil
}
