package email_test

import (
	"bytes"
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"mime/quotedprintable"
	netmail "net/mail"
	"strings"
	"testing"
	"unicode"
	"unicode/utf8"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/templates"
)

// FuzzBuildMessage renders a release with the real templates, builds the
// email with BuildMessage as the channel does, and parses it back with
// net/mail and mime/multipart: the message always parses, has one To and no
// header it was not given (however the title, the recipient's name or a
// header value try to start one), its subject is the rendered one, and its
// two parts decode to the rendered text and HTML with the recipient's
// unsubscribe link filled in.
func FuzzBuildMessage(f *testing.F) {
	f.Add("Comunicado: “Cambiemos…”", "Resumen", "Cuerpo con **negrita** y [enlace](https://example.org/).", "Ana Pérez",
		"https://prensa.example.org/u/AZCd_9QGC3Vuc3Vic2NyaWJl")
	f.Add("Título\r\nBcc: evil@example.org", "x\r\n\r\n<script>", "<script>alert(1)</script>\n\n.Punto\nFrom here", "Ana\r\nBcc: evil@example.org",
		"https://prensa.example.org/u/x\r\nBcc: evil@example.org")
	f.Add("Comunicado", "", "Cuerpo", "=?utf-8?q?Evil?=", "")
	f.Add("{{.Secret}}", "", "%UNSUBSCRIBE_URL% \x00pregon:unsubscribe\x00", "\"Ana\" <ana@evil.example>", "")
	f.Add(strings.Repeat("👍🏽 مرحبا e\u0301 ", 30), strings.Repeat("=?utf-8?q?x?= ", 10), strings.Repeat("línea larga ", 200), "=?utf-8?b?QmNjOg==?=",
		"http://127.0.0.1:8080/u/tok?a=1&b=<2>")
	r, err := templates.New()
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, title, summary, body, toName, link string) {
		rel := &dispatcher.Release{ID: "rel_1", Title: title, Summary: summary, Body: body, Language: "es",
			Contact: &dispatcher.PressContact{Name: toName, Email: "prensa@example.org"}}
		content, err := r.Email(rel, "es")
		if err != nil {
			t.Fatalf("Email: %v", err)
		}
		m := &dispatcher.EmailMessage{
			DeliveryID: "d1", To: dispatcher.Address{Name: toName, Email: "ana@example.org"},
			MessageID: "d1.rel_1@example.org", Content: content, UnsubscribeURL: link,
			Headers: map[string]string{"List-Unsubscribe": "<" + link + ">", "List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
		}
		msg, err := email.BuildMessage(from, m, date)
		if errors.Is(err, email.ErrInvalidMessage) && link != "" {
			// Only the link may be refused; without it the message builds.
			m.UnsubscribeURL, link = "", ""
			msg, err = email.BuildMessage(from, m, date)
		}
		if err != nil {
			t.Fatalf("BuildMessage: %v", err)
		}
		var buf bytes.Buffer
		if _, err := msg.WriteTo(&buf); err != nil {
			t.Fatalf("WriteTo: %v", err)
		}
		parsed, err := netmail.ReadMessage(bytes.NewReader(buf.Bytes()))
		if err != nil {
			t.Fatalf("net/mail cannot read the message: %v\n%s", err, buf.Bytes())
		}
		h := parsed.Header
		allowed := map[string]bool{"Date": true, "From": true, "To": true, "Reply-To": true, "Subject": true,
			"Message-Id": true, "Mime-Version": true, "Content-Type": true, "List-Unsubscribe": true, "List-Unsubscribe-Post": true}
		for k := range h {
			if !allowed[k] {
				t.Fatalf("unexpected header %s: %q\n%s", k, h[k], buf.Bytes())
			}
		}
		to, err := h.AddressList("To")
		if err != nil || len(to) != 1 || to[0].Address != "ana@example.org" {
			t.Fatalf("To = %v (%v), want one address ana@example.org\n%s", to, err, buf.Bytes())
		}
		// A printable name reads back as typed, even one that spells an
		// encoded word, in readers that decode words inside quoted strings too.
		if name := strings.TrimSpace(strings.Join(strings.FieldsFunc(toName, func(r rune) bool { return r == '\r' || r == '\n' }), " ")); utf8.ValidString(name) &&
			!strings.ContainsFunc(name, unicode.IsControl) {
			raw := h.Get("To")
			if to[0].Name != name {
				t.Fatalf("To %q reads back as the name %q, want %q", raw, to[0].Name, name)
			}
			if strings.HasPrefix(raw, `"`) && strings.Contains(raw[:strings.LastIndexByte(raw, '<')], "=?") {
				t.Fatalf("To %q has an encoded word in a quoted string, which some readers decode", raw)
			}
		}
		// Every subject reads back as rendered, even a title that itself
		// spells an RFC 2047 encoded word ("=?utf-8?q?...?=").
		subject, err := new(mime.WordDecoder).DecodeHeader(h.Get("Subject"))
		if err != nil || subject != content.Subject {
			t.Fatalf("Subject = %q (%v), want %q", subject, err, content.Subject)
		}
		mediaType, params, err := mime.ParseMediaType(h.Get("Content-Type"))
		if err != nil || mediaType != "multipart/alternative" {
			t.Fatalf("Content-Type = %q (%v)", h.Get("Content-Type"), err)
		}
		want := content.WithUnsubscribe(link)
		mr := multipart.NewReader(parsed.Body, params["boundary"])
		for i, part := range []struct{ typ, body string }{{"text/plain", want.Text}, {"text/html", want.HTML}} {
			p, err := mr.NextRawPart()
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			if typ, _, err := mime.ParseMediaType(p.Header.Get("Content-Type")); err != nil || typ != part.typ {
				t.Fatalf("part %d Content-Type = %q, want %s", i, p.Header.Get("Content-Type"), part.typ)
			}
			b, err := io.ReadAll(quotedprintable.NewReader(p))
			if err != nil {
				t.Fatalf("part %d: %v", i, err)
			}
			if got := strings.ReplaceAll(string(b), "\r\n", "\n"); got != part.body {
				t.Fatalf("part %d body:\n got %q\nwant %q", i, got, part.body)
			}
		}
		if _, err := mr.NextRawPart(); err != io.EOF {
			t.Fatalf("more than two parts: %v", err)
		}
		if link != "" && !strings.Contains(want.Text, link) {
			t.Fatalf("the text lacks the unsubscribe link %q:\n%s", link, want.Text)
		}
	})
}
