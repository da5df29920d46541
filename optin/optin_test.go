package optin_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/channels/outbox"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/internal/testkit"
	"github.com/pregon/pregon/links"
	"github.com/pregon/pregon/optin"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/store"
)

// TestMailerThroughOutbox sends a confirmation email where no SMTP server
// is configured: the outbox gets it, with a link that verifies for the
// address and list. Once the member is confirmed, or its address
// suppressed, a task that runs late sends nothing.
func TestMailerThroughOutbox(t *testing.T) {
	ctx := context.Background()
	clock := testkit.NewClock(time.Date(2026, 3, 1, 10, 0, 0, 0, time.UTC))
	st := store.New(redistest.Start(t).Client(t), clock.Now)
	signer, err := links.New([]byte("test-secret-0123456789abcdef"), "https://prensa.example.org", clock.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	dir := t.TempDir()
	box, err := outbox.New(outbox.Config{Dir: dir, Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	m, err := optin.New(optin.Config{Store: st, Email: box, Links: signer, MessageIDDomain: "coalicion.example", Now: clock.Now})
	if err != nil {
		t.Fatal(err)
	}
	l := &dispatcher.List{Name: "Boletín", Kind: dispatcher.ListSubscribers}
	if err := st.CreateList(ctx, l); err != nil {
		t.Fatal(err)
	}
	for _, e := range []string{"ana@example.org", "bob@example.org"} {
		if _, err := st.Subscribe(ctx, l.ID, dispatcher.Contact{Email: e, Name: "Ana <evil@example.net>"}); err != nil {
			t.Fatal(err)
		}
	}
	files := func() []string {
		t.Helper()
		fs, err := filepath.Glob(filepath.Join(dir, "email", "*.eml"))
		if err != nil {
			t.Fatal(err)
		}
		return fs
	}

	if err := m.SendConfirmation(ctx, queue.Confirmation{ListID: l.ID, Email: "ana@example.org", Language: "en"}); err != nil {
		t.Fatal(err)
	}
	fs := files()
	if len(fs) != 1 {
		t.Fatalf("outbox holds %v, want one email", fs)
	}
	data, err := os.ReadFile(fs[0])
	if err != nil {
		t.Fatal(err)
	}
	// Undo the quoted-printable soft breaks and "=" of the text part.
	msg := strings.NewReplacer("=\r\n", "", "=3D", "=").Replace(string(data))
	i := strings.Index(msg, "https://prensa.example.org/confirm/")
	if i < 0 {
		t.Fatalf("no confirmation link in:\n%s", data)
	}
	link := strings.Fields(msg[i:])[0]
	tok, ok := strings.CutSuffix(strings.TrimPrefix(link, "https://prensa.example.org/confirm/"), "?lang=en")
	if !ok {
		t.Errorf("link %s: want ?lang=en for an English sign-up", link)
	}
	c, err := signer.Verify(tok, links.PurposeConfirm)
	if err != nil || c.Email != "ana@example.org" || c.ReleaseID != l.ID {
		t.Errorf("link claims %+v, %v", c, err)
	}
	for _, bad := range []string{"evil@example.net", "Ana "} {
		if strings.Contains(msg, bad) {
			t.Errorf("the email holds the name typed (%q):\n%s", bad, data)
		}
	}
	for _, want := range []string{"To: <ana@example.org>", "Subject: =?UTF-8?q?Confirm_your_subscription:_Bolet=C3=ADn?=", "Auto-Submitted: auto-generated", "@coalicion.example>"} {
		if !strings.Contains(string(data), want) {
			t.Errorf("the email lacks %q:\n%s", want, data)
		}
	}

	// No longer due: Ana confirmed, Bob's address suppressed.
	if _, err := st.ConfirmMember(ctx, l.ID, "ana@example.org"); err != nil {
		t.Fatal(err)
	}
	if err := st.Suppress(ctx, "bob@example.org", "complaint"); err != nil {
		t.Fatal(err)
	}
	clock.Add(time.Minute)
	for _, e := range []string{"ana@example.org", "bob@example.org"} {
		if err := m.SendConfirmation(ctx, queue.Confirmation{ListID: l.ID, Email: e}); err != nil {
			t.Errorf("%s: %v", e, err)
		}
	}
	if fs := files(); len(fs) != 1 {
		t.Errorf("outbox holds %v, want only the first email", fs)
	}
}

// TestContentEscapes checks that the list's name is escaped in the HTML
// and that Spanish is the default language.
func TestContentEscapes(t *testing.T) {
	c := optin.Content(`Prensa <script>x</script>`, "https://prensa.example.org/confirm/abc?x=1&y=2", "fr")
	if strings.Contains(c.HTML, "<script>") || !strings.Contains(c.HTML, "&lt;script&gt;") || !strings.Contains(c.HTML, `href="https://prensa.example.org/confirm/abc?x=1&amp;y=2"`) {
		t.Errorf("HTML not escaped:\n%s", c.HTML)
	}
	if !strings.HasPrefix(c.Subject, "Confirme su suscripción") || !strings.Contains(c.Text, "https://prensa.example.org/confirm/abc?x=1&y=2\n") {
		t.Errorf("content %+v", c)
	}
}
