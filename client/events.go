package client

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// The event types of a release's event stream.
const (
	EventCounts    = "counts"             // Event.Progress: the status and counts changed
	EventFailure   = "failure"            // Event.Failure: a delivery failed
	EventTruncated = "failures_truncated" // Event.Truncated: more failed than the stream shows
	EventFinal     = "final"              // Event.Release: the release is final; the stream ends
)

// EventIdleTimeout is how long an event stream may stay silent before
// Next gives up on it: the server sends a heartbeat every 15 seconds.
const EventIdleTimeout = 45 * time.Second

// maxEventBytes bounds one line of an event stream (a "final" event holds
// the whole release).
const maxEventBytes = 16 << 20

// Event is one event of a release's event stream. One of Progress,
// Failure, Truncated and Release is set, by Type; an event of a type this
// client does not know has only Type, ID and Data.
type Event struct {
	Type string
	// ID is the event's id: set on failure events, the point a stream
	// resumes from (see Events).
	ID string
	// Data is the event's data as sent, JSON.
	Data json.RawMessage

	Progress  *Progress
	Failure   *Failure
	Truncated *Truncated
	Release   *Release
}

// Progress is the data of a counts event: a release's status and counts.
type Progress struct {
	ID     string                   `json:"id"`
	Status dispatcher.ReleaseStatus `json:"status"`
	Counts Counts                   `json:"counts"`
}

// Failure is the data of a failure event: a delivery as it was when it
// failed (status failed, or uncertain when it may have gone out).
type Failure struct {
	ID        string                    `json:"id"`
	Channel   dispatcher.ChannelKind    `json:"channel"`
	Recipient string                    `json:"recipient"`
	Language  string                    `json:"language"`
	Status    dispatcher.DeliveryStatus `json:"status"`
	LastError string                    `json:"last_error"`
	Attempts  int                       `json:"attempts"`
	FailedAt  time.Time                 `json:"failed_at"`
}

// Truncated is the data of a failures_truncated event: the stream showed
// the first Shown failures and will show no more.
type Truncated struct {
	Shown  int    `json:"shown"`
	Detail string `json:"detail"`
}

// EventStream reads the events of one release (see Events). It is not safe
// for concurrent use.
type EventStream struct {
	path   string
	body   io.ReadCloser
	lines  *bufio.Scanner
	cancel context.CancelCauseFunc
	cause  func() error // why the request was cancelled (nil: it was not)
	idle   *time.Timer
	lastID string
	final  bool
}

// errIdle ends a stream that stayed silent for EventIdleTimeout.
var errIdle = fmt.Errorf("no event or heartbeat for %s", EventIdleTimeout)

// Events opens the event stream of a release: GET /v1/releases/{id}/events.
// lastEventID, when not "", resumes a broken stream after the event with
// that id (see EventStream.LastEventID): the failures already seen are not
// sent again. An unknown release is an *Error that IsNotFound reports; a
// server that cannot be reached a *NetError. Close the stream when done.
func (c *Client) Events(ctx context.Context, id, lastEventID string) (*EventStream, error) {
	path := "/v1/releases/" + pathID(id) + "/events"
	ctx, cancel := context.WithCancelCause(ctx)
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, c.base+path, nil)
	if err != nil {
		cancel(nil)
		return nil, fmt.Errorf("GET %s: %w", path, err)
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	req.Header.Set("Accept", "text/event-stream")
	req.Header.Set("User-Agent", c.userAgent)
	if lastEventID != "" {
		req.Header.Set("Last-Event-ID", lastEventID)
	}
	// A stream lasts as long as the release takes: no overall timeout (the
	// client's would cut it), but an idle one, below.
	hc := *c.http
	hc.Timeout = 0
	resp, err := hc.Do(req)
	if err != nil {
		// Asked before cancel, which would make every failure look like
		// a cancellation: only the caller's ending ctx is one.
		cerr := ctx.Err()
		cancel(nil)
		if cerr != nil {
			return nil, fmt.Errorf("GET %s: %w", path, cerr)
		}
		return nil, &NetError{Method: http.MethodGet, Path: path, BaseURL: c.base, Err: err}
	}
	if resp.StatusCode >= 300 {
		defer cancel(nil)
		defer resp.Body.Close()
		data, err := io.ReadAll(io.LimitReader(resp.Body, maxResponse))
		if err != nil {
			return nil, fmt.Errorf("GET %s: read response: %w", path, err)
		}
		return nil, newError(http.MethodGet, path, resp, data)
	}
	if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "text/event-stream") {
		cancel(nil)
		resp.Body.Close()
		return nil, fmt.Errorf("GET %s: the answer is %q, not an event stream", path, ct)
	}
	s := &EventStream{path: path, body: resp.Body, lines: bufio.NewScanner(resp.Body), cancel: cancel, lastID: lastEventID,
		cause: func() error { return context.Cause(ctx) }}
	s.lines.Buffer(make([]byte, 0, 64<<10), maxEventBytes)
	s.idle = time.AfterFunc(EventIdleTimeout, func() { cancel(errIdle) })
	return s, nil
}

