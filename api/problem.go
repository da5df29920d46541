package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"strings"
	"syscall"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Problem types beyond "about:blank" (whose title is the HTTP status text).
const (
	// ProblemInvalid is the type of a 400 response: a body that is not valid
	// JSON or CSV, or fields that fail validation (listed in Errors).
	ProblemInvalid = "urn:pregon:problem:invalid-request"
)

// Problem is an RFC 9457 problem detail, the body of every error response
// (Content-Type application/problem+json). It is also an error, so that
// handlers can return it.
type Problem struct {
	Type   string       `json:"type"`
	Title  string       `json:"title"`
	Status int          `json:"status"`
	Detail string       `json:"detail"`
	Errors []FieldError `json:"errors"` // never null; empty but for validation errors
	// ReleaseID names a release that was created although the request failed
	// afterwards (POST /v1/releases with send: true).
	ReleaseID string `json:"release_id,omitempty"`
	// Checks are the pre-send checks that refused a send (ProblemChecks).
	Checks []dispatcher.Check `json:"checks,omitempty"`
	// Code and Args say the detail as a code and its values (ProblemCodes),
	// so that an interface can say it in its own language; absent for a
	// problem that has none. Detail stays the API's English word.
	Code string         `json:"code,omitempty"`
	Args map[string]any `json:"args,omitempty"`
	// retryAfter, in seconds, is sent as a Retry-After header (429, 503).
	retryAfter int
}

// FieldError says what is wrong with one field of a request. Field is a path
// like "title", "translations[0].language" or "audiences.lists[1]".
type FieldError struct {
	Field   string `json:"field"`
	Message string `json:"message"`
}

func (p *Problem) Error() string {
	if p.Detail != "" {
		return fmt.Sprintf("%d %s: %s", p.Status, p.Title, p.Detail)
	}
	return fmt.Sprintf("%d %s", p.Status, p.Title)
}

// ProblemCodes returns every code a problem can carry, each with the names
// of its values (numbers or strings), so that an interface (and its tests)
// can know them all. A code never changes meaning once published.
func ProblemCodes() map[string][]string {
	return map[string][]string{
		"not_found":   nil, // 404: nothing at the path, or no such Telegram channel
		"unavailable": nil, // 503: Redis is not answering
		"too_big":     {"max"},
		// Telegram channels
		"channel.bot_cannot_post": {"chat_id"}, "channel.not_pending": {"status"}, "channel.taken": {"chat_id"},
		// releases
		"release.version_conflict": {"current"}, "release.changed_while_checked": {"current", "checked"},
		"release.sending": nil, "release.cancelled": nil, "release.sent": nil,
		"release.own": nil, "release.needs_approval": {"version"},
		"release.checks_failed": nil, "release.approve_incomplete": {"version"}, "release.incomplete": nil,
		// corrections
		"correction.not_sent": nil, "correction.no_change": nil,
		// contacts
		"contact.not_found": nil,
	}
}

// coded gives p the problem code with its values, as name, value pairs.
func (p *Problem) coded(code string, kv ...any) *Problem {
	n := note(code, kv...)
	p.Code, p.Args = n.Code, n.Args
	return p
}

// invalid returns a 400 problem.
func invalid(detail string, errs ...FieldError) *Problem {
	return &Problem{Type: ProblemInvalid, Title: "Invalid request", Status: http.StatusBadRequest, Detail: detail, Errors: errs}
}

// fieldErrors collects validation errors.
type fieldErrors []FieldError

func (fe *fieldErrors) add(field, format string, args ...any) {
	*fe = append(*fe, FieldError{Field: field, Message: fmt.Sprintf(format, args...)})
}

// err returns a 400 problem listing the errors, or nil when there are none.
func (fe fieldErrors) err() error {
	switch len(fe) {
	case 0:
		return nil
	case 1:
		return invalid(fmt.Sprintf("%s: %s.", fe[0].Field, fe[0].Message), fe...)
	}
	names := make([]string, len(fe))
	for i, e := range fe {
		names[i] = e.Field
	}
	return invalid(fmt.Sprintf("%d fields are not valid: %s.", len(fe), strings.Join(names, ", ")), fe...)
}

