package api

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// ProgressStore is what GET /v1/releases/{id}/events follows.
// *store.Store implements it.
type ProgressStore interface {
	// Progress returns a release's status and counts, or
	// dispatcher.ErrNotFound.
	Progress(ctx context.Context, id string) (dispatcher.ReleaseStatus, *dispatcher.Counts, error)
	// FailureLog returns up to limit entries of a release's failure log
	// after the entry after ("" for the first), oldest first.
	FailureLog(ctx context.Context, rid, after string, limit int) ([]dispatcher.Failure, error)
}

// Defaults of the event streams.
const (
	// DefaultEventPoll is how often a stream reads the release's progress:
	// at most this many counts events a second, and the delay of an event.
	DefaultEventPoll = 500 * time.Millisecond
	// DefaultEventHeartbeat is how often an idle stream sends a comment, so
	// that proxies and load balancers do not close it.
	DefaultEventHeartbeat = 15 * time.Second
	// eventWriteWindow is how long one write to a stream may take: each
	// write moves the connection's write deadline (http.Server's
	// WriteTimeout would otherwise end every stream after a minute), and a
	// client that stops reading is dropped after this long.
	eventWriteWindow = 30 * time.Second
	// eventRetry is the reconnection delay a stream suggests to clients, in
	// milliseconds.
	eventRetry = 2000
	// failurePage is how many failure log entries a stream reads at a time.
	failurePage = 200
)

// The events of GET /v1/releases/{id}/events.
const (
	eventCounts    = "counts"             // countsEvent, when the counts or status change
	eventFailure   = "failure"            // failureEvent, once for each delivery that fails
	eventTruncated = "failures_truncated" // truncatedEvent, after dispatcher.FailureLogMax failures
	eventFinal     = "final"              // the release, once it is final; the stream then ends
)

// countsEvent is the data of a "counts" event: the release's id, status and
// counts, as in the release resource.
type countsEvent struct {
	ID     string                   `json:"id"`
	Status dispatcher.ReleaseStatus `json:"status"`
	Counts *dispatcher.Counts       `json:"counts"`
}

// failureEvent is the data of a "failure" event: a delivery as it was when
// it failed.
type failureEvent struct {
	ID        string                    `json:"id"`
	Channel   dispatcher.ChannelKind    `json:"channel"`
	Recipient string                    `json:"recipient"`
	Language  string                    `json:"language"`
	Status    dispatcher.DeliveryStatus `json:"status"`
	LastError string                    `json:"last_error"`
	Attempts  int                       `json:"attempts"`
	FailedAt  time.Time                 `json:"failed_at"`
}

// truncatedEvent is the data of a "failures_truncated" event.
type truncatedEvent struct {
	Shown  int    `json:"shown"`
	Detail string `json:"detail"`
}

// releaseEvents handles GET /v1/releases/{id}/events: a text/event-stream
// of the release's progress until it is final. It sends the counts at once,
// then again whenever they change (read every s.eventPoll); a "failure" for
// each delivery that fails, in order, the first dispatcher.FailureLogMax of
// them; and "final" with the release once it is sent, sent with failures or
// cancelled, and ends. Failure events carry ids: a client that reconnects
// with Last-Event-ID gets the failures after that one (and the counts
// anew). An unknown release is a 404 problem before the stream starts.
//
// It polls Redis rather than subscribing: one short round trip per stream
// per interval, on the pool's connections, works behind any number of API
// processes, and misses nothing while a client is away, where pub/sub would
// hold a connection per stream and lose what was published meanwhile.
func (s *Server) releaseEvents(w http.ResponseWriter, r *http.Request) error {
	if s.progress == nil {
		return &Problem{Status: http.StatusNotImplemented, Detail: "This server does not stream release events."}
	}
	id := r.PathValue("id")
	after := r.Header.Get("Last-Event-ID")
	if after != "" && !streamID(after) {
		return invalid("Last-Event-ID must be the id of an event this endpoint sent.",
			FieldError{Field: "Last-Event-ID", Message: "is not an event id of this stream"})
	}
	ctx := r.Context()
	st, counts, err := s.progress.Progress(ctx, id)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/event-stream; charset=utf-8")
	h.Set("X-Accel-Buffering", "no") // nginx: pass each event on at once
	w.WriteHeader(http.StatusOK)
	es := &eventStream{w: w, rc: http.NewResponseController(w)}
	es.printf("retry: %d\n\n", eventRetry)
	last := es.counts(id, st, counts, nil)
	if es.flush() != nil {
		return nil
	}

	poll, beat := time.NewTicker(s.eventPoll), time.NewTicker(s.heartbeat)
	defer poll.Stop()
	defer beat.Stop()
	failing := false // the last read failed: log only the first of a series
	for {
		// The failure log is read after the status: once the status is
		// final, every failure is in the log and is sent before "final".
		after, err = s.sendFailures(ctx, es, id, after)
		if err == nil && final(st) {
			var rel *dispatcher.Release
			if rel, err = s.store.Release(ctx, id); err == nil && final(rel.Status) {
				es.counts(id, rel.Status, rel.Counts, last)
				es.event(eventFinal, "", present(rel))
				es.flush()
				return nil
			}
		}
		if err != nil && s.streamFailed(ctx, id, err, &failing) {
			return nil
		}
		last = es.counts(id, st, counts, last)
		if es.flush() != nil {
			return nil
		}
		select {
		case <-ctx.Done():
			return nil
		case <-beat.C:
			es.printf(": keep-alive\n\n")
			if es.flush() != nil {
				return nil
			}
			continue
		case <-poll.C:
		}
		nst, ncounts, err := s.progress.Progress(ctx, id)
		if err != nil && s.streamFailed(ctx, id, err, &failing) {
			return nil
		}
		if err == nil {
			st, counts, failing = nst, ncounts, false
		}
	}
}

