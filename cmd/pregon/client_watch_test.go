package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/logging"
)

// progressOf decodes a counts event's data.
func progressOf(t *testing.T, data string) *client.Progress {
	t.Helper()
	var p client.Progress
	if err := json.Unmarshal([]byte(data), &p); err != nil {
		t.Fatal(err)
	}
	return &p
}

// TestWatchViewOnATerminal: on a terminal the watch draws a bar per channel
// and redraws the block in place; a failure is printed above the block,
// which is drawn again below it.
func TestWatchViewOnATerminal(t *testing.T) {
	var out bytes.Buffer
	v := newWatchView(&out, true)
	v.progress(progressOf(t, `{"id":"rel_1","status":"sending","counts":{"total":21,"by_channel":{
		"email":{"total":20,"sent":14,"failed":1,"queued":3,"retrying":2},"telegram":{"total":1,"queued":1}}}}`))
	block1 := "release rel_1: sending\n" +
		"  email     [██████████████████░░░░░░] 14 sent, 1 failed, 5 pending of 20\n" +
		"  telegram  [░░░░░░░░░░░░░░░░░░░░░░░░] 0 sent, 0 failed, 1 pending of 1\n"
	if out.String() != block1 {
		t.Fatalf("first drawing:\n%q\nwant\n%q", out.String(), block1)
	}
	out.Reset()
	v.failure(&client.Failure{Channel: dispatcher.ChannelEmail, Recipient: "x@example.org", Language: "es", Status: dispatcher.DeliveryFailed,
		Attempts: 1, LastError: "550 no such user"})
	want := "\x1b[3A\x1b[J" + "failed: email x@example.org (es), attempt 1: 550 no such user\n" + block1
	if out.String() != want {
		t.Fatalf("after a failure:\n%q\nwant\n%q", out.String(), want)
	}
	out.Reset()
	v.progress(progressOf(t, `{"id":"rel_1","status":"sent_with_failures","counts":{"total":21,"by_channel":{
		"email":{"total":20,"sent":18,"failed":1,"suppressed":1},"telegram":{"total":1,"sent":1}}}}`))
	want = "\x1b[3A\x1b[J" + "release rel_1: sent_with_failures\n" +
		"  email     [████████████████████████] 18 sent, 1 failed, 0 pending, 1 other of 20\n" +
		"  telegram  [████████████████████████] 1 sent, 0 failed, 0 pending of 1\n"
	if out.String() != want {
		t.Fatalf("final drawing:\n%q\nwant\n%q", out.String(), want)
	}
	// The same counts again (the final event repeats them) draw nothing.
	out.Reset()
	v.progress(progressOf(t, `{"id":"rel_1","status":"sent_with_failures","counts":{"total":21,"by_channel":{
		"email":{"total":20,"sent":18,"failed":1,"suppressed":1},"telegram":{"total":1,"sent":1}}}}`))
	if out.Len() != 0 {
		t.Errorf("repeated counts drew %q", out.String())
	}
}

// TestWatchViewPlain: elsewhere, one line per change and per failure, with
// no escape sequences.
func TestWatchViewPlain(t *testing.T) {
	var out bytes.Buffer
	v := newWatchView(&out, false)
	v.progress(progressOf(t, `{"id":"rel_1","status":"draft","counts":{"total":0,"by_channel":{}}}`))
	v.progress(progressOf(t, `{"id":"rel_1","status":"sending","counts":{"total":2,"by_channel":{"email":{"total":2,"sent":1,"queued":1}}}}`))
	v.failure(&client.Failure{Channel: dispatcher.ChannelEmail, Recipient: "x@example.org", Language: "en", Status: dispatcher.DeliveryUncertain,
		Attempts: 2, LastError: "connection dropped"})
	v.note("More than 1000 deliveries failed")
	want := "release rel_1: draft\n" +
		"release rel_1: sending; email 1 sent, 0 failed, 1 pending of 2\n" +
		"uncertain: email x@example.org (en), attempt 2: connection dropped\n" +
		"note: More than 1000 deliveries failed\n"
	if out.String() != want {
		t.Errorf("output:\n%q\nwant\n%q", out.String(), want)
	}
	if logging.IsTerminal(&out) || strings.Contains(out.String(), "\x1b") {
		t.Error("a buffer was taken for a terminal")
	}
}

