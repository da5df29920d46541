package api

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/testkit"
)

// newEventsAPI is the API on a real Redis serving release events over a
// real HTTP server, and a viewer's client of it.
func newEventsAPI(t *testing.T, mod ...func(*Config)) (*redisAPI, *httptest.Server, *client.Client) {
	t.Helper()
	a := newRedisAPI(t, append([]func(*Config){func(c *Config) {
		c.Progress = c.Store.(ProgressStore)
		c.EventPoll = 10 * time.Millisecond
	}}, mod...)...)
	hs := httptest.NewServer(a.srv)
	t.Cleanup(hs.Close)
	cl, err := client.New(hs.URL, viewerToken)
	if err != nil {
		t.Fatal(err)
	}
	return a, hs, cl
}

// failAll makes a draft release sending with one email delivery per
// address and fails them all, as workers would record it.
func failAll(t *testing.T, a *redisAPI, rid string, addrs []string) {
	t.Helper()
	ctx := context.Background()
	if _, err := a.store.SetReleaseStatus(ctx, rid, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	ds := make([]*dispatcher.Delivery, len(addrs))
	for i, addr := range addrs {
		ds[i] = &dispatcher.Delivery{ID: addr, Channel: dispatcher.ChannelEmail, Recipient: addr, Language: "es", Status: dispatcher.DeliveryQueued}
	}
	if _, err := a.store.CreateDeliveries(ctx, rid, ds); err != nil {
		t.Fatal(err)
	}
	for i := 0; i < len(addrs); i += 500 {
		chunk := addrs[i:min(i+500, len(addrs))]
		if c, _, err := a.store.ClaimDeliveries(ctx, rid, chunk, time.Now().Add(-time.Hour)); err != nil || len(c) != len(chunk) {
			t.Fatalf("claim: %d, %v", len(c), err)
		}
		outs := make([]dispatcher.Outcome, len(chunk))
		for j, id := range chunk {
			outs[j] = dispatcher.Outcome{ID: id, Status: dispatcher.DeliveryFailed, Error: "550 5.1.1 no such user"}
		}
		if _, _, err := a.store.FinishAndClaim(ctx, rid, outs, nil, time.Time{}); err != nil {
			t.Fatal(err)
		}
	}
}

// readUntilEOF reads a stream's events until it ends; it fails the test
// unless the stream ends with io.EOF.
func readUntilEOF(t *testing.T, es *client.EventStream, each func(*client.Event)) []*client.Event {
	t.Helper()
	var evs []*client.Event
	for {
		ev, err := es.Next()
		if errors.Is(err, io.EOF) {
			return evs
		}
		if err != nil {
			t.Fatalf("after %d events: %v", len(evs), err)
		}
		evs = append(evs, ev)
		if each != nil {
			each(ev)
		}
	}
}

// TestReleaseEventsFailureCap: a release where more deliveries failed than
// the failure log keeps streams its counts at once, the first
// dispatcher.FailureLogMax failures (each once, with ids), one event saying
// the rest are left out, and, once it is cancelled, the final release; then
// the stream ends. A stream resumed with Last-Event-ID sends only what
// followed that event.
func TestReleaseEventsFailureCap(t *testing.T) {
	a, _, cl := newEventsAPI(t)
	rid := a.newRelease(a.newList(), 200, nil)
	addrs := make([]string, dispatcher.FailureLogMax+2)
	for i := range addrs {
		addrs[i] = fmt.Sprintf("r%04d@example.org", i)
	}
	failAll(t, a, rid, addrs)

	ctx := context.Background()
	es, err := cl.Events(ctx, rid, "")
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	var failures []*client.Event
	cancelled := false
	evs := readUntilEOF(t, es, func(ev *client.Event) {
		switch ev.Type {
		case client.EventFailure:
			failures = append(failures, ev)
		case client.EventTruncated:
			if !cancelled {
				a.must("POST", "/v1/releases/"+rid+"/cancel", "", http.StatusOK, nil)
				cancelled = true
			}
		}
	})
	first := evs[0]
	if first.Type != client.EventCounts || first.Progress.Status != dispatcher.ReleaseSending ||
		first.Progress.Counts.ByStatus[dispatcher.DeliveryFailed] != int64(len(addrs)) {
		t.Fatalf("first event = %s %+v; want the counts: sending, %d failed", first.Type, first.Progress, len(addrs))
	}
	if len(failures) != dispatcher.FailureLogMax {
		t.Fatalf("%d failure events, want %d", len(failures), dispatcher.FailureLogMax)
	}
	for i, ev := range failures {
		f := ev.Failure
		if ev.ID == "" || f.ID != addrs[i] || f.Recipient != addrs[i] || f.Channel != dispatcher.ChannelEmail ||
			f.Status != dispatcher.DeliveryFailed || f.LastError != "550 5.1.1 no such user" || f.Attempts != 1 || f.Language != "es" {
			t.Fatalf("failure event %d = %q %+v; want %s failed once with its error", i, ev.ID, f, addrs[i])
		}
	}
	var types []string
	for _, ev := range evs {
		if ev.Type != client.EventFailure {
			types = append(types, ev.Type)
		}
	}
	// The cancellation changes the status, hence a counts event before the final one.
	if want := "counts failures_truncated counts final"; strings.Join(types, " ") != want {
		t.Errorf("events besides failures: %v, want %s", types, want)
	}
	last := evs[len(evs)-1]
	if last.Release == nil || last.Release.ID != rid || last.Release.Status != dispatcher.ReleaseCancelled || last.Release.Title == "" {
		t.Errorf("final event = %+v, want the cancelled release", last.Release)
	}

	// Resume after the last-but-one failure: one failure, the note, the final release.
	resume := failures[len(failures)-2].ID
	es2, err := cl.Events(ctx, rid, resume)
	if err != nil {
		t.Fatal(err)
	}
	defer es2.Close()
	types = nil
	for _, ev := range readUntilEOF(t, es2, nil) {
		types = append(types, ev.Type)
		if ev.Type == client.EventFailure && ev.Failure.ID != addrs[dispatcher.FailureLogMax-1] {
			t.Errorf("resumed failure = %s, want %s", ev.Failure.ID, addrs[dispatcher.FailureLogMax-1])
		}
	}
	if want := "counts failure failures_truncated final"; strings.Join(types, " ") != want {
		t.Errorf("resumed stream: %v, want %s", types, want)
	}
}

// TestReleaseEventsRefusals: an unknown release is a 404 problem and a
// malformed Last-Event-ID a 400, both before any stream; a server without a
// progress store answers 501.
func TestReleaseEventsRefusals(t *testing.T) {
	a, hs, cl := newEventsAPI(t)
	ctx := context.Background()
	if _, err := cl.Events(ctx, "rel_00000000000000000000000000", ""); !client.IsNotFound(err) {
		t.Errorf("unknown release: %v, want 404", err)
	}
	resp := testkit.Do(t, testkit.Request{Method: "GET", URL: hs.URL + "/v1/releases/rel_nope/events", Token: viewerToken})
	if resp.Status != http.StatusNotFound || !strings.HasPrefix(resp.Header.Get("Content-Type"), "application/problem+json") {
		t.Errorf("unknown release: %d %s, want a 404 problem", resp.Status, resp.Header.Get("Content-Type"))
	}
	rid := a.newRelease(a.newList(), 100, nil)
	for _, bad := range []string{"abc", "12-", "-3", "1-2-3", "1 2", "+1-2", "99999999999999999999-0"} {
		if _, err := cl.Events(ctx, rid, bad); !client.IsInvalid(err) {
			t.Errorf("Last-Event-ID %q: %v, want 400", bad, err)
		}
	}

	h := newHarness(t)
	w := h.do("GET", "/v1/releases/"+rid+"/events", viewerToken, "", "")
	if w.Code != http.StatusNotImplemented {
		t.Errorf("without a progress store: %d, want 501", w.Code)
	}
}

// TestReleaseEventsHeartbeatAndHangUp: an idle stream sends comments; when
// the client goes away the server ends the stream (its request is logged).
func TestReleaseEventsHeartbeatAndHangUp(t *testing.T) {
	a, hs, _ := newEventsAPI(t, func(c *Config) { c.EventHeartbeat = 5 * time.Millisecond })
	rid := a.newRelease(a.newList(), 100, nil)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, "GET", hs.URL+"/v1/releases/"+rid+"/events", nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+viewerToken)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); resp.StatusCode != 200 || !strings.HasPrefix(ct, "text/event-stream") {
		t.Fatalf("%d %s, want 200 text/event-stream", resp.StatusCode, ct)
	}
	lines := bufio.NewScanner(resp.Body)
	var seen []string
	for lines.Scan() {
		seen = append(seen, lines.Text())
		if lines.Text() == ": keep-alive" {
			break
		}
	}
	if len(seen) < 4 || seen[0] != "retry: 2000" || seen[2] != "event: counts" || !strings.HasPrefix(seen[3], `data: {"id":"`+rid+`","status":"draft","counts":{`) {
		t.Fatalf("stream began %q; want retry, then the counts at once", seen)
	}
	if seen[len(seen)-1] != ": keep-alive" {
		t.Fatalf("no heartbeat in %q", seen)
	}
	cancel()
	testkit.WaitFor(t, "the stream's request to end", 10*time.Second, 10*time.Millisecond, func() (bool, string) {
		return strings.Contains(a.logs.String(), `"pattern":"GET /v1/releases/{id}/events"`), a.logs.String()
	})
}
