package main

import (
	"testing"
)

// TestContactEraseCLI: "pregon contact erase" asks for --yes before it calls
// the API, then says what was done; "suppressions show" says why an address
// is suppressed, erasure included.
func TestContactEraseCLI(t *testing.T) {
	tests := []cliCase{
		{
			name:    "erase without --yes",
			args:    []string{"contact", "erase", "ana@example.org"},
			wantErr: "add --yes to confirm",
		},
		{
			name: "erase",
			args: []string{"contact", "erase", "ana@example.org", "--yes"},
			script: []exchange{{method: "POST", path: "/v1/contacts/ana@example.org/erase", status: 200,
				resp: `{"at":"2026-02-04T16:00:00Z","lists":2,"suppressed":1,"redacted":3,"sending":0,"email_hmac":"hmac-sha256:ab"}`}},
			wantStdout: "erased: taken off 2 lists; 1 queued delivery suppressed, 3 delivery records redacted\naudit: hmac-sha256:ab\n",
		},
		{
			name: "erase while sending",
			args: []string{"contact", "erase", "--yes", "ana@example.org"},
			script: []exchange{{method: "POST", path: "/v1/contacts/ana@example.org/erase", status: 200,
				resp: `{"at":"2026-02-04T16:00:00Z","lists":1,"suppressed":0,"redacted":0,"sending":1}`}},
			wantStdout: "erased: taken off 1 list; 0 queued deliveries suppressed, 0 delivery records redacted; 1 being sent at that moment (they may still go out)\naudit: -\n",
		},
		{
			name:    "erase refused (viewer token)",
			args:    []string{"contact", "erase", "ana@example.org", "--yes"},
			script:  []exchange{problem(exchange{method: "POST", path: "/v1/contacts/ana@example.org/erase"}, 403, "needs coordinator")},
			wantErr: "needs coordinator",
		},
		{
			name: "show an erased address",
			args: []string{"suppressions", "show", "ana@example.org"},
			script: []exchange{{method: "GET", path: "/v1/suppressions/ana@example.org", status: 200,
				resp: `{"email":"ana@example.org","reason":"erased","at":"2026-02-04T16:00:00Z","source":"request"}`}},
			wantStdout: "ana@example.org: erased on request since 2026-02-04T16:00:00Z\n",
		},
		{
			name: "show an unsubscribed address",
			args: []string{"suppressions", "show", "bob@example.org"},
			script: []exchange{{method: "GET", path: "/v1/suppressions/bob@example.org", status: 200,
				resp: `{"email":"bob@example.org","reason":"unsubscribed","at":"2026-02-04T16:00:00Z","source":"unsubscribe"}`}},
			wantStdout: "bob@example.org: unsubscribed since 2026-02-04T16:00:00Z, from unsubscribe\n",
		},
		{
			name:    "show an address that is mailed",
			args:    []string{"suppressions", "show", "cy@example.org"},
			script:  []exchange{problem(exchange{method: "GET", path: "/v1/suppressions/cy@example.org"}, 404, "not suppressed")},
			wantErr: "not suppressed",
		},
	}
	runCLICases(t, tests)
}
