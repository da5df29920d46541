package email

import (
	"bytes"
	"crypto/ed25519"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/dispatcher"
)

// sameAsGoMail composes m with the header written by Compose (header.go)
// and by go-mail, and fails unless both give the same Rendered: the same
// bytes, Message-ID and envelope. It reports whether the fast path was
// taken.
func sameAsGoMail(t *testing.T, c *Composer, m *dispatcher.EmailMessage, date time.Time) bool {
	t.Helper()
	var fastBuf, slowBuf bytes.Buffer
	fast, fastErr := c.Compose(m, date, &fastBuf)
	slow, slowErr := c.composeGoMail(m, date, &slowBuf)
	if (fastErr == nil) != (slowErr == nil) || (fastErr != nil && fastErr.Error() != slowErr.Error()) {
		t.Fatalf("errors differ: Compose %v, go-mail %v", fastErr, slowErr)
	}
	if d := cmp.Diff(string(slow.Data), string(fast.Data)); d != "" {
		t.Fatalf("message differs from go-mail's (-go-mail +Compose):\n%s", d)
	}
	fast.Data, slow.Data = nil, nil
	if d := cmp.Diff(slow, fast); d != "" {
		t.Fatalf("Rendered differs from go-mail's (-go-mail +Compose):\n%s", d)
	}
	ok := fastHeader(m)
	if ok {
		var b bytes.Buffer
		_, _, ok = c.writeFastHeader(m, date, c.bodies.get(m.Content), &b)
	}
	return ok
}

func headerTestMessage(to dispatcher.Address, subject string) *dispatcher.EmailMessage {
	return &dispatcher.EmailMessage{
		DeliveryID: "d1", To: to,
		ReplyTo:   &dispatcher.Address{Name: "Lucía Gómez", Email: "lucia@rio-vivo.example"},
		MessageID: "rel1.d1@rio-vivo.example",
		Content: &dispatcher.EmailContent{Subject: subject, Text: "Hola.\n\n.Punto\n" + strings.Repeat("línea ", 40),
			HTML: "<p>Hola — ¿qué?</p>"},
		UnsubscribeURL: "https://pregon.example/u/abc",
		Headers: map[string]string{
			"List-Unsubscribe":      "<https://pregon.example/u/abc>",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click",
		},
	}
}

