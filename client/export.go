package client

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/url"
)

// DeliveriesCSV copies the deliveries of a release that f lets through to
// w as CSV (GET /v1/releases/{id}/deliveries?format=csv), as the server
// streams it, and returns the bytes copied. The request has no overall
// timeout (the export of a large release takes as long as it takes): ctx
// bounds it. An unknown release is an *Error that IsNotFound reports; a
// server that cannot be reached a *NetError; an export cut short (the
// server failed part way) an error, with what came before it in w.
func (c *Client) DeliveriesCSV(ctx context.Context, releaseID string, f DeliveryFilter, w io.Writer) (int64, error) {
	path := "/v1/releases/" + pathID(releaseID) + "/deliveries"
	q := url.Values{"format": {"csv"}}
	if f.Status != "" {
		q.Set("status", string(f.Status))
	}
	if f.Channel != "" {
		q.Set("channel", string(f.Channel))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path+"?"+q.Encode(), nil)
	if err != nil {
		return 0, fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/csv")
	req.Header.Set("User-Agent", c.userAgent)
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return 0, fmt.Errorf("GET %s: %w", path, ctx.Err())
		}
		return 0, &NetError{Method: http.MethodGet, Path: path, BaseURL: c.base, Err: err}
	}
	defer resp.Body.Close()
	if resp.StatusCode >= 300 {
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		if err != nil {
			return 0, fmt.Errorf("GET %s: read response: %w", path, err)
		}
		return 0, newError(http.MethodGet, path, resp, data)
	}
	n, err := io.Copy(w, resp.Body)
	if err != nil {
		return n, fmt.Errorf("GET %s: the export was cut short after %d bytes: %w", path, n, err)
	}
	return n, nil
}
