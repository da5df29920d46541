package email_test

import (
	"bytes"
	"context"
	netmail "net/mail"
	"testing"
	"time"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/internal/smtptest"
)

// TestSendEmailDateFromClock checks that the Date header comes from
// Config.Now, the channel's one clock.
func TestSendEmailDateFromClock(t *testing.T) {
	srv := smtptest.Start(t)
	at := time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)
	c := newChannel(t, serverURL(srv), func(cfg *email.Config) { cfg.Now = func() time.Time { return at } })
	if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, wait)[0]
	msg, err := netmail.ReadMessage(bytes.NewReader(got.Data))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(at) {
		t.Errorf("Date = %v (%v), want %v", d, err, at)
	}
}
