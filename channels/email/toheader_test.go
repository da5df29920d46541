package email_test

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
)

// TestToNameReadsBackAsTyped checks that a recipient's name reaches the To
// header so that a mail reader shows it exactly as typed, including a name
// that spells an RFC 2047 encoded word (issue 9, item 13), which must not
// be decoded into something else.
func TestToNameReadsBackAsTyped(t *testing.T) {
	dec := &mime.WordDecoder{}
	for _, name := range []string{
		"Ana Pérez",
		"Ana",
		"=?utf-8?q?Evil?=",
		"=?UTF-8?B?RXZpbA==?=",
		"Ana =?utf-8?q?Evil?= Pérez",
		`Luis "el Güero" =?iso-8859-1?q?x?= (prensa)`,
		"=?utf-8?q?" + strings.Repeat("largo", 30) + "?=",
		"O'Brien, Ana",
		"",
	} {
		m := statement("ana@example.org")
		m.To = dispatcher.Address{Name: name, Email: "ana@example.org"}
		msg, err := email.BuildMessage(from, m, time.Date(2026, 2, 4, 10, 0, 0, 0, time.UTC))
		if err != nil {
			t.Fatalf("%q: %v", name, err)
		}
		var buf bytes.Buffer
		if _, err := msg.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		parsed, err := netmail.ReadMessage(&buf)
		if err != nil {
			t.Fatal(err)
		}
		raw := parsed.Header.Get("To")
		p := netmail.AddressParser{WordDecoder: dec}
		to, err := p.ParseList(raw)
		if err != nil || len(to) != 1 {
			t.Fatalf("%q: To %q parses as %v, %v", name, raw, to, err)
		}
		if to[0].Name != name || to[0].Address != "ana@example.org" {
			t.Errorf("name %q: To %q reads back as %q <%s>", name, raw, to[0].Name, to[0].Address)
		}
		// Many readers decode encoded words wherever they appear, quoted
		// strings included: the name must read back as typed that way too.
		if lenient, err := dec.DecodeHeader(raw); err != nil || !strings.Contains(lenient, name) {
			t.Errorf("name %q: To %q reads back as %q (%v) in a lenient reader", name, raw, lenient, err)
		}
		if len(parsed.Header["To"]) != 1 || parsed.Header.Get("Cc") != "" || parsed.Header.Get("Bcc") != "" {
			t.Errorf("name %q: headers To %q, Cc %q, Bcc %q; want one To only", name, parsed.Header["To"], parsed.Header.Get("Cc"), parsed.Header.Get("Bcc"))
		}
		if rcpts, err := msg.GetRecipients(); err != nil || len(rcpts) != 1 || rcpts[0] != "<ana@example.org>" {
			t.Errorf("name %q: envelope recipients %v, %v; want ana@example.org alone", name, rcpts, err)
		}
	}
}
