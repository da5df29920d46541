package outbox_test

import (
	"bytes"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// With attachments too, the outbox writes byte for byte what SMTP sends
// (issue 10 item 5).
func TestOutboxWritesAttachmentsAsSMTP(t *testing.T) {
	m := sameMessage()
	m.Content.HTML = `<img src="cid:att_1@pregon" alt="">` + m.Content.HTML
	m.Content.Attachments = []dispatcher.EmailAttachment{
		{Filename: "portada.jpg", ContentType: "image/jpeg", ContentID: "att_1@pregon", Data: bytes.Repeat([]byte{0xFF, 0xD8, 0xFF, 0, '.', '\n'}, 300)},
		{Filename: "informe.pdf", ContentType: "application/pdf", Data: append([]byte("%PDF-1.4\n.\r\n"), bytes.Repeat([]byte("x"), 5000)...)},
	}
	smtp, file := sendBoth(t, nil, m)
	if !bytes.Equal(smtp, file) {
		t.Errorf("the outbox wrote\n%.3000s\nSMTP sent\n%.3000s", file, smtp)
	}
	for _, s := range []string{"Content-Type: multipart/mixed;", "Content-ID: <att_1@pregon>\r\n",
		"Content-Disposition: attachment; filename=informe.pdf\r\n"} {
		if !bytes.Contains(file, []byte(s)) {
			t.Errorf("the message lacks %q:\n%.3000s", s, file)
		}
	}
}
