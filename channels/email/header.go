package email

import (
	"bytes"
	"mime"
	netmail "net/mail"
	"slices"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/pregon/pregon/dispatcher"
)

// The message header without go-mail (issue 12). go-mail built a Msg (maps,
// parsed addresses, a sorted copy of the header names) for every message
// only to write a dozen header lines, most of them the same for every
// recipient of a content: about a tenth of a worker's CPU. For the common
// message, Compose writes the header itself, byte for byte as go-mail
// writes it (TestFastHeaderMatchesGoMail and FuzzFastHeader compare the
// two): the header fields go-mail sets or is given (sorted by name, values
// encoded as go-mail's SetGenHeader encodes them), then From, To, Reply-To,
// and the body's Content-Transfer-Encoding and Content-Type, each folded as
// go-mail's msgWriter.writeHeader folds it. The From line, the envelope
// sender and the body's header lines are made once; per message there are
// only the recipient's own fields. Any other message (a name or subject
// that go-mail writes preformatted, no Message-ID, an invalid field, which
// go-mail's path reports) goes through go-mail as before.

// maxHeaderLength is go-mail's MaxHeaderLength: the column where it folds.
const maxHeaderLength = mail.MaxHeaderLength

// genField is a header field go-mail would hold in its generic headers.
type genField struct{ name, value string }

// encodeGen encodes a generic header value as go-mail's SetGenHeader does
// for buildMessage's Msg (UTF-8, Q encoding).
func encodeGen(s string) string { return mime.QEncoding.Encode(string(mail.CharsetUTF8), s) }

// fromHeader is what the From field and envelope sender of a Composer's
// messages are, made once.
type fromHeader struct {
	line   []byte // "From: ...\r\n", folded
	sender string // the envelope sender, in angle brackets
}

func newFromHeader(from dispatcher.Address) (fromHeader, error) {
	a, err := address(from)
	if err != nil {
		return fromHeader{}, err
	}
	var b bytes.Buffer
	writeHeaderLine(&b, string(mail.HeaderFrom), a.String())
	return fromHeader{line: b.Bytes(), sender: (&netmail.Address{Address: a.Address}).String()}, nil
}

// writeHeaderLine writes the header field name: value, folded at
// maxHeaderLength between words, exactly as go-mail's msgWriter.writeHeader
// writes it for one value.
func writeHeaderLine(w *bytes.Buffer, name, value string) {
	start := w.Len()
	charLength := maxHeaderLength - 2 - len(name) - 2
	w.WriteString(name)
	w.WriteString(": ")
	folded := false
	for rest := value; ; {
		word, after, more := strings.Cut(rest, " ")
		if charLength-len(word) <= 1 {
			w.WriteString("\r\n ")
			charLength = maxHeaderLength - 3
			folded = true
		}
		w.WriteString(word)
		if more {
			w.WriteByte(' ')
			charLength--
		}
		charLength -= len(word)
		if !more {
			break
		}
		rest = after
	}
	if folded {
		// go-mail drops the space before each fold.
		if seg := w.Bytes()[start:]; bytes.Contains(seg, []byte(" \r\n")) {
			fixed := bytes.ReplaceAll(seg, []byte(" \r\n"), []byte("\r\n"))
			w.Truncate(start)
			w.Write(fixed)
		}
	}
	w.WriteString("\r\n")
}

// fastHeader reports whether Compose may write m's header itself: a
// message buildMessage accepts and writes without preformatted fields,
// with its own Message-ID.
func fastHeader(m *dispatcher.EmailMessage) bool {
	if m == nil || m.Content == nil || (m.Content.Text == "" && m.Content.HTML == "") || m.MessageID == "" {
		return false
	}
	if m.UnsubscribeURL != "" && !webLink(m.UnsubscribeURL) {
		return false
	}
	if strings.Contains(headerValue(m.Content.Subject), "=?") {
		return false // setSubject: preformatted
	}
	id := strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
	if id == "" || strings.ContainsAny(id, "<> \t\r\n\"()[],;:\\") || !strings.Contains(id, "@") || !isPrintableASCII(id) {
		return false
	}
	for name := range m.Headers {
		if !validHeaderName(name) || reservedHeaders[strings.ToLower(name)] {
			return false
		}
	}
	return true
}

// writeFastHeader writes the header of m (fastHeader), dated date, into buf
// and returns the Message-ID and the envelope recipients; ok is false when
// go-mail is to write it (an address that does not parse, or a name that
// go-mail writes preformatted).
func (c *Composer) writeFastHeader(m *dispatcher.EmailMessage, date time.Time, body *encodedBody, buf *bytes.Buffer) (id string, rcpts []string, ok bool) {
	to, err := address(m.To)
	if err != nil {
		return "", nil, false
	}
	if name := strings.ToValidUTF8(to.Name, "\uFFFD"); name != to.Name || strings.Contains(name, "=?") || strings.ContainsRune(name, '\\') {
		return "", nil, false // setTo: preformatted
	}
	var replyTo *netmail.Address
	if m.ReplyTo != nil && m.ReplyTo.Email != "" {
		if replyTo, err = address(*m.ReplyTo); err != nil {
			return "", nil, false
		}
	}

	// The generic fields, as buildMessage, listHeaders and go-mail's
	// addDefaultHeader set them (a later one replaces an earlier one of the
	// same name), sorted by name as go-mail writes them.
	id = encodeGen("<" + strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">") + ">")
	var fields [16]genField
	gen := append(fields[:0],
		genField{string(mail.HeaderSubject), encodeGen(body.subject)},
		genField{string(mail.HeaderMessageID), id},
		genField{string(mail.HeaderDate), encodeGen(date.Format(time.RFC1123Z))})
	set := func(name, value string) {
		for i := range gen {
			if gen[i].name == name {
				gen[i].value = value
				return
			}
		}
		gen = append(gen, genField{name, value})
	}
	for name, value := range m.Headers {
		set(name, encodeGen(headerValue(value)))
	}
	set("List-Id", encodeGen(c.listID))
	set("Precedence", "bulk")
	if c.mailto != "" {
		set("List-Unsubscribe", encodeGen(c.listUnsubscribe(m)))
	}
	set(string(mail.HeaderMIMEVersion), encodeGen(string(mail.MIME10)))
	slices.SortFunc(gen, func(a, b genField) int { return strings.Compare(a.name, b.name) })

	for _, f := range gen {
		writeHeaderLine(buf, f.name, f.value)
	}
	buf.Write(c.fromHeader.line)
	writeHeaderLine(buf, string(mail.HeaderTo), to.String())
	if replyTo != nil {
		writeHeaderLine(buf, string(mail.HeaderReplyTo), replyTo.String())
	}
	buf.Write(body.header)
	return id, []string{(&netmail.Address{Address: to.Address}).String()}, true
}
