package main

import (
	"bytes"
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestTokenCommands creates two tokens with the CLI (one expiring), lists
// them, revokes one, and checks each step in Redis.
func TestTokenCommands(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	getenv := func(k string) string {
		if k == "PREGON_REDIS_URL" {
			return rs.URL()
		}
		return ""
	}
	st := store.New(rs.Client(t), nil)
	pregon := func(args ...string) (stdout, stderr string, code int) {
		var out, errb bytes.Buffer
		code = run(ctx, args, &out, &errb, getenv)
		return out.String(), errb.String(), code
	}

	before := time.Now()
	adminSecret, stderr, code := pregon("token", "create", "--name", "ana", "--role", "admin")
	if code != 0 {
		t.Fatalf("token create: exit %d: %s", code, stderr)
	}
	ciSecret, stderr, code := pregon("token", "create", "--name", "ci", "--role", "viewer", "--expires", "720h")
	if code != 0 {
		t.Fatalf("token create --expires: exit %d: %s", code, stderr)
	}
	adminSecret, ciSecret = strings.TrimSpace(adminSecret), strings.TrimSpace(ciSecret)
	admin, err := st.Token(ctx, auth.Hash(adminSecret))
	if err != nil || admin.Role != auth.RoleAdmin || admin.ExpiresAt != nil {
		t.Fatalf("admin token = %+v, %v; want an admin that never expires", admin, err)
	}
	ci, err := st.Token(ctx, auth.Hash(ciSecret))
	if err != nil || ci.ExpiresAt == nil {
		t.Fatalf("ci token = %+v, %v; want one that expires", ci, err)
	}
	if d := ci.ExpiresAt.Sub(before); d < 720*time.Hour-time.Second || d > 720*time.Hour+time.Minute {
		t.Errorf("ci token expires %v after its creation, want 720h", d)
	}

	out, stderr, code := pregon("token", "list")
	if code != 0 {
		t.Fatalf("token list: exit %d: %s", code, stderr)
	}
	lines := strings.Split(strings.TrimSpace(out), "\n")
	if len(lines) != 3 || !strings.HasPrefix(lines[0], "ID") ||
		!strings.Contains(lines[1], admin.ID) || !strings.Contains(lines[1], "never") ||
		!strings.Contains(lines[2], ci.ID) || !strings.Contains(lines[2], ci.ExpiresAt.Format(time.RFC3339)) {
		t.Errorf("token list printed:\n%s", out)
	}
	for _, s := range []string{adminSecret, ciSecret, auth.Hash(adminSecret), auth.Hash(ciSecret)} {
		if strings.Contains(out, s) {
			t.Errorf("token list shows a secret or a hash:\n%s", out)
		}
	}

	if _, stderr, code := pregon("token", "revoke", ci.ID); code != 0 {
		t.Fatalf("token revoke: exit %d: %s", code, stderr)
	}
	if _, err := st.Token(ctx, auth.Hash(ciSecret)); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("revoked token = %v, want ErrNotFound", err)
	}
	if _, stderr, code := pregon("token", "revoke", ci.ID); code != 1 || !strings.Contains(stderr, "not found") {
		t.Errorf("revoking again: exit %d, %q; want 1 and not found", code, stderr)
	}

	for _, bad := range [][]string{
		{"token"},
		{"token", "create", "--name", "x"},
		{"token", "create", "--name", "x", "--role", "root"},
		{"token", "create", "--name", "x", "--role", "viewer", "--expires", "-1h"},
		{"token", "create", "--name", "x", "--role", "viewer", "--expires", "soon"},
		{"token", "revoke"},
		{"token", "rotate"},
	} {
		if _, _, code := pregon(bad...); code == 0 {
			t.Errorf("pregon %q succeeded", bad)
		}
	}
}
