package email_test

import (
	"context"
	"testing"

	"github.com/pregon/pregon/internal/smtptest"
)

// TestConns checks the connection count: none before a send, the pooled one
// after, none after Close.
func TestConns(t *testing.T) {
	srv := smtptest.Start(t)
	c := newChannel(t, serverURL(srv), nil)
	if n := c.Conns(); n != 0 {
		t.Errorf("before any send: %d connections, want 0", n)
	}
	for range 2 {
		if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
			t.Fatal(err)
		}
	}
	if n := c.Conns(); n != 1 {
		t.Errorf("after two sends one after the other: %d connections, want the 1 pooled", n)
	}
	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if n := c.Conns(); n != 0 {
		t.Errorf("after Close: %d connections, want 0", n)
	}
}