// TestWatchResult: only a release that ended sent is a success.
func TestWatchResult(t *testing.T) {
	for st, wantErr := range map[dispatcher.ReleaseStatus]string{
		dispatcher.ReleaseSent:             "",
		dispatcher.ReleaseSentWithFailures: "ended sent_with_failures",
		dispatcher.ReleaseCancelled:        "was cancelled",
	} {
		err := watchResult(&client.Release{Release: dispatcher.Release{ID: "rel_1", Status: st}})
		if (err == nil) != (wantErr == "") || (err != nil && !strings.Contains(err.Error(), wantErr)) {
			t.Errorf("%s: %v, want %q", st, err, wantErr)
		}
	}
}

// TestWatchResumes: when the stream breaks before the final event, the
// watch reconnects with the id of the last event it read, and goes on from
// there; a stream that keeps breaking is given up after watchRetries tries.
func TestWatchResumes(t *testing.T) {
	var requests []string
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		requests = append(requests, r.Header.Get("Last-Event-ID"))
		w.Header().Set("Content-Type", "text/event-stream")
		counts := `event: counts` + "\n" + `data: {"id":"R1","status":"sending","counts":{"total":2,"by_channel":{"email":{"total":2,"queued":1,"failed":1}}}}` + "\n\n"
		switch {
		case strings.HasPrefix(r.URL.Path, "/broken/"): // always breaks
			io.WriteString(w, counts)
		case r.Header.Get("Last-Event-ID") == "": // breaks after one failure
			io.WriteString(w, counts+"id: 5-0\nevent: failure\n"+`data: {"id":"d1","channel":"email","recipient":"a@example.org","language":"es","status":"failed","last_error":"550","attempts":1}`+"\n\n")
		case r.Header.Get("Last-Event-ID") == "5-0":
			io.WriteString(w, counts+"event: final\n"+`data: {"id":"R1","status":"sent_with_failures","counts":{"total":2,"by_channel":{"email":{"total":2,"sent":1,"failed":1}}}}`+"\n\n")
		}
	}))
	defer srv.Close()
	var stdout, stderr strings.Builder
	c := &cli{stdout: &stdout, stderr: &stderr, http: srv.Client(), poll: time.Millisecond,
		getenv: func(k string) string { return map[string]string{"PREGON_API_URL": srv.URL, "PREGON_TOKEN": "tok"}[k] }}
	err := c.run(context.Background(), "release", []string{"status", "R1", "--watch"})
	if err == nil || !strings.Contains(err.Error(), "release R1 ended sent_with_failures") {
		t.Fatalf("err = %v, want the release's end", err)
	}
	if fmt.Sprint(requests) != "[ 5-0]" {
		t.Errorf("Last-Event-ID of each request: %q, want none, then 5-0", requests)
	}
	want := "release R1: sending; email 0 sent, 1 failed, 1 pending of 2\n" +
		"failed: email a@example.org (es), attempt 1: 550\n" +
		"release R1: sent_with_failures; email 1 sent, 1 failed, 0 pending of 2\n"
	if stdout.String() != want {
		t.Errorf("stdout:\n%s\nwant\n%s", stdout.String(), want)
	}
	if !strings.Contains(stderr.String(), "the event stream broke") {
		t.Errorf("stderr = %q, want a note of the reconnection", stderr.String())
	}

	// A stream that always breaks: given up.
	requests = nil
	stdout.Reset()
	err = c.run(context.Background(), "release", []string{"status", "R1", "--watch", "--api-url", srv.URL + "/broken"})
	if err == nil || len(requests) != watchRetries+1 {
		t.Errorf("always broken: %v after %d requests, want an error after %d", err, len(requests), watchRetries+1)
	}
}

// TestWatchUnreachable: --watch against an address where nothing listens
// says at once that the server cannot be reached, with the address and the
// transport's error, and exits non-zero; not "context canceled".
func TestWatchUnreachable(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	url := "http://" + ln.Addr().String()
	ln.Close() // nothing listens there now: connection refused
	env := map[string]string{"PREGON_API_URL": url, "PREGON_TOKEN": "tok"}
	var stdout, stderr bytes.Buffer
	code := run(context.Background(), []string{"release", "status", "rel_x", "--watch"}, &stdout, &stderr, func(k string) string { return env[k] })
	msg := stderr.String()
	if code == 0 || !strings.Contains(msg, "cannot reach Pregón at "+url) || !strings.Contains(msg, "refused") {
		t.Errorf("exit %d, stderr %q; want non-zero, the address %s and the connection refused", code, msg, url)
	}
	if strings.Contains(msg, "context canceled") || strings.Contains(msg, "reconnecting") {
		t.Errorf("stderr %q: want no cancellation and no reconnection to a server never reached", msg)
	}
}
