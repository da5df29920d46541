package testkit

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"github.com/pregon/pregon/client"
)

// httpClient is the client of Do: no test request should take longer.
var httpClient = &http.Client{Timeout: 30 * time.Second}

// Request is an HTTP request of a test.
type Request struct {
	Method string
	URL    string
	// Token is sent as "Authorization: Bearer Token" when not "".
	Token string
	// Body is sent as it is when it is a string or []byte (with
	// ContentType), else as JSON; nil sends no body.
	Body        any
	ContentType string // default application/json when there is a body
}

// Response is the answer to a Request, read whole.
type Response struct {
	Status int
	Header http.Header
	Body   []byte
}

// Do sends req and returns the answer. It fails the test when no answer comes.
func Do(tb testing.TB, req Request) *Response {
	tb.Helper()
	var body io.Reader
	switch b := req.Body.(type) {
	case nil:
	case string:
		body = bytes.NewReader([]byte(b))
	case []byte:
		body = bytes.NewReader(b)
	default:
		j, err := json.Marshal(b)
		if err != nil {
			tb.Fatalf("%s %s: encode the body: %v", req.Method, req.URL, err)
		}
		body = bytes.NewReader(j)
	}
	r, err := http.NewRequest(req.Method, req.URL, body)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	if body != nil {
		ct := req.ContentType
		if ct == "" {
			ct = "application/json"
		}
		r.Header.Set("Content-Type", ct)
	}
	if req.Token != "" {
		r.Header.Set("Authorization", "Bearer "+req.Token)
	}
	resp, err := httpClient.Do(r)
	if err != nil {
		tb.Fatalf("%s %s: %v", req.Method, req.URL, err)
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(resp.Body)
	if err != nil {
		tb.Fatalf("%s %s: read the answer: %v", req.Method, req.URL, err)
	}
	return &Response{Status: resp.StatusCode, Header: resp.Header, Body: data}
}

// DoJSON sends req, fails the test with the answer's body unless its status
// is want, and decodes the body into out when out is not nil.
func DoJSON(tb testing.TB, req Request, want int, out any) *Response {
	tb.Helper()
	resp := Do(tb, req)
	if resp.Status != want {
		tb.Fatalf("%s %s: status %d, want %d: %.1000s", req.Method, req.URL, resp.Status, want, resp.Body)
	}
	if out != nil {
		resp.Decode(tb, out)
	}
	return resp
}

// Decode decodes the body as JSON into out, failing the test (with the
// body) when it is not.
func (r *Response) Decode(tb testing.TB, out any) {
	tb.Helper()
	if err := json.Unmarshal(r.Body, out); err != nil {
		tb.Fatalf("decode %.500q: %v", r.Body, err)
	}
}

// Problem is an RFC 9457 problem detail as the API answers errors.
type Problem struct {
	Type   string              `json:"type"`
	Title  string              `json:"title"`
	Status int                 `json:"status"`
	Detail string              `json:"detail"`
	Errors []client.FieldError `json:"errors"`
}

// Problem decodes the body as a problem, failing the test unless the
// answer is one (Content-Type application/problem+json).
func (r *Response) Problem(tb testing.TB) *Problem {
	tb.Helper()
	if ct := r.Header.Get("Content-Type"); ct != "application/problem+json" {
		tb.Fatalf("Content-Type %q, want application/problem+json; body %.500q", ct, r.Body)
	}
	var p Problem
	r.Decode(tb, &p)
	return &p
}
