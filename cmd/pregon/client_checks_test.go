package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/logging"
)

// okChecks is a checklist with a warning and no error.
const okChecks = `[{"name":"languages","level":"ok","message":"Every recipient has a version in their language (es, en)."},
	{"name":"links","level":"warning","message":"1 of 2 links may be broken: https://example.org/x (answered 404 Not Found)."}]`

// badChecks is a checklist with an error.
const badChecks = `[{"name":"embargo","level":"ok","message":"No embargo."},
	{"name":"audiences","level":"error","message":"No one would receive the release: its lists have no members."},
	{"name":"links","level":"warning","message":"1 of 1 link did not answer."}]`

func TestClientChecks(t *testing.T) {
	file := filepath.Join(t.TempDir(), "rel.md")
	if err := os.WriteFile(file, []byte("---\ntitle: T\nlanguage: es\n---\nB\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	create := exchange{method: "POST", path: "/v1/releases", status: 201, resp: releaseJSON("R5", "draft", ""),
		json: `{"title":"T","body":"B","language":"es","audiences":{"lists":["L1"],"telegram_channels":[]},"send":false}`}
	tests := []cliCase{
		{
			name:   "release checks",
			args:   []string{"release", "checks", "R1"},
			script: []exchange{{method: "GET", path: "/v1/releases/R1/checks", status: 200, resp: okChecks}},
			wantStdout: "ok       languages  Every recipient has a version in their language (es, en).\n" +
				"warning  links      1 of 2 links may be broken: https://example.org/x (answered 404 Not Found).\n",
		},
		{
			name:   "release checks with an error",
			args:   []string{"release", "checks", "R1"},
			script: []exchange{{method: "GET", path: "/v1/releases/R1/checks", status: 200, resp: badChecks}},
			wantStdout: "ok       embargo    No embargo.\n" +
				"error    audiences  No one would receive the release: its lists have no members.\n" +
				"warning  links      1 of 1 link did not answer.\n",
			wantErr: "release R1 cannot be sent: the audiences check is an error",
		},
		{
			name:    "release checks of an unknown release",
			args:    []string{"release", "checks", "R9"},
			script:  []exchange{problem(exchange{method: "GET", path: "/v1/releases/R9/checks"}, 404, "Nothing was found at /v1/releases/R9/checks.")},
			wantErr: "404 Not Found",
		},
		{
			name:       "release send stops on a check that is an error",
			args:       []string{"release", "send", file, "--list", "L1"},
			script:     []exchange{create, {method: "GET", path: "/v1/releases/R5/checks", status: 200, resp: badChecks}},
			wantStdout: "R5\n",
			wantStderr: "error    audiences  No one would receive the release: its lists have no members.\n",
			wantErr:    "release R5 was saved as a draft and not sent: the audiences check is an error",
		},
		{
			name: "release send refused by the server all the same",
			args: []string{"release", "send", file, "--list", "L1"},
			script: []exchange{create, {method: "GET", path: "/v1/releases/R5/checks", status: 200, resp: okChecks},
				{method: "POST", path: "/v1/releases/R5/send", json: `{}`, status: 409, respType: "application/problem+json",
					resp: `{"type":"urn:pregon:problem:checks-failed","title":"A pre-send check failed","status":409,` +
						`"detail":"The release cannot be sent while a pre-send check is an error. embargo: The embargo has already passed.",` +
						`"checks":[{"name":"embargo","level":"error","message":"The embargo has already passed."}]}`}},
			wantStdout: "R5\n",
			wantErr:    "409 A pre-send check failed: The release cannot be sent while a pre-send check is an error. embargo: The embargo has already passed.",
		},
		{
			name: "release send to a server without checks",
			args: []string{"release", "send", file, "--list", "L1"},
			script: []exchange{create, problem(exchange{method: "GET", path: "/v1/releases/R5/checks"}, 404, "There is no such endpoint."),
				{method: "POST", path: "/v1/releases/R5/send", json: `{}`, status: 202, resp: releaseJSON("R5", "sending", "")}},
			wantStdout: "R5\n",
			wantStderr: "note: the server gave no pre-send checklist",
		},
		{
			name:       "release send --draft reads no checklist",
			args:       []string{"release", "send", file, "--list", "L1", "--draft"},
			script:     []exchange{create},
			wantStdout: "R5\n",
		},
	}
	runCLICases(t, tests)
}

// TestPrintChecksOnATerminal: on a terminal the marks are ✓ ! ✗; a file
// is no terminal.
func TestPrintChecksOnATerminal(t *testing.T) {
	var b strings.Builder
	checks := []dispatcher.Check{{Name: "embargo", Level: "ok", Message: "No embargo."},
		{Name: "audiences", Level: "error", Message: "No one."}, {Name: "links", Level: "warning", Message: "A link."}}
	if err := printChecks(&b, checks, true); err != nil {
		t.Fatal(err)
	}
	if want := "✓  embargo    No embargo.\n✗  audiences  No one.\n!  links      A link.\n"; b.String() != want {
		t.Errorf("printed:\n%s\nwant:\n%s", b.String(), want)
	}
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if logging.IsTerminal(f) {
		t.Error("a file is taken for a terminal")
	}
}
