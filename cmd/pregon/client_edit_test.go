package main

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
)

// TestReleaseEditAndApproveCommands runs the edit and approve commands
// against the API on a real Redis, with approval required, as two
// coordinators: ana writes and edits, luis approves.
func TestReleaseEditAndApproveCommands(t *testing.T) {
	ctx := context.Background()
	rdb := redistest.Start(t).Client(t)
	st := store.New(rdb, nil)
	for tok, name := range map[string]string{"pgn_ana": "ana", "pgn_luis": "luis"} {
		if err := st.CreateToken(ctx, auth.Hash(tok), &auth.Token{Name: name, Role: auth.RoleCoordinator}); err != nil {
			t.Fatal(err)
		}
	}
	renderer, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := dispatcher.NewService(dispatcher.Config{Store: st, Queue: queue.NewClient(rdb), Renderer: renderer, RequireApproval: true})
	if err != nil {
		t.Fatal(err)
	}
	h, err := api.New(api.Config{Store: st, Sender: svc, Previewer: renderer, Audit: st, RequireApproval: true})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(h)
	defer srv.Close()

	dir := t.TempDir()
	relFile := filepath.Join(dir, "rel.md")
	if err := os.WriteFile(relFile, []byte("---\ntitle: Dragado\nlanguage: es\n---\nTexto.\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(token string, args ...string) (string, error) {
		t.Helper()
		var stdout, stderr strings.Builder
		c := &cli{stdout: &stdout, stderr: &stderr, http: srv.Client(), poll: defaultPoll,
			getenv: func(k string) string { return map[string]string{"PREGON_API_URL": srv.URL, "PREGON_TOKEN": token}[k] }}
		err := c.run(ctx, args[0], args[1:])
		return stdout.String(), err
	}
	must := func(token string, args ...string) string {
		t.Helper()
		out, err := run(token, args...)
		if err != nil {
			t.Fatalf("%v: %v", args, err)
		}
		return out
	}
	list := strings.TrimSpace(must("pgn_ana", "list", "create", "--name", "Prensa", "--kind", "press"))
	contacts := filepath.Join(dir, "prensa.csv")
	if err := os.WriteFile(contacts, []byte("email,name\nmarta@diario.example,Marta\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	must("pgn_ana", "list", "import", list, contacts)
	id := strings.TrimSpace(must("pgn_ana", "release", "send", relFile, "--list", list, "--draft"))

	steps := []struct {
		token   string
		args    []string
		stdout  []string // substrings of stdout
		wantErr string   // a substring of the error
	}{
		{token: "pgn_ana", args: []string{"approve", id}, wantErr: `You wrote this release (as "ana")`},
		{token: "pgn_luis", args: []string{"approve", id}, stdout: []string{`approving version 1 of release ` + id + ` (draft): "Dragado" by ana`, "version 1 approved by luis"}},
		{token: "pgn_ana", args: []string{"edit", id, "--title", "Dragado suspendido", "--summary", "Las obras paran."},
			stdout: []string{"release " + id + ": version 2 (draft)", "approval withdrawn by this edit: luis approved version 1; version 2 needs a new approval",
				"pregon release approve " + id + " --version 2"}},
		{token: "pgn_ana", args: []string{"edit", id, "--title", "Dragado suspendido"}, stdout: []string{"nothing changed; it is still version 2"}},
		{token: "pgn_ana", args: []string{"edit", id, "-f", relFile, "--version", "1"}, wantErr: "at version 2, not 1"},
		{token: "pgn_ana", args: []string{"edit", id, "--title", ""}, wantErr: "title: is required"},
		{token: "pgn_ana", args: []string{"edit", id, "--embargo", "mañana"}, wantErr: "--embargo \"mañana\" is not an RFC 3339 time"},
		{token: "pgn_ana", args: []string{"edit", id}, wantErr: "nothing to change"},
		{token: "pgn_luis", args: []string{"approve", id, "--version", "1"}, wantErr: "at version 2, not 1"},
		{token: "pgn_ana", args: []string{"edit", id, "-f", relFile, "--embargo", "2030-01-02T09:00:00-06:00", "--version", "2"},
			stdout: []string{"version 3 (draft)"}},
		{token: "pgn_ana", args: []string{"send", id}, wantErr: "needs approval of version 3"},
		{token: "pgn_ana", args: []string{"send", id, "--list", list}, wantErr: "a draft is sent as it is"},
		{token: "pgn_luis", args: []string{"approve", id, "--version", "3"}, stdout: []string{"version 3 approved by luis"}},
		{token: "pgn_ana", args: []string{"send", id}, stdout: []string{id}},
	}
	for _, s := range steps {
		out, err := run(s.token, append([]string{"release"}, s.args...)...)
		switch {
		case s.wantErr != "" && (err == nil || !strings.Contains(err.Error(), s.wantErr)):
			t.Fatalf("%v: error %v, want one containing %q", s.args, err, s.wantErr)
		case s.wantErr == "" && err != nil:
			t.Fatalf("%v: %v", s.args, err)
		}
		for _, want := range s.stdout {
			if !strings.Contains(out, want) {
				t.Fatalf("%v: stdout\n%s\nwant it to contain %q", s.args, out, want)
			}
		}
	}
	rel, err := st.Release(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if rel.Title != "Dragado" || rel.Summary != "" || rel.EmbargoUntil == nil || rel.Version != 3 || rel.ApprovedVersion != 3 || rel.ApprovedBy != "luis" ||
		rel.Status != dispatcher.ReleaseScheduled || rel.ScheduledAt == nil || !rel.ScheduledAt.Equal(*rel.EmbargoUntil) {
		t.Fatalf("release at the end: %+v; want version 3 approved by luis, scheduled at its embargo", rel)
	}
}
