package email

import (
	"bytes"
	"io"
	"mime"
	"mime/multipart"
	"strings"
	"testing"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/templates"
)

// TestEncodedBodyDecodesToTheContent checks that a body encoded once and
// written with each recipient's link decodes, part by part, to exactly what
// templates.WithUnsubscribe makes for that link, with lines QP allows.
func TestEncodedBodyDecodesToTheContent(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	rel := &dispatcher.Release{
		ID: "rel_1", Title: "Comunicado “urgente” de las comunidades", Language: "es",
		Summary: "Resumen con acentos: áéíóú ñ", Body: strings.Repeat("Un párrafo largo con «comillas» y una línea que pasa de setenta y seis caracteres sin problema alguno. ", 20) + "\n\nOtro = párrafo con signos = y espacios al final   \n\n- uno\n- dos\n",
		Contact: &dispatcher.PressContact{Name: "Lucía", Email: "lucia@example.org"},
	}
	rendered, err := r.Email(rel, "es")
	if err != nil {
		t.Fatal(err)
	}
	contents := map[string]*dispatcher.EmailContent{
		"rendered":  rendered,
		"text only": {Subject: "s", Text: rendered.Text},
		"html only": {Subject: "s", HTML: rendered.HTML},
		"no footer": {Subject: "s", Text: "plain\nlines\n", HTML: "<p>x</p>"},
	}
	links := []string{"", "https://pregon.example.org/u/abc_DEF-123", "https://x.example/u/t?a=1&b=2&pad=" + strings.Repeat("z", 120)}
	for name, c := range contents {
		b := encodeBody(c)
		for _, link := range links {
			var buf bytes.Buffer
			n, err := b.write(&buf, link)
			if err != nil || n != int64(buf.Len()) {
				t.Fatalf("%s: write = %d, %v (wrote %d)", name, n, err, buf.Len())
			}
			for _, line := range strings.Split(buf.String(), "\r\n") {
				if len(line) > 76 {
					t.Fatalf("%s: line of %d bytes: %q", name, len(line), line)
				}
			}
			want := c.WithUnsubscribe(link)
			got := decodeParts(t, b.contentType, buf.Bytes())
			if norm(got["text/plain"]) != norm(want.Text) {
				t.Errorf("%s, link %q: text part differs:\n got %q\nwant %q", name, link, tail(got["text/plain"]), tail(want.Text))
			}
			if norm(got["text/html"]) != norm(want.HTML) {
				t.Errorf("%s, link %q: html part differs:\n got %q\nwant %q", name, link, tail(got["text/html"]), tail(want.HTML))
			}
		}
	}
}

func decodeParts(t *testing.T, contentType string, body []byte) map[string]string {
	t.Helper()
	if n := bytes.Count(body, []byte("Content-Transfer-Encoding: quoted-printable\r\n")); n == 0 {
		t.Fatalf("no quoted-printable part in %q", body)
	}
	mt, params, err := mime.ParseMediaType(contentType)
	if err != nil || mt != "multipart/alternative" {
		t.Fatalf("content type %q: %v", contentType, err)
	}
	out := map[string]string{}
	mr := multipart.NewReader(bytes.NewReader(body), params["boundary"])
	for {
		p, err := mr.NextPart()
		if err == io.EOF {
			return out
		}
		if err != nil {
			t.Fatal(err)
		}
		// multipart.Reader decodes quoted-printable parts itself (and hides
		// the header); a part it did not decode would show its =XX escapes.
		data, err := io.ReadAll(p)
		if err != nil {
			t.Fatal(err)
		}
		ct, _, _ := mime.ParseMediaType(p.Header.Get("Content-Type"))
		out[ct] = string(data)
	}
}

func norm(s string) string { return strings.TrimRight(strings.ReplaceAll(s, "\r\n", "\n"), "\n") }

func tail(s string) string {
	if len(s) > 300 {
		return "…" + s[len(s)-300:]
	}
	return s
}

func BenchmarkEncodedBodyWrite(b *testing.B) {
	r, _ := templates.New()
	c, _ := r.Email(&dispatcher.Release{ID: "r", Title: "T", Language: "es", Body: strings.Repeat("Párrafo con acentos y “comillas”. ", 150)}, "es")
	body := encodeBody(c)
	b.ReportAllocs()
	for b.Loop() {
		body.write(io.Discard, "https://pregon.example.org/u/abcdefghijklmnopqrstuvwxyz0123456789")
	}
}

// A content's files are encoded with its body once, for all its messages
// (issue 10 item 5): the cache gives every message the same encoding.
func TestAttachmentsEncodedOnce(t *testing.T) {
	c := &dispatcher.EmailContent{Subject: "s", Text: "t\n", HTML: "<p>h</p>",
		Attachments: []dispatcher.EmailAttachment{{Filename: "a.pdf", ContentType: "application/pdf", Data: []byte("%PDF-1.4 x")}}}
	cache := newBodyCache(4)
	first := cache.get(c)
	if !bytes.Contains(first.noLink, []byte("JVBERi0xLjQgeA==")) || !strings.HasPrefix(first.contentType, "multipart/mixed;") {
		t.Fatalf("encoded body: %s\n%s", first.contentType, first.noLink)
	}
	for range 3 {
		if cache.get(c) != first {
			t.Fatal("the content's body was encoded again")
		}
	}
}

// TestSubjectEncodedOnce: the subject encoded once per content (the body
// cache's) is written exactly as go-mail writes the subject given as typed,
// folded lines included.
func TestSubjectEncodedOnce(t *testing.T) {
	for _, subject := range []string{
		"s",
		"Comunicado “urgente” de las comunidades",
		strings.Repeat("Un título largo con acentos: áéíóú ñ, que pasa de una línea. ", 4),
		strings.Repeat("A plain ASCII subject that is long enough to be folded by the writer ", 3),
	} {
		write := func(set func(*mail.Msg)) string {
			msg := mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP), mail.WithNoDefaultUserAgent())
			set(msg)
			msg.SetBoundary("b")
			msg.SetDateWithValue(time.Date(2026, 12, 6, 9, 0, 0, 0, time.UTC))
			msg.SetMessageIDWithValue("1@example.org")
			msg.SetBodyString(mail.TypeTextPlain, "t")
			var buf bytes.Buffer
			if _, err := msg.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			return buf.String()
		}
		typed := write(func(m *mail.Msg) { setSubject(m, headerValue(subject)) })
		cached := write(func(m *mail.Msg) {
			m.Subject(encodeBody(&dispatcher.EmailContent{Subject: subject, Text: "t"}).subject)
		})
		if typed != cached {
			t.Errorf("subject %q: written\n%s\nwant\n%s", subject, cached, typed)
		}
		if !strings.Contains(typed, "Subject:") {
			t.Errorf("subject %q: no Subject header in\n%s", subject, typed)
		}
	}
}
