package email_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"regexp"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/smtptest"
)

// mimeLeaves parses a received message (smtptest.Parse).
func mimeLeaves(t *testing.T, data []byte) ([]smtptest.Part, []string) {
	t.Helper()
	leaves, multiparts, err := smtptest.Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	return leaves, multiparts
}

func sum(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }

var (
	pdfBytes = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("informe anual \x00\xff"), 700)...)
	pngBytes = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{0, 1, 2, 250}, 900)...)
)

// withFiles returns the statement with a PDF attached and a lead image inline.
func withFiles(to string, content *dispatcher.EmailContent) *dispatcher.EmailMessage {
	m := statement(to)
	m.Content = content
	m.UnsubscribeURL = "https://pregon.example/u/" + strings.SplitN(to, "@", 2)[0]
	return m
}

func filesContent() *dispatcher.EmailContent {
	c := statement("x@example.org").Content
	c.HTML = `<div><img src="cid:att_lead@pregon" alt="Portada"></div>` + c.HTML + "<p>Baja: \x00</p>"
	c.Unsubscribe.HTML = dispatcher.LinkSlot{At: len(c.HTML) - len("\x00</p>"), Parts: []string{`<a href="`, `">baja</a>`}}
	c.HTML = strings.Replace(c.HTML, "\x00", "", 1)
	c.Attachments = []dispatcher.EmailAttachment{
		{Filename: "Informe año 2026.pdf", ContentType: "application/pdf", Data: pdfBytes},
		{Filename: "portada.png", ContentType: "image/png", ContentID: "att_lead@pregon", Data: pngBytes},
	}
	return c
}

// TestAttachmentsArriveIntact: two recipients of one content each get the
// PDF as an attachment and the lead image inline, byte for byte (sha256),
// with the types given, the inline image's Content-ID the one the HTML's
// cid: names, and their own unsubscribe link.
func TestAttachmentsArriveIntact(t *testing.T) {
	srv := smtptest.Start(t)
	c := newChannel(t, serverURL(srv), nil)
	content := filesContent()
	for _, to := range []string{"ana@example.org", "luis@example.org"} {
		if _, err := c.SendEmail(context.Background(), withFiles(to, content)); err != nil {
			t.Fatal(err)
		}
	}
	for _, got := range srv.WaitFor(t, 2, wait) {
		leaves, multiparts := mimeLeaves(t, got.Data)
		if strings.Join(multiparts, " ") != "multipart/mixed multipart/related multipart/alternative" {
			t.Fatalf("structure %q", multiparts)
		}
		if len(leaves) != 4 {
			t.Fatalf("%d leaf parts, want text, html, image, pdf", len(leaves))
		}
		text, html, img, pdf := leaves[0], leaves[1], leaves[2], leaves[3]
		if text.ContentType != "text/plain" || html.ContentType != "text/html" {
			t.Fatalf("body parts %s, %s", text.ContentType, html.ContentType)
		}
		if pdf.ContentType != "application/pdf" || pdf.Disposition != "attachment" || pdf.Filename != "Informe año 2026.pdf" || sum(pdf.Data) != sum(pdfBytes) {
			t.Errorf("pdf part: %s %s %q sha256 %s", pdf.ContentType, pdf.Disposition, pdf.Filename, sum(pdf.Data))
		}
		if img.ContentType != "image/png" || img.Disposition != "inline" || sum(img.Data) != sum(pngBytes) {
			t.Errorf("image part: %s %s sha256 %s", img.ContentType, img.Disposition, sum(img.Data))
		}
		m := regexp.MustCompile(`src="cid:([^"]+)"`).FindSubmatch(html.Data)
		if m == nil || string(m[1]) != img.ContentID {
			t.Errorf("cid in the HTML %q, image Content-ID %q", m, img.ContentID)
		}
		user := strings.SplitN(got.To[0], "@", 2)[0]
		if !bytes.Contains(html.Data, []byte(`href="https://pregon.example/u/`+user+`"`)) {
			t.Errorf("%s: the HTML lacks its own unsubscribe link:\n%s", got.To[0], html.Data)
		}
	}
}
