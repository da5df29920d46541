package client

import (
	"encoding/json"
	"errors"
	"fmt"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// Sentinel errors that an *Error matches with errors.Is, by its status.
var (
	ErrInvalid      = errors.New("invalid request")   // 400
	ErrUnauthorized = errors.New("unauthorized")      // 401
	ErrForbidden    = errors.New("forbidden")         // 403
	ErrNotFound     = errors.New("not found")         // 404
	ErrConflict     = errors.New("conflict")          // 409
	ErrRateLimited  = errors.New("too many requests") // 429
)

// sentinels maps each sentinel error to its status.
var sentinels = map[error]int{
	ErrInvalid:      http.StatusBadRequest,
	ErrUnauthorized: http.StatusUnauthorized,
	ErrForbidden:    http.StatusForbidden,
	ErrNotFound:     http.StatusNotFound,
	ErrConflict:     http.StatusConflict,
	ErrRateLimited:  http.StatusTooManyRequests,
}

// FieldError says what is wrong with one field of a request, as the API's
// problem responses list them.
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

// Error is an answer with an error status. When the body was an RFC 9457
// problem (application/problem+json), its fields are here; otherwise Body
// holds the start of the body. Its message is meant for people: the
// request, the status, the problem's title and detail, one line per field.
type Error struct {
	Method string       `json:"-"`
	Path   string       `json:"-"`
	Status int          `json:"-"`
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"`
	// ReleaseID names a release that was created although the request failed.
	ReleaseID string `json:"release_id"`
	// Checks are the pre-send checks that refused a send (409).
	Checks []dispatcher.Check `json:"checks"`
	// RetryAfter is the wait a 429 or 503 asked for (zero when none).
	RetryAfter time.Duration `json:"-"`
	// Body is the start of a body that was not a problem.
	Body string `json:"-"`
}

// Error describes the failed request: "POST /v1/lists: 400 Invalid request:
// detail", then a line per field error.
func (e *Error) Error() string {
	var b strings.Builder
	title := e.Title
	if title == "" {
		title = http.StatusText(e.Status)
	}
	fmt.Fprintf(&b, "%s %s: %d %s", e.Method, e.Path, e.Status, title)
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	} else if e.Body != "" {
		fmt.Fprintf(&b, ": %s", e.Body)
	}
	for _, f := range e.Errors {
		fmt.Fprintf(&b, "\n  %s: %s", f.Field, f.Message)
	}
	if e.ReleaseID != "" {
		fmt.Fprintf(&b, "\n  (release %s was created)", e.ReleaseID)
	}
	return b.String()
}

// Is reports whether target is the sentinel error of e's status, so that
// errors.Is(err, client.ErrNotFound) holds for a 404.
func (e *Error) Is(target error) bool {
	status, ok := sentinels[target]
	return ok && status == e.Status
}

// Field returns the message of the first error about field, "" if none.
func (e *Error) Field(field string) string {
	for _, f := range e.Errors {
		if f.Field == field {
			return f.Message
		}
	}
	return ""
}

// newError reads an error answer: a problem when the body is one, else the
// start of the body.
func newError(method, path string, resp *http.Response, data []byte) *Error {
	e := &Error{Method: method, Path: path, Status: resp.StatusCode}
	if s, err := strconv.Atoi(resp.Header.Get("Retry-After")); err == nil && s > 0 {
		e.RetryAfter = time.Duration(s) * time.Second
	}
	mt, _, _ := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if mt == "application/problem+json" || mt == "application/json" {
		if json.Unmarshal(data, e) == nil && (e.Title != "" || e.Detail != "") {
			return e
		}
		*e = Error{Method: method, Path: path, Status: resp.StatusCode, RetryAfter: e.RetryAfter}
	}
	body := strings.TrimSpace(string(data))
	if len(body) > 200 {
		body = body[:200] + "…"
	}
	e.Body = body
	return e
}

// StatusOf returns the status of the *Error in err's chain, 0 if none.
func StatusOf(err error) int {
	var e *Error
	if errors.As(err, &e) {
		return e.Status
	}
	return 0
}

// IsNotFound reports whether err is a 404 answer.
func IsNotFound(err error) bool { return errors.Is(err, ErrNotFound) }

// IsConflict reports whether err is a 409 answer.
func IsConflict(err error) bool { return errors.Is(err, ErrConflict) }

// IsInvalid reports whether err is a 400 answer (see Error.Errors).
func IsInvalid(err error) bool { return errors.Is(err, ErrInvalid) }

// NetError is a request that got no answer: the server could not be
// reached, or the connection broke.
type NetError struct {
	Method, Path string
	BaseURL      string
	Err          error
}

// Error names the request, the server and what the transport said.
func (e *NetError) Error() string {
	return fmt.Sprintf("%s %s: cannot reach Pregón at %s: %v", e.Method, e.Path, e.BaseURL, e.Err)
}

// Unwrap returns the transport's error.
func (e *NetError) Unwrap() error { return e.Err }