// retryAfterUnavailable is the Retry-After, in seconds, of a 503 answered
// while the store is unavailable.
const retryAfterUnavailable = 5

// unavailable reports whether err says that Redis cannot serve now rather
// than that something is wrong with the request or the code: no connection
// (refused, reset, dropped), a timeout (the request's deadline, or a frozen
// server), a pool with no free connection, a closed client, or a server that
// is loading, busy, read-only, without a master, or out of memory.
func unavailable(err error) bool {
	var ne net.Error
	switch {
	case errors.As(err, &ne), errors.Is(err, context.DeadlineExceeded),
		errors.Is(err, io.EOF), errors.Is(err, io.ErrUnexpectedEOF),
		errors.Is(err, syscall.ECONNREFUSED), errors.Is(err, syscall.ECONNRESET), errors.Is(err, syscall.EPIPE),
		errors.Is(err, redis.ErrPoolTimeout), errors.Is(err, redis.ErrClosed):
		return true
	}
	return redis.IsLoadingError(err) || redis.IsReadOnlyError(err) || redis.IsMasterDownError(err) ||
		redis.IsTryAgainError(err) || redis.IsClusterDownError(err) || redis.IsMaxClientsError(err) ||
		redis.IsOOMError(err) || redis.IsNoReplicasError(err) || redis.HasErrorPrefix(err, "BUSY")
}

// fail writes the problem response for err: a *Problem as it is,
// dispatcher.ErrNotFound as 404, dispatcher.ErrConflict as 409, an oversized
// body as 413, Redis unavailable (see unavailable) as 503 with Retry-After,
// anything else as 500 (logged, not shown to the client).
func (s *Server) fail(w http.ResponseWriter, r *http.Request, err error) {
	var p *Problem
	var tooBig *http.MaxBytesError
	switch {
	case errors.As(err, &p):
	case errors.As(err, &tooBig):
		p = (&Problem{Status: http.StatusRequestEntityTooLarge,
			Detail: fmt.Sprintf("The request body is larger than %d bytes.", tooBig.Limit)}).coded("too_big", "max", tooBig.Limit)
	case errors.Is(err, dispatcher.ErrNotFound):
		p = (&Problem{Status: http.StatusNotFound, Detail: "Nothing was found at " + r.URL.Path + "."}).coded("not_found")
	case errors.Is(err, dispatcher.ErrConflict):
		p = &Problem{Status: http.StatusConflict, Detail: err.Error()}
	case unavailable(err):
		p = unavailableProblem()
	default:
		p = &Problem{Status: http.StatusInternalServerError}
	}
	if info := infoFrom(r.Context()); p.Status >= 500 && info.err == nil {
		info.err = err
	}
	writeProblem(w, p)
}

// unavailableProblem is the answer while the store is unavailable.
func unavailableProblem() *Problem {
	return (&Problem{Status: http.StatusServiceUnavailable, retryAfter: retryAfterUnavailable,
		Detail: "The service's database (Redis) is not answering, so this request may not have been carried out: check, then try again in a few seconds."}).coded("unavailable")
}

// writeProblem writes p, filling in the type and title of a bare status.
func writeProblem(w http.ResponseWriter, p *Problem) {
	if p.Type == "" {
		p.Type = "about:blank"
	}
	if p.Title == "" {
		p.Title = http.StatusText(p.Status)
	}
	if p.Detail == "" && p.Status == http.StatusInternalServerError {
		p.Detail = "Something went wrong on the server; it has been logged."
	}
	if p.Errors == nil {
		p.Errors = []FieldError{}
	}
	b, err := json.Marshal(p)
	if err != nil { // cannot happen: Problem holds only strings, numbers and checks
		b = []byte(`{"type":"about:blank","status":500}`)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	if p.retryAfter > 0 {
		w.Header().Set("Retry-After", strconv.Itoa(p.retryAfter))
	}
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
}

// writeJSON writes v as a JSON response with the given status.
func writeJSON(w http.ResponseWriter, status int, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Errorf("encode response: %w", err)
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	w.Write(append(b, '\n'))
	return nil
}
