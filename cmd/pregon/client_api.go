package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strings"
)

// apiClient makes requests to Pregón's HTTP API v1.
type apiClient struct {
	base  string // without a trailing slash
	token string
	http  *http.Client
}

// problem is an RFC 9457 problem detail, the body of the API's error responses.
type problem struct {
	Type      string       `json:"type"`
	Title     string       `json:"title"`
	Status    int          `json:"status"`
	Detail    string       `json:"detail"`
	Errors    []fieldError `json:"errors"`
	ReleaseID string       `json:"release_id"`
}

type fieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// apiError is a response with an error status. Its message is meant for
// people: the status, the problem's title and detail, one line per field.
type apiError struct {
	Method, Path string
	Status       int
	Problem      problem // zero when the body was not a problem
	Body         string  // the start of a body that was not a problem
}

func (e *apiError) Error() string {
	var b strings.Builder
	title := e.Problem.Title
	if title == "" {
		title = http.StatusText(e.Status)
	}
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.Status, title)
	if e.Problem.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Problem.Detail)
	} else if e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	for _, f := range e.Problem.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	if e.Problem.ReleaseID != "" {
		fmt.Fprintf(&b, "\n  (release %s was created)", e.Problem.ReleaseID)
	}
	if e.Status == http.StatusUnauthorized {
		b.WriteString("\n  (check PREGON_TOKEN or --token)")
	}
	return b.String()
}

// do sends a request and decodes a JSON answer into out (when out is not nil).
// body is sent with contentType when it is not nil. A response with an error
// status is returned as an *apiError.
func (a *apiClient) do(ctx context.Context, method, path string, query url.Values, contentType string, body []byte, out any) error {
	u := a.base + path
	if len(query) > 0 {
		u += "?" + query.Encode()
	}
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, u, rd)
	if err != nil {
		return fmt.Errorf("%s %s: %w", method, path, err)
	}
	req.Header.Set("Authorization", "Bearer "+a.token)
	req.Header.Set("Accept", "application/json")
	req.Header.Set("User-Agent", "pregon-cli/"+readVersion().Module)
	if body != nil {
		req.Header.Set("Content-Type", contentType)
	}
	resp, err := a.http.Do(req)
	if err != nil {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		return fmt.Errorf("cannot reach Pregón at %s (is it running? set PREGON_API_URL or --api-url): %w", a.base, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return fmt.Errorf("%s %s: read response: %w", method, path, err)
	}
	if resp.StatusCode >= 300 {
		return newAPIError(method, path, resp, data)
	}
	if out == nil {
		return nil
	}
	if err := json.Unmarshal(data, out); err != nil {
		return fmt.Errorf("%s %s: the answer is not the JSON expected: %w", method, path, err)
	}
	return nil
}

func newAPIError(method, path string, resp *http.Response, data []byte) *apiError {
	e := &apiError{Method: method, Path: path, Status: resp.StatusCode}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		if json.Unmarshal(data, &e.Problem) == nil && (e.Problem.Title != "" || e.Problem.Detail != "") {
			return e
		}
		e.Problem = problem{}
	}
	body := strings.TrimSpace(string(data))
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	e.Body = body
	return e
}

func (a *apiClient) get(ctx context.Context, path string, query url.Values, out any) error {
	return a.do(ctx, http.MethodGet, path, query, "", nil, out)
}

// post sends in as JSON (nil: no body) and decodes the answer into out.
func (a *apiClient) post(ctx context.Context, path string, in, out any) error {
	var body []byte
	if in != nil {
		var err error
		if body, err = json.Marshal(in); err != nil {
			return fmt.Errorf("POST %s: %w", path, err)
		}
	}
	return a.do(ctx, http.MethodPost, path, nil, "application/json", body, out)
}

// pageSize is the limit the client asks for when it reads every page.
const pageSize = 500

type page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// allPages reads every page of the collection at path, calling each with
// every page's items.
func allPages[T any](ctx context.Context, a *apiClient, path string, query url.Values, each func([]T) error) error {
	q := url.Values{}
	for k, v := range query {
		q[k] = v
	}
	q.Set("limit", fmt.Sprint(pageSize))
	seen := map[string]bool{}
	for {
		var p page[T]
		if err := a.get(ctx, path, q, &p); err != nil {
			return err
		}
		if err := each(p.Items); err != nil {
			return err
		}
		if p.NextCursor == "" {
			return nil
		}
		if seen[p.NextCursor] {
			return fmt.Errorf("GET %s: the server returned the cursor %q twice", path, p.NextCursor)
		}
		seen[p.NextCursor] = true
		q.Set("cursor", p.NextCursor)
	}
}

// pathID escapes an id for use as one path segment.
func pathID(id string) string { return url.PathEscape(id) }

// isStatus reports whether err is an *apiError with the given status.
func isStatus(err error, status int) bool {
	var e *apiError
	return errors.As(err, &e) && e.Status == status
}
