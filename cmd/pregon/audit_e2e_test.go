package main

import (
	"bytes"
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/pregon/pregon/audit"
)

// TestAuditVerifyEndToEnd records changes made by the CLI on the server
// (token create, token revoke) and through the API, checks the chain with
// pregon audit verify, then tampers with the log in Redis as someone with
// access to it would: an edited entry and a deleted one are each named,
// with exit status 1.
func TestAuditVerifyEndToEnd(t *testing.T) {
	s := startService(t) // creates the admin token with the CLI: entry 1
	ctx := context.Background()
	pregon := func(args ...string) (stdout, stderr string, code int) {
		t.Helper()
		var out, errb bytes.Buffer
		env := func(k string) string {
			switch k {
			case "PREGON_API_URL":
				return s.url
			case "PREGON_TOKEN":
				return s.admin
			}
			return s.getenv(k)
		}
		code = run(ctx, args, &out, &errb, env)
		return out.String(), errb.String(), code
	}

	var l struct{ ID string }
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &l); code != 201 { // entry 2
		t.Fatalf("create list: %d", code)
	}
	s.token("viewer") // entry 3
	var tokens struct{ Items []struct{ ID, Role string } }
	s.do(s.admin, "GET", "/v1/tokens", "", nil, &tokens)
	var viewerID string
	for _, tok := range tokens.Items {
		if tok.Role == "viewer" {
			viewerID = tok.ID
		}
	}
	if _, stderr, code := pregon("token", "revoke", viewerID); code != 0 { // entry 4
		t.Fatalf("token revoke: %d %s", code, stderr)
	}

	out, stderr, code := pregon("audit", "verify")
	if code != 0 || !strings.HasPrefix(out, "audit chain intact: 4 entries\nhead: entry 4, hash ") {
		t.Fatalf("audit verify: exit %d, stdout %q, stderr %q; want 0 and an intact chain of 4", code, out, stderr)
	}

	out, stderr, code = pregon("audit", "list", "--oldest")
	if code != 0 {
		t.Fatalf("audit list: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 5 {
		t.Fatalf("audit list printed %d lines, want a header and 4:\n%s", len(lines), out)
	}
	actor := cliActor(s.getenv)
	for i, want := range [][]string{
		{"1", actor, string(audit.TokenCreate), "local"},
		{"2", "e2e-admin", string(audit.ListCreate), l.ID, "127.0.0.1"},
		{"3", actor, string(audit.TokenCreate), "local"},
		{"4", actor, string(audit.TokenRevoke), viewerID, "local"},
	} {
		fields := strings.Fields(lines[i+1])
		for _, w := range want {
			if !slices.Contains(fields, w) {
				t.Errorf("audit list line %d = %q, want %q in it", i+1, lines[i+1], w)
			}
		}
	}
	if !strings.HasPrefix(actor, "cli") {
		t.Errorf("the CLI's actor is %q, want cli:<user>", actor)
	}

	rdb := s.redis.Client(t)
	const entries = "pregon:{audit}:entries"
	stored, err := rdb.HGet(ctx, entries, "2").Result()
	if err != nil {
		t.Fatal(err)
	}
	if err := rdb.HSet(ctx, entries, "2", strings.Replace(stored, `"e2e-admin"`, `"someone-else"`, 1)).Err(); err != nil {
		t.Fatal(err)
	}
	out, stderr, code = pregon("audit", "verify")
	if code != 1 || !strings.HasPrefix(out, "audit chain broken at entry 2: entry 2 was altered") || !strings.Contains(stderr, "audit chain broken at entry 2") {
		t.Errorf("entry 2 edited: exit %d, stdout %q, stderr %q; want 1 and entry 2 named", code, out, stderr)
	}
	if err := rdb.HSet(ctx, entries, "2", stored).Err(); err != nil {
		t.Fatal(err)
	}
	if err := rdb.HDel(ctx, entries, "3").Err(); err != nil {
		t.Fatal(err)
	}
	out, _, code = pregon("audit", "verify")
	if code != 1 || !strings.HasPrefix(out, "audit chain broken at entry 3: entry 3 is missing: entry 4 follows entry 2") {
		t.Errorf("entry 3 deleted: exit %d, stdout %q; want 1 and entry 3 missing", code, out)
	}

	// Only an admin may read the log.
	viewer := s.token("viewer")
	_, stderr, code = pregon("audit", "verify", "--token", viewer)
	if code != 1 || !strings.Contains(stderr, "403") {
		t.Errorf("audit verify as a viewer: exit %d, stderr %q; want 1 and the 403", code, stderr)
	}
}
