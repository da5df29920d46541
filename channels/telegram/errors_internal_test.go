package telegram

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// TestClassifyWhatWasWritten covers the cases of classify that depend on how
// far the request got, including those the fake cannot stage on demand.
func TestClassifyWhatWasWritten(t *testing.T) {
	// net/http's unexported errServerClosedIdle, as go-telegram/bot wraps it.
	closedIdle := fmt.Errorf("error do request for method sendMessage, %w",
		&url.Error{Op: "Post", URL: "http://x/bot***/sendMessage", Err: errors.New("http: server closed idle connection")})
	eof := fmt.Errorf("error do request for method sendMessage, %w", &url.Error{Op: "Post", URL: "http://x", Err: io.EOF})
	tests := []struct {
		name    string
		written bool
		status  int
		err     error
		want    string
	}{
		{"not written: connection refused", false, 0, errors.New("dial tcp: connection refused"), "transient"},
		{"not written: context cancelled", false, 0, context.Canceled, "transient"},
		{"written, no answer", true, 0, eof, "uncertain"},
		{"written, deadline", true, 0, context.DeadlineExceeded, "uncertain"},
		{"written, then cancelled", true, 0, context.Canceled, "uncertain"},
		{"written on a connection the server had closed while idle", true, 0, closedIdle, "transient"},
		{"written, 200 with an unreadable body", true, 200, eof, "uncertain"},
		{"written, 502 answered", true, 502, errors.New("error response from telegram for method sendMessage, 502 Bad Gateway"), "transient"},
		{"written, 503 with an unreadable body", true, 503, eof, "transient"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := &response{status: tt.status}
			r.written.Store(tt.written)
			err := classify("send", tt.err, r)
			got := "transient"
			switch {
			case dispatcher.IsPermanent(err):
				got = "permanent"
			case dispatcher.IsUncertain(err):
				got = "uncertain"
			}
			if got != tt.want {
				t.Errorf("classify = %v (%s), want %s", err, got, tt.want)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("classify = %v, does not wrap %v", err, tt.err)
			}
		})
	}
}