// Next returns the next event. After the final event it returns io.EOF
// once the server has ended the stream; a stream that ends before its final
// event returns io.ErrUnexpectedEOF (reconnect with LastEventID to go on),
// and one that broke or stayed silent for EventIdleTimeout an error saying
// so.
func (s *EventStream) Next() (*Event, error) {
	var ev Event
	var data []string
	for s.lines.Scan() {
		s.idle.Reset(EventIdleTimeout)
		line := s.lines.Text()
		if line == "" {
			if len(data) == 0 { // no data: nothing to dispatch (a comment, a retry)
				ev = Event{}
				continue
			}
			if ev.Type == "" {
				ev.Type = "message"
			}
			ev.Data = json.RawMessage(strings.Join(data, "\n"))
			if err := s.decode(&ev); err != nil {
				return nil, err
			}
			return &ev, nil
		}
		if line[0] == ':' {
			continue // a comment: the heartbeat
		}
		field, value, _ := strings.Cut(line, ":")
		value = strings.TrimPrefix(value, " ")
		switch field {
		case "event":
			ev.Type = value
		case "data":
			data = append(data, value)
		case "id":
			if !strings.ContainsRune(value, 0) {
				ev.ID, s.lastID = value, value
			}
		}
	}
	err := s.lines.Err()
	if cause := s.cause(); cause != nil {
		err = cause
	}
	switch {
	case err == nil && s.final:
		return nil, io.EOF
	case err == nil:
		return nil, fmt.Errorf("GET %s: %w", s.path, io.ErrUnexpectedEOF)
	case errors.Is(err, errIdle):
		return nil, fmt.Errorf("GET %s: %w", s.path, err)
	}
	return nil, fmt.Errorf("GET %s: the stream broke: %w", s.path, err)
}

// decode fills the typed field of ev from its data.
func (s *EventStream) decode(ev *Event) error {
	var v any
	switch ev.Type {
	case EventCounts:
		ev.Progress = new(Progress)
		v = ev.Progress
	case EventFailure:
		ev.Failure = new(Failure)
		v = ev.Failure
	case EventTruncated:
		ev.Truncated = new(Truncated)
		v = ev.Truncated
	case EventFinal:
		ev.Release = new(Release)
		v = ev.Release
		s.final = true
	default:
		return nil
	}
	if err := json.Unmarshal(ev.Data, v); err != nil {
		return fmt.Errorf("GET %s: a %s event is not the JSON expected: %w", s.path, ev.Type, err)
	}
	return nil
}

// LastEventID returns the id of the last event read that had one ("" if
// none): pass it to Events to resume after a broken stream.
func (s *EventStream) LastEventID() string { return s.lastID }

// Close ends the stream.
func (s *EventStream) Close() error {
	s.idle.Stop()
	s.cancel(nil)
	return s.body.Close()
}
