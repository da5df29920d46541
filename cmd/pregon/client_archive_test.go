package main

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
)

// TestClientArchive: `pregon release archive ID` posts to the archive
// endpoint and says when the release was archived; a 409 is shown as the
// server put it.
func TestClientArchive(t *testing.T) {
	archived := strings.Replace(releaseJSON("R1", "sent", sentCounts), `"embargo_until":null`,
		`"embargo_until":null,"archived_at":"2026-12-05T10:00:00Z"`, 1)
	for _, tt := range []struct {
		name                string
		script              []exchange
		wantStdout, wantErr string
	}{
		{name: "archived", script: []exchange{{method: "POST", path: "/v1/releases/R1/archive", status: 200, resp: archived}},
			wantStdout: "release R1: sent, archived 2026-12-05 10:00 UTC (3 deliveries, read-only)\n"},
		{name: "not final", script: []exchange{problem(exchange{method: "POST", path: "/v1/releases/R1/archive"}, 409,
			"release R1 is sending: only a sent or cancelled release can be archived.")},
			wantErr: "409 Conflict: release R1 is sending: only a sent or cancelled release can be archived."},
	} {
		t.Run(tt.name, func(t *testing.T) {
			api := &fakeAPI{t: t, want: tt.script}
			srv := httptest.NewServer(api)
			defer srv.Close()
			env := map[string]string{"PREGON_API_URL": srv.URL + "/", "PREGON_TOKEN": "tok"}
			var stdout, stderr strings.Builder
			c := &cli{stdout: &stdout, stderr: &stderr, getenv: func(k string) string { return env[k] }, http: srv.Client(), poll: time.Millisecond}
			err := c.run(context.Background(), "release", []string{"archive", "R1"})
			if (tt.wantErr == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tt.wantErr)) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
			if stdout.String() != tt.wantStdout {
				t.Fatalf("stdout = %q, want %q", stdout.String(), tt.wantStdout)
			}
		})
	}
}
