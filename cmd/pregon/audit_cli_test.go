package main

import (
	"bytes"
	"context"
	"strings"
	"testing"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestTokenCreateRefusedWhenNotAudited: a token whose creation cannot be
// recorded in the audit log is not handed out (here the log's head was
// deleted by hand, which stops the log rather than let it be overwritten).
func TestTokenCreateRefusedWhenNotAudited(t *testing.T) {
	ctx := context.Background()
	rs := redistest.Start(t)
	getenv := func(k string) string {
		if k == "PREGON_REDIS_URL" {
			return rs.URL()
		}
		return ""
	}
	st := store.New(rs.Client(t), nil)
	if err := st.AppendAudit(ctx, &audit.Entry{Actor: "ana", Action: audit.ListCreate, Target: "lst_1", Client: "local"}); err != nil {
		t.Fatal(err)
	}
	if err := rs.Client(t).Del(ctx, "pregon:{audit}:head").Err(); err != nil {
		t.Fatal(err)
	}
	var out, errb bytes.Buffer
	code := run(ctx, []string{"token", "create", "--name", "ana", "--role", "admin"}, &out, &errb, getenv)
	if code != 1 || out.Len() != 0 || !strings.Contains(errb.String(), "no token created") {
		t.Errorf("token create: exit %d, stdout %q, stderr %q; want 1, no token printed, and why", code, out.String(), errb.String())
	}
	toks, err := st.Tokens(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(toks) != 0 {
		t.Errorf("tokens stored: %+v, want none", toks)
	}
}