// streamFailed handles an error of a stream's read of the store and
// reports whether the stream must end: when the client has gone, or on an
// error that is not a passing outage (the client then reconnects). While
// Redis is unavailable the stream goes on, and the next read will do:
// nothing is lost meanwhile. failing tells whether the read before failed
// too, so that an outage is logged once, not at every read.
func (s *Server) streamFailed(ctx context.Context, id string, err error, failing *bool) bool {
	switch {
	case ctx.Err() != nil:
		return true
	case !unavailable(err):
		s.log.ErrorContext(ctx, "release event stream ended", "release_id", id, "error", err)
		return true
	case !*failing:
		s.log.WarnContext(ctx, "release event stream: cannot read the release's progress; retrying", "release_id", id, "error", err)
	}
	*failing = true
	return false
}

// sendFailures sends the failure log entries after after and returns the
// id of the last one sent.
func (s *Server) sendFailures(ctx context.Context, es *eventStream, id, after string) (string, error) {
	for {
		fs, err := s.progress.FailureLog(ctx, id, after, failurePage)
		if err != nil {
			return after, err
		}
		for _, f := range fs {
			if f.More {
				es.event(eventTruncated, f.Seq, truncatedEvent{Shown: dispatcher.FailureLogMax,
					Detail: fmt.Sprintf("More than %d deliveries failed; the others are not sent as events: list them with GET /v1/releases/%s/deliveries?status=failed.",
						dispatcher.FailureLogMax, id)})
			} else {
				d := f.Delivery
				es.event(eventFailure, f.Seq, failureEvent{ID: d.ID, Channel: d.Channel, Recipient: d.Recipient, Language: d.Language,
					Status: d.Status, LastError: d.LastError, Attempts: d.Attempts, FailedAt: d.UpdatedAt})
			}
			after = f.Seq
		}
		if len(fs) < failurePage {
			return after, nil
		}
	}
}

// final reports whether nothing more happens to a release in status st.
func final(st dispatcher.ReleaseStatus) bool {
	return st == dispatcher.ReleaseSent || st == dispatcher.ReleaseSentWithFailures || st == dispatcher.ReleaseCancelled
}

// streamID reports whether s is a Redis stream id ("<ms>-<seq>", two
// 64-bit unsigned numbers), the ids of failure events.
func streamID(s string) bool {
	ms, seq, ok := strings.Cut(s, "-")
	return ok && decimal(ms) && decimal(seq)
}

// decimal reports whether s is an unsigned 64-bit number in plain digits.
func decimal(s string) bool {
	if s == "" || strings.TrimLeft(s, "0123456789") != "" {
		return false
	}
	_, err := strconv.ParseUint(s, 10, 64)
	return err == nil
}

// eventStream writes server-sent events. The first write error ends it:
// every later call does nothing, and flush returns the error.
type eventStream struct {
	w   io.Writer
	rc  *http.ResponseController
	err error
}

// printf writes raw text to the stream, first moving the write deadline.
func (e *eventStream) printf(format string, args ...any) {
	if e.err != nil {
		return
	}
	if err := e.rc.SetWriteDeadline(time.Now().Add(eventWriteWindow)); err != nil && !errors.Is(err, http.ErrNotSupported) {
		e.err = err
		return
	}
	_, e.err = fmt.Fprintf(e.w, format, args...)
}

// event writes one event whose data is v as JSON (one line: JSON
// escapes newlines inside strings).
func (e *eventStream) event(name, id string, v any) {
	data, err := json.Marshal(v)
	if err != nil {
		if e.err == nil {
			e.err = fmt.Errorf("encode %s event: %w", name, err)
		}
		return
	}
	e.raw(name, id, data)
}

// raw writes one event whose data is one line of text.
func (e *eventStream) raw(name, id string, data []byte) {
	if id != "" {
		e.printf("id: %s\n", id)
	}
	e.printf("event: %s\ndata: %s\n\n", name, data)
}

// counts writes a counts event unless its JSON equals last, and returns the
// JSON of the counts now shown.
func (e *eventStream) counts(id string, st dispatcher.ReleaseStatus, c *dispatcher.Counts, last []byte) []byte {
	if c == nil {
		c = dispatcher.NewCounts()
	}
	ev := countsEvent{ID: id, Status: st, Counts: c}
	data, err := json.Marshal(ev)
	if err != nil || string(data) == string(last) {
		return last
	}
	e.raw(eventCounts, "", data)
	return data
}

func (e *eventStream) flush() error {
	if e.err == nil {
		if err := e.rc.Flush(); err != nil && !errors.Is(err, http.ErrNotSupported) {
			e.err = err
		}
	}
	return e.err
}
