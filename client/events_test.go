package client_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// streamServer answers GET /v1/releases/rel_1/events with body as an event
// stream, and records the Last-Event-ID it was sent.
func streamServer(t *testing.T, body string, lastID *string) *client.Client {
	t.Helper()
	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/v1/releases/rel_1/events" {
			problem(w, 404, `{"type":"about:blank","title":"Not Found","status":404,"detail":"no such release"}`)
			return
		}
		if r.Header.Get("Accept") != "text/event-stream" || r.Header.Get("Authorization") != "Bearer tok" {
			t.Errorf("request headers %v", r.Header)
		}
		*lastID = r.Header.Get("Last-Event-ID")
		w.Header().Set("Content-Type", "text/event-stream; charset=utf-8")
		io.WriteString(w, body)
	}))
	t.Cleanup(hs.Close)
	c, err := client.New(hs.URL, "tok")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

// TestEventsReader: the reader decodes each event type, skips comments and
// retry lines, joins multi-line data, keeps the last id, passes unknown
// event types through, and ends with io.EOF after the final event.
func TestEventsReader(t *testing.T) {
	body := "retry: 2000\n\n" +
		"event: counts\r\ndata: {\"id\":\"rel_1\",\"status\":\"sending\",\"counts\":{\"total\":2,\"sent\":1,\"queued\":1,\"by_channel\":{\"email\":{\"total\":2,\"sent\":1,\"queued\":1}}}}\r\n\r\n" +
		": keep-alive\n\n" +
		"id: 1700000000000-0\nevent: failure\ndata: {\"id\":\"d1\",\"channel\":\"email\",\"recipient\":\"x@example.org\",\n" +
		"data: \"language\":\"es\",\"status\":\"failed\",\"last_error\":\"550\",\"attempts\":1,\"failed_at\":\"2026-01-02T03:04:05Z\"}\n\n" +
		"event: something_new\ndata: {\"x\":1}\n\n" +
		"id: 1700000000000-1\nevent: failures_truncated\ndata: {\"shown\":1000,\"detail\":\"more\"}\n\n" +
		"event: final\ndata: {\"id\":\"rel_1\",\"status\":\"sent_with_failures\",\"title\":\"T\",\"counts\":{\"total\":2,\"sent\":1,\"failed\":1,\"by_channel\":{}}}\n\n"
	var sentID string
	c := streamServer(t, body, &sentID)
	es, err := c.Events(context.Background(), "rel_1", "1699999999999-0")
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	if sentID != "1699999999999-0" {
		t.Errorf("Last-Event-ID sent = %q", sentID)
	}
	var types []string
	for {
		ev, err := es.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("after %v: %v", types, err)
		}
		types = append(types, ev.Type)
		switch ev.Type {
		case client.EventCounts:
			if ev.Progress.Status != dispatcher.ReleaseSending || ev.Progress.Counts.ByChannel[dispatcher.ChannelEmail][dispatcher.DeliveryQueued] != 1 {
				t.Errorf("counts = %+v", ev.Progress)
			}
		case client.EventFailure:
			f := ev.Failure
			if ev.ID != "1700000000000-0" || f.Recipient != "x@example.org" || f.Language != "es" || f.LastError != "550" || f.FailedAt.IsZero() {
				t.Errorf("failure %q = %+v", ev.ID, f)
			}
		case "something_new":
			if string(ev.Data) != `{"x":1}` || ev.Progress != nil || ev.Release != nil {
				t.Errorf("unknown event = %+v", ev)
			}
		case client.EventTruncated:
			if ev.Truncated.Shown != 1000 {
				t.Errorf("truncated = %+v", ev.Truncated)
			}
		case client.EventFinal:
			if ev.Release.ID != "rel_1" || ev.Release.Status != dispatcher.ReleaseSentWithFailures || ev.Release.Counts.ByStatus[dispatcher.DeliveryFailed] != 1 {
				t.Errorf("final = %+v", ev.Release)
			}
		}
	}
	if got := strings.Join(types, " "); got != "counts failure something_new failures_truncated final" {
		t.Errorf("events %s", got)
	}
	if es.LastEventID() != "1700000000000-1" {
		t.Errorf("LastEventID = %q", es.LastEventID())
	}
}

// TestEventsReaderErrors: a stream that ends before its final event is
// io.ErrUnexpectedEOF; an answer that is not an event stream, or a problem,
// is an error before any event.
func TestEventsReaderErrors(t *testing.T) {
	var sentID string
	c := streamServer(t, "event: counts\ndata: {\"id\":\"rel_1\",\"status\":\"sending\",\"counts\":{}}\n\n", &sentID)
	es, err := c.Events(context.Background(), "rel_1", "")
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	if ev, err := es.Next(); err != nil || ev.Type != client.EventCounts {
		t.Fatalf("first = %+v, %v", ev, err)
	}
	if _, err := es.Next(); !errors.Is(err, io.ErrUnexpectedEOF) {
		t.Errorf("end before final: %v, want io.ErrUnexpectedEOF", err)
	}
	if _, err := c.Events(context.Background(), "rel_2", ""); !client.IsNotFound(err) {
		t.Errorf("unknown release: %v, want not found", err)
	}

	hs := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "application/json")
		io.WriteString(w, "{}")
	}))
	defer hs.Close()
	jc, _ := client.New(hs.URL, "tok")
	if _, err := jc.Events(context.Background(), "rel_1", ""); err == nil || !strings.Contains(err.Error(), "not an event stream") {
		t.Errorf("JSON answer: %v, want not an event stream", err)
	}
	// A bad event is an error, not a silent zero.
	bc := streamServer(t, "event: failure\ndata: {not json\n\n", &sentID)
	bs, err := bc.Events(context.Background(), "rel_1", "")
	if err != nil {
		t.Fatal(err)
	}
	defer bs.Close()
	if _, err := bs.Next(); err == nil || !strings.Contains(err.Error(), "failure event") {
		t.Errorf("bad data: %v", err)
	}
}
