package main

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// newClient returns a client of the API at addr (host:port) with an admin
// token; its requests may take five minutes (an import of 50,000 rows).
func newClient(addr, token string) (*client.Client, error) {
	return client.New("http://"+addr, token,
		client.WithHTTPClient(&http.Client{Timeout: 5 * time.Minute}), client.WithUserAgent("pregon-bench"))
}

// createList creates a press list and returns its id.
func createList(ctx context.Context, c *client.Client, name string) (string, error) {
	l, err := c.CreateList(ctx, client.NewList{Name: name, Kind: dispatcher.ListPress})
	if err != nil {
		return "", err
	}
	return l.ID, nil
}

// flatCounts returns a release's delivery counts in total and by status:
// {"total": n, "sent": n, "failed": n, ...}; the per-channel ones are left out.
func flatCounts(r *client.Release) map[string]int64 {
	out := map[string]int64{"total": r.Counts.Total}
	for s, n := range r.Counts.ByStatus {
		out[string(s)] = n
	}
	return out
}

// describe says what a delivery is and how it went, in one line.
func describe(d dispatcher.Delivery) string {
	s := fmt.Sprintf("%s %s %s, %d attempts, updated %s", d.Recipient, d.Channel, d.Status, d.Attempts,
		d.UpdatedAt.Format("15:04:05.000"))
	if d.LastError != "" {
		s += ", last error: " + d.LastError
	}
	return s
}

// pending returns up to limit deliveries of the release that are not final,
// described; an error reading them is one line of the answer.
func pending(ctx context.Context, c *client.Client, id string, limit int) []string {
	var out []string
	for _, st := range []dispatcher.DeliveryStatus{dispatcher.DeliveryQueued, dispatcher.DeliveryRetrying, dispatcher.DeliverySending} {
		p, err := c.Deliveries(ctx, id, client.DeliveryFilter{Status: st}, client.PageQuery{Limit: limit - len(out)})
		if err != nil {
			return append(out, err.Error())
		}
		for _, d := range p.Items {
			out = append(out, describe(d))
		}
		if len(out) >= limit {
			break
		}
	}
	return out
}
