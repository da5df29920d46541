package email

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime/quotedprintable"
	"strings"
	"sync"

	"github.com/wneessen/go-mail"

	"github.com/pregon/pregon/dispatcher"
)

// A release's email is the same for all its recipients in one language but
// for the unsubscribe link in its footer. Encoding the body (MIME parts,
// quoted-printable) took most of the CPU a message costs, so the Channel
// encodes it once per content and keeps it in a bodyCache: a message then
// costs its headers, the encoding of its own link, and a copy.

// encodedBody is a multipart/alternative body, quoted-printable parts
// encoded, split where each recipient's unsubscribe link goes.
type encodedBody struct {
	contentType string   // multipart/alternative; boundary="..."
	withLink    [][]byte // encoded pieces; the link goes between each two
	linkInHTML  []bool   // whether the link after piece i is in the HTML part
	noLink      []byte   // the whole body for a message without a link
	subject     string   // the content's subject, encoded (encodeSubject)
	// header is the end of a message's header as go-mail writes it before
	// this body: Content-Transfer-Encoding, Content-Type, the blank line
	// (header.go).
	header []byte
}

// write writes the body for a message whose unsubscribe link is link.
func (b *encodedBody) write(w io.Writer, link string) (int64, error) {
	if link == "" || len(b.withLink) == 1 {
		n, err := w.Write(b.noLink)
		return int64(n), err
	}
	var total int64
	for i, piece := range b.withLink {
		n, err := w.Write(piece)
		total += int64(n)
		if err != nil {
			return total, err
		}
		if i == len(b.withLink)-1 {
			break
		}
		l := link
		if b.linkInHTML[i] {
			l = htmlEscaper.Replace(link)
		}
		var enc bytes.Buffer
		qp := quotedprintable.NewWriter(&enc)
		qp.Write([]byte(l))
		qp.Close()
		enc.WriteString("=\r\n") // a soft line break: the piece after goes on
		n2, err := w.Write(enc.Bytes())
		total += int64(n2)
		if err != nil {
			return total, err
		}
	}
	return total, nil
}

var htmlEscaper = strings.NewReplacer(`&`, "&amp;", `'`, "&#39;", `<`, "&lt;", `>`, "&gt;", `"`, "&#34;")

// encodeBody encodes c as a multipart/alternative body (text then HTML).
func encodeBody(c *dispatcher.EmailContent) *encodedBody {
	// The boundary comes from the content, so that the same content always
	// gives the same bytes (the outbox writes what SMTP sends); a content
	// cannot hold the hash of itself.
	h := sha256.New()
	io.WriteString(h, c.Text)
	h.Write([]byte{0})
	io.WriteString(h, c.HTML)
	boundary := "pregon-" + hex.EncodeToString(h.Sum(nil)[:12])
	b := &encodedBody{contentType: `multipart/alternative; boundary="` + boundary + `"`, subject: encodeSubject(headerValue(c.Subject))}

	// Each part, whole (for a message without a link) and cut where the
	// link goes (dispatcher.LinkSlot).
	parts := []struct {
		ctype   string
		with    []string
		without string
	}{
		{"text/plain", c.Unsubscribe.Text.Split(c.Text), c.Text},
		{"text/html", c.Unsubscribe.HTML.Split(c.HTML), c.HTML},
	}
	var noLink bytes.Buffer
	var cur bytes.Buffer
	for i, p := range parts {
		if p.without == "" && len(p.with) == 1 {
			continue
		}
		head := "--" + boundary + "\r\nContent-Type: " + p.ctype + "; charset=UTF-8\r\nContent-Transfer-Encoding: quoted-printable\r\n\r\n"
		noLink.WriteString(head)
		writeQP(&noLink, p.without)
		noLink.WriteString("\r\n")
		cur.WriteString(head)
		pieces := p.with
		for j, piece := range pieces {
			writeQP(&cur, piece)
			if j < len(pieces)-1 {
				if !bytes.HasSuffix(cur.Bytes(), []byte("\r\n")) {
					cur.WriteString("=\r\n")
				}
				b.withLink = append(b.withLink, bytes.Clone(cur.Bytes()))
				b.linkInHTML = append(b.linkInHTML, i == 1)
				cur.Reset()
			}
		}
		cur.WriteString("\r\n")
	}
	end := "--" + boundary + "--\r\n"
	noLink.WriteString(end)
	cur.WriteString(end)
	b.withLink = append(b.withLink, bytes.Clone(cur.Bytes()))
	b.noLink = noLink.Bytes()
	if len(c.Attachments) > 0 {
		wrapAttachments(b, c, boundary) // attach.go
	}
	var head bytes.Buffer
	writeHeaderLine(&head, string(mail.HeaderContentTransferEnc), string(mail.NoEncoding))
	writeHeaderLine(&head, string(mail.HeaderContentType), b.contentType+"; charset="+string(mail.CharsetUTF8))
	head.WriteString("\r\n")
	b.header = head.Bytes()
	return b
}

// writeQP writes s quoted-printable encoded, with CRLF line breaks.
func writeQP(w *bytes.Buffer, s string) {
	qp := quotedprintable.NewWriter(w)
	qp.Write([]byte(strings.ReplaceAll(strings.ReplaceAll(s, "\r\n", "\n"), "\n", "\r\n")))
	qp.Close()
}

// bodyCache keeps the encoded bodies of the contents a Channel sent last.
// Contents are keyed by identity: the dispatcher renders a release once per
// language and shares that content with all its messages.
type bodyCache struct {
	mu    sync.Mutex
	max   int
	order []*dispatcher.EmailContent
	items map[*dispatcher.EmailContent]*encodedBody
}

func newBodyCache(max int) *bodyCache {
	return &bodyCache{max: max, items: map[*dispatcher.EmailContent]*encodedBody{}}
}

func (c *bodyCache) get(content *dispatcher.EmailContent) *encodedBody {
	c.mu.Lock()
	b, ok := c.items[content]
	c.mu.Unlock()
	if ok {
		return b
	}
	b = encodeBody(content) // outside the lock: two callers may both encode, harmlessly
	c.mu.Lock()
	defer c.mu.Unlock()
	if old, ok := c.items[content]; ok {
		return old
	}
	c.items[content] = b
	c.order = append(c.order, content)
	if len(c.order) > c.max {
		delete(c.items, c.order[0])
		c.order = c.order[1:]
	}
	return b
}