// TestFastHeaderMatchesGoMail: the header Compose writes itself is byte for
// byte go-mail's, over names, subjects and header values that go-mail
// encodes or folds, with and without Reply-To, a mailto: List-Unsubscribe,
// VERP and DKIM; the messages that go-mail writes preformatted go through
// go-mail.
func TestFastHeaderMatchesGoMail(t *testing.T) {
	date := time.Date(2026, 3, 3, 9, 0, 0, 0, time.FixedZone("CST", -6*3600))
	long := strings.Repeat("palabra ", 20)
	subjects := []string{"Comunicado", "Comunicado: “Cambiemos…” — la acción de las niñas de Ñuu Savi", long,
		strings.Repeat("x", 120), "  espacios  dobles  ", "", "ascii only subject that is quite long and will need folding somewhere after col 76"}
	// Words that end at every column around the fold.
	for i := range 90 {
		subjects = append(subjects, strings.Repeat("x", i)+" "+strings.Repeat("y", 60)+" z "+strings.Repeat("w", 75-i%76))
	}
	names := []string{"", "Ana", "Ana Pérez", "Periodista de \"El Diario\"", long, strings.Repeat("Ñ", 50), "a,b;c"}
	var fast, slow int
	for _, cfg := range []ComposeConfig{
		{From: dispatcher.Address{Name: "Coordinación “Río Vivo”", Email: "prensa@rio-vivo.example"}},
		{From: dispatcher.Address{Email: "prensa@rio-vivo.example"}, UnsubscribeMailto: "baja@rio-vivo.example"},
		{From: dispatcher.Address{Name: long, Email: "prensa@rio-vivo.example"}, EnvelopeSender: verp{}},
	} {
		c, err := NewComposer(cfg)
		if err != nil {
			t.Fatal(err)
		}
		for _, subject := range subjects {
			for _, name := range names {
				m := headerTestMessage(dispatcher.Address{Name: name, Email: "ana@example.org"}, subject)
				if sameAsGoMail(t, c, m, date) {
					fast++
				} else {
					slow++
				}
				m.ReplyTo = nil
				m.Headers["X-Campaign"] = long + "ñ"
				m.Headers["list-id"] = "mine"
				m.Headers["Precedence"] = "list"
				sameAsGoMail(t, c, m, date)
			}
		}
	}
	// Go through go-mail: preformatted names and subjects, no Message-ID,
	// invalid fields, no content.
	c, _ := NewComposer(ComposeConfig{From: dispatcher.Address{Email: "prensa@rio-vivo.example"}})
	for _, mod := range []func(*dispatcher.EmailMessage){
		func(m *dispatcher.EmailMessage) { m.To.Name = "=?utf-8?q?Evil?=" },
		func(m *dispatcher.EmailMessage) { m.To.Name = "back\\slash" },
		func(m *dispatcher.EmailMessage) { m.To.Name = "bad \xff utf-8" },
		func(m *dispatcher.EmailMessage) { m.Content.Subject = "=?utf-8?q?x?=" },
		func(m *dispatcher.EmailMessage) { m.To.Email = "not an address" },
		func(m *dispatcher.EmailMessage) { m.ReplyTo.Email = "not an address" },
		func(m *dispatcher.EmailMessage) { m.Headers["Bad Name"] = "x" },
		func(m *dispatcher.EmailMessage) { m.Headers["Subject"] = "x" },
		func(m *dispatcher.EmailMessage) { m.UnsubscribeURL = "javascript:alert(1)" },
		func(m *dispatcher.EmailMessage) { m.MessageID = "no-at-sign" },
	} {
		m := headerTestMessage(dispatcher.Address{Name: "Ana", Email: "ana@example.org"}, "Comunicado")
		mod(m)
		if sameAsGoMail(t, c, m, date) {
			t.Errorf("%+v: header written without go-mail", m)
		}
	}
	if fast == 0 || slow != 0 {
		t.Errorf("%d messages with the header written here, %d by go-mail; want all here", fast, slow)
	}
}

type verp struct{}

func (verp) EnvelopeSender(id string) string {
	return "b+" + strings.ReplaceAll(id, "@", "=") + "@bounces.example"
}

// TestFastHeaderWithDKIM: signed messages are the same too.
func TestFastHeaderWithDKIM(t *testing.T) {
	_, key, err := ed25519.GenerateKey(nil)
	if err != nil {
		t.Fatal(err)
	}
	d := &DKIM{Domain: "rio-vivo.example", Keys: []DKIMKey{{Selector: "s1", Signer: key}}}
	c, err := NewComposer(ComposeConfig{From: dispatcher.Address{Name: "Prensa", Email: "prensa@rio-vivo.example"}, DKIM: d})
	if err != nil {
		t.Fatal(err)
	}
	if !sameAsGoMail(t, c, headerTestMessage(dispatcher.Address{Name: "Ana Pérez", Email: "ana@example.org"}, "Comunicado"), time.Unix(1e9, 0)) {
		t.Error("signed message went through go-mail")
	}
}

// FuzzFastHeader: for any recipient name, subject, header value and link,
// the header Compose writes is go-mail's.
func FuzzFastHeader(f *testing.F) {
	f.Add("Ana Pérez", "Comunicado: “Cambiemos…”", "valor", "https://pregon.example/u/abc")
	f.Add(strings.Repeat("a ", 60), strings.Repeat("🙂 ", 40), strings.Repeat("=?x?= ", 20), "")
	f.Add("\"q\" <x@y>", "  ", "\r\n", "http://h/u?a=1&b=2")
	c, err := NewComposer(ComposeConfig{From: dispatcher.Address{Name: "Coordinación", Email: "prensa@rio-vivo.example"},
		UnsubscribeMailto: "baja@rio-vivo.example"})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, name, subject, value, link string) {
		m := headerTestMessage(dispatcher.Address{Name: name, Email: "ana@example.org"}, subject)
		m.Headers["X-Value"] = value
		m.UnsubscribeURL = link
		sameAsGoMail(t, c, m, time.Unix(1e9, 0).UTC())
	})
}
