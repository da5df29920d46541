package main

import (
	"testing"
)

// TestSuppressionsCLI: "pregon suppressions list" follows the pages and
// prints one line per address; "lift" deletes one and says what it was; a
// lift of an address that was not suppressed is an error.
func TestSuppressionsCLI(t *testing.T) {
	tests := []cliCase{
		{
			name: "list",
			args: []string{"suppressions", "list"},
			script: []exchange{
				{method: "GET", path: "/v1/suppressions", query: "limit=500", status: 200,
					resp: `{"items":[{"email":"ana@example.org","reason":"unsubscribed","at":"2026-02-04T16:00:00Z","source":"unsubscribe"}],"next_cursor":"c2"}`},
				{method: "GET", path: "/v1/suppressions", query: "cursor=c2&limit=500", status: 200,
					resp: `{"items":[{"email":"old@example.org","reason":"complaint","at":"0001-01-01T00:00:00Z","source":""}],"next_cursor":""}`},
			},
			wantStdout: "EMAIL            REASON        AT                    SOURCE\n" +
				"ana@example.org  unsubscribed  2026-02-04T16:00:00Z  unsubscribe\n" +
				"old@example.org  complaint     -                     -\n",
		},
		{
			name: "lift",
			args: []string{"suppressions", "lift", "gone@example.org"},
			script: []exchange{{method: "DELETE", path: "/v1/suppressions/gone@example.org", status: 200,
				resp: `{"email":"gone@example.org","reason":"hard_bounce","at":"2026-02-04T16:00:00Z","source":"rcpt"}`}},
			wantStdout: "lifted: gone@example.org (was hard_bounce since 2026-02-04T16:00:00Z, from rcpt)\n",
		},
		{
			name:    "lift of an address not suppressed",
			args:    []string{"suppressions", "lift", "ana@example.org"},
			script:  []exchange{problem(exchange{method: "DELETE", path: "/v1/suppressions/ana@example.org"}, 404, "not suppressed")},
			wantErr: "not suppressed",
		},
		{
			name:    "lift without an address",
			args:    []string{"suppressions", "lift"},
			wantErr: "EMAIL",
		},
	}
	runCLICases(t, tests)
}
