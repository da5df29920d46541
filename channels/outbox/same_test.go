package outbox_test

import (
	"bytes"
	"context"
	"crypto/ed25519"
	"crypto/rand"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/channels/outbox"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/smtptest"
)

// sameMessage is a message whose body has lines that SMTP dot-stuffs.
func sameMessage() *dispatcher.EmailMessage {
	m := message("d1", "Comunicado: “Cambiemos…”")
	m.Content.Text = "Primera línea.\n.Una línea que empieza con un punto.\n.\nFin.\n"
	m.Content.HTML = "<p>Primera línea.</p>\n.<p>punto</p>\n"
	m.UnsubscribeURL = "https://pregon.example/u/TOKEN1"
	m.Headers["List-Unsubscribe-Post"] = "List-Unsubscribe=One-Click"
	return m
}

// sendBoth sends m through the email channel to an SMTP server and through
// an outbox, both configured with dk and the same clock, and returns what
// the server received and what the outbox wrote.
func sendBoth(t *testing.T, dk *email.DKIM, m *dispatcher.EmailMessage) (smtp, file []byte) {
	t.Helper()
	now := func() time.Time { return time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC) }
	srv := smtptest.Start(t)
	ch, err := email.New(email.Config{URL: "smtp://" + srv.Addr + "?tls=none", From: from, DKIM: dk,
		UnsubscribeMailto: "baja@rio-vivo.example", Now: now, Timeout: 10 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	defer ch.Close()
	o, err := outbox.New(outbox.Config{Dir: t.TempDir(), From: from, DKIM: dk,
		UnsubscribeMailto: "baja@rio-vivo.example", Now: now})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := ch.SendEmail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	if _, err := o.SendEmail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	got := srv.WaitFor(t, 1, 10*time.Second)
	file, err = os.ReadFile(filepath.Join(o.Dir(), "email", m.DeliveryID+".eml"))
	if err != nil {
		t.Fatal(err)
	}
	return got[0].Data, file
}

// The outbox writes byte for byte what the SMTP server receives (SMTP's
// dot-stuffing undone by the server).
func TestOutboxWritesWhatSMTPSends(t *testing.T) {
	smtp, file := sendBoth(t, nil, sameMessage())
	if !bytes.Equal(smtp, file) {
		t.Errorf("the outbox wrote\n%s\nSMTP sent\n%s", file, smtp)
	}
	for _, s := range []string{"List-Id: <pregon.rio-vivo.example>\r\n", "Precedence: bulk\r\n",
		"\r\n.Una l=C3=ADnea", "\r\n.\r\n"} {
		if !bytes.Contains(file, []byte(s)) {
			t.Errorf("the message lacks %q:\n%s", s, file)
		}
	}
}

// With DKIM both are signed, and verify (the signatures' t= may differ by a
// second, so the bytes are compared without them).
func TestOutboxSignsAsSMTP(t *testing.T) {
	_, key, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dk := &email.DKIM{Domain: "rio-vivo.example", Keys: []email.DKIMKey{{Selector: "ed", Signer: key}}}
	smtp, file := sendBoth(t, dk, sameMessage())
	record := email.DKIMRecord(key)
	for name, msg := range map[string][]byte{"smtp": smtp, "outbox": file} {
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
			LookupTXT: func(string) ([]string, error) { return []string{record}, nil },
		})
		if err != nil || len(vs) != 1 || vs[0].Err != nil {
			t.Errorf("%s: verification %v %v", name, err, vs)
		}
	}
	if a, b := afterSignature(smtp), afterSignature(file); !bytes.Equal(a, b) {
		t.Errorf("the outbox wrote\n%s\nSMTP sent\n%s", b, a)
	}
}

// afterSignature returns msg without its leading DKIM-Signature field.
func afterSignature(msg []byte) []byte {
	i := 0
	for {
		j := bytes.Index(msg[i:], []byte("\r\n"))
		if j < 0 {
			return nil
		}
		i += j + 2
		if i < len(msg) && msg[i] != ' ' && msg[i] != '\t' {
			return msg[i:]
		}
	}
}
