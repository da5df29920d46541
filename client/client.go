// Package client is a client of Pregón's HTTP API v1, shared by the pregon
// command's client commands, the benchmark and the end-to-end tests.
//
// It reuses the domain types the server marshals (dispatcher.List,
// dispatcher.Contact, dispatcher.TelegramChannel, dispatcher.Delivery,
// dispatcher.Release) and holds only what is the API's own: pages, problem
// responses (as *Error), import reports, previews and request bodies.
package client

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"
)

// maxResponse is the largest response body the client reads.
const maxResponse = 64 << 20

// Client makes requests to one Pregón API with one token. It is safe for
// concurrent use.
type Client struct {
	base      string // without a trailing slash
	token     string
	http      *http.Client
	userAgent string
}

// Option changes a Client made by New.
type Option func(*Client)

// WithHTTPClient makes the client send its requests with hc (default: an
// http.Client with a one-minute timeout).
func WithHTTPClient(hc *http.Client) Option { return func(c *Client) { c.http = hc } }

// WithUserAgent sets the User-Agent header of every request.
func WithUserAgent(ua string) Option { return func(c *Client) { c.userAgent = ua } }

// New returns a client of the API at baseURL (like http://127.0.0.1:8080;
// a trailing slash is ignored) that authenticates with token. It returns
// an error when baseURL is not an http(s) URL with a host.
func New(baseURL, token string, opts ...Option) (*Client, error) {
	u, err := url.Parse(baseURL)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return nil, fmt.Errorf("API URL: want an http(s) URL like http://127.0.0.1:8080, got %q", baseURL)
	}
	c := &Client{base: strings.TrimRight(baseURL, "/"), token: token,
		http: &http.Client{Timeout: time.Minute}, userAgent: "pregon-client"}
	for _, o := range opts {
		o(c)
	}
	return c, nil
}

// request is one call to the API.
type request struct {
	method, path string
	query        url.Values
	contentType  string
	body         []byte // sent when not nil
	header       http.Header
}

// Do sends a request with a body of contentType (none when body is nil) and
// decodes a JSON answer into out when out is not nil. An answer with a status
// of 300 or more is returned as an *Error; a request that got no answer as a
// *NetError, or, when ctx ended, as an error wrapping ctx.Err().
func (c *Client) Do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte, out any) error {
	return c.do(ctx, request{method: method, path: path, query: query, contentType: contentType, body: body}, out)
}

func (c *Client) do(ctx context.Context, r request, out any) error {
	u := c.base + r.path
	if len(r.query) > 0 {
		u += "?" + r.query.Encode()
	}
	var rd io.Reader
	if r.body != nil {
		rd = bytes.NewReader(r.body)
	}
	req, err := http.NewRequestWithContext(ctx, r.method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", r.method, r.path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", c.userAgent)
	if r.body != nil {
		req.Header.Set("Content-Type", r.contentType)
	}
	for k, vs := range r.header {
		req.Header[k] = vs
	}
	resp, err := c.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return fmt.Errorf("%s %s: %w", r.method, r.path, ctx.Err())
		}
		return &NetError{Method: r.method, Path: r.path, BaseURL: c.base, Err: err}
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", r.method, r.path, err)
	}
	if resp.StatusCode >= 300 {
		return newError(r.method, r.path, resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", r.method, r.path, err)
	}
	return nil
}

// get decodes the JSON answer to GET path?query into out.
func (c *Client) get(ctx context.Context, path string, query url.Values, out any) error {
	return c.do(ctx, request{method: http.MethodGet, path: path, query: query}, out)
}

// post sends in as JSON (nil: no body) and decodes the answer into out.
func (c *Client) post(ctx context.Context, path string, in, out any) error {
	return c.postWith(ctx, path, nil, in, out)
}

// postWith is post with more request headers.
func (c *Client) postWith(ctx context.Context, path string, header http.Header, in, out any) error {
	r := request{method: http.MethodPost, path: path, header: header}
	if in != nil {
		body, err := json.Marshal(in)
		if err != nil {
			return fmt.Errorf("POST %s: %w", path, err)
		}
		r.body, r.contentType = body, "application/json"
	}
	return c.do(ctx, r, out)
}

// pathID escapes an id for use as one path segment.
func pathID(id string) string { return url.PathEscape(id) }
