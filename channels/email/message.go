package email

import (
	"bytes"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"mime"
	netmail "net/mail"
	"net/url"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/wneessen/go-mail"

	"github.com/pregon/pregon/dispatcher"
)

// ErrInvalidMessage is returned (wrapped) by BuildMessage for a message that
// cannot be built: no content, a bad address, message id or header.
var ErrInvalidMessage = errors.New("invalid email message")

// reservedHeaders are set by BuildMessage itself and may not come from
// EmailMessage.Headers (keys are lower case).
var reservedHeaders = map[string]bool{
	"from": true, "sender": true, "to": true, "cc": true, "bcc": true, "reply-to": true,
	"subject": true, "message-id": true, "date": true, "mime-version": true,
	"content-type": true, "content-transfer-encoding": true, "return-path": true,
}

// BuildMessage builds the MIME message for m, sent from from: one recipient
// in To (never Cc or Bcc), Reply-To when m has one, the subject encoded as
// RFC 2047 words when it is not ASCII, Message-ID <m.MessageID>, the Date
// date, and a multipart/alternative body with text/plain then text/html (UTF-8,
// quoted-printable; a single part when one of them is empty), with the
// footer's unsubscribe line filled in with m.UnsubscribeURL, or left out
// when it is "" (see dispatcher.EmailContent.WithUnsubscribe). m.Headers are
// added as plain-text headers. CR and LF are removed from every header value,
// so a value cannot start another header.
//
// When m.MessageID is empty go-mail makes one when the message is written. It
// returns an error wrapping ErrInvalidMessage when m has no content, an
// address does not parse, the message id is malformed, the unsubscribe URL
// is not a plain http(s) URL, or a header name is invalid or one
// BuildMessage sets itself.
func BuildMessage(from dispatcher.Address, m *dispatcher.EmailMessage, date time.Time) (*mail.Msg, error) {
	msg, _, err := buildMessage(from, m, date, nil)
	return msg, err
}

// buildMessage is BuildMessage, but when encoded is not nil the body is the
// same MIME body encoded once for all the recipients of m.Content: the
// message go-mail writes then ends with the blank line after its headers,
// and the caller writes the body after it with body.write(w,
// m.UnsubscribeURL). (go-mail copied a body through a buffer of its own,
// grown from nothing for every message.)
func buildMessage(from dispatcher.Address, m *dispatcher.EmailMessage, date time.Time, encoded *bodyCache) (msg *mail.Msg, body *encodedBody, err error) {
	if m == nil || m.Content == nil {
		return nil, nil, fmt.Errorf("%w: no content", ErrInvalidMessage)
	}
	if m.Content.Text == "" && m.Content.HTML == "" {
		return nil, nil, fmt.Errorf("%w: empty body", ErrInvalidMessage)
	}
	if m.UnsubscribeURL != "" && !webLink(m.UnsubscribeURL) {
		return nil, nil, fmt.Errorf("%w: unsubscribe URL %q", ErrInvalidMessage, m.UnsubscribeURL)
	}
	// The content is shared by every recipient; the footer's unsubscribe
	// line is each one's own.
	content := m.Content
	if encoded == nil {
		content = m.Content.WithUnsubscribe(m.UnsubscribeURL)
	}
	fromAddr, err := address(from)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: from: %v", ErrInvalidMessage, err)
	}
	toAddr, err := address(m.To)
	if err != nil {
		return nil, nil, fmt.Errorf("%w: to: %v", ErrInvalidMessage, err)
	}

	msg = mail.NewMsg(mail.WithCharset(mail.CharsetUTF8), mail.WithEncoding(mail.EncodingQP),
		mail.WithNoDefaultUserAgent())
	msg.FromMailAddress(fromAddr)
	setTo(msg, toAddr)
	if m.ReplyTo != nil && m.ReplyTo.Email != "" {
		replyTo, err := address(*m.ReplyTo)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: reply-to: %v", ErrInvalidMessage, err)
		}
		msg.ReplyToMailAddress(replyTo)
	}
	if subject := headerValue(content.Subject); encoded != nil && !strings.Contains(subject, "=?") {
		// Encoded once per content (bodyCache): go-mail leaves the encoded
		// words, plain ASCII, as they are.
		body = encoded.get(m.Content)
		msg.Subject(body.subject)
	} else {
		setSubject(msg, subject)
	}
	if m.MessageID != "" {
		id := strings.TrimSuffix(strings.TrimPrefix(m.MessageID, "<"), ">")
		if id == "" || strings.ContainsAny(id, "<> \t\r\n\"()[],;:\\") || !strings.Contains(id, "@") ||
			!isPrintableASCII(id) {
			return nil, nil, fmt.Errorf("%w: message id %q", ErrInvalidMessage, m.MessageID)
		}
		msg.SetMessageIDWithValue(id)
	}
	msg.SetDateWithValue(date)

	for name, value := range m.Headers {
		if !validHeaderName(name) {
			return nil, nil, fmt.Errorf("%w: header name %q", ErrInvalidMessage, name)
		}
		if reservedHeaders[strings.ToLower(name)] {
			return nil, nil, fmt.Errorf("%w: header %q is set by the email channel", ErrInvalidMessage, name)
		}
		msg.SetGenHeader(mail.Header(name), headerValue(value))
	}

	switch {
	case encoded != nil:
		if body == nil {
			body = encoded.get(m.Content)
		}
		msg.SetBodyWriter(mail.ContentType(body.contentType), func(io.Writer) (int64, error) { return 0, nil },
			mail.WithPartEncoding(mail.NoEncoding))
	case content.HTML == "":
		msg.SetBodyString(mail.TypeTextPlain, content.Text)
	case content.Text == "":
		msg.SetBodyString(mail.TypeTextHTML, content.HTML)
	default:
		msg.SetBodyString(mail.TypeTextPlain, content.Text)
		msg.AddAlternativeString(mail.TypeTextHTML, content.HTML)
	}
	if encoded == nil { // the files, which the encoded body carries itself (attach.go)
		for _, a := range content.Attachments {
			opts := []mail.FileOption{mail.WithFileContentType(mail.ContentType(a.ContentType))}
			if a.ContentID != "" {
				msg.EmbedReadSeeker(headerValue(a.Filename), bytes.NewReader(a.Data), append(opts, mail.WithFileContentID(headerValue(a.ContentID)))...)
			} else {
				msg.AttachReadSeeker(headerValue(a.Filename), bytes.NewReader(a.Data), opts...)
			}
		}
	}
	return msg, body, nil
}

// webLink reports whether s is an absolute http or https URL with nothing
// that would need quoting in a header, a text line or an HTML attribute.
func webLink(s string) bool {
	if strings.ContainsFunc(s, func(r rune) bool {
		return r <= ' ' || r == 0x7f || r == '"' || r == '<' || r == '>' || r == '\\' || r > 0x7e
	}) {
		return false
	}
	u, err := url.Parse(s)
	return err == nil && (u.Scheme == "http" || u.Scheme == "https") && u.Host != ""
}

// address checks a and returns it for go-mail, with CR and LF removed from the name.
func address(a dispatcher.Address) (*netmail.Address, error) {
	if a.Email == "" {
		return nil, errors.New("no address")
	}
	if strings.ContainsAny(a.Email, " \t\r\n<>,;\"") {
		return nil, fmt.Errorf("bad address %q", a.Email)
	}
	p, err := netmail.ParseAddress(a.Email)
	if err != nil || p.Name != "" {
		return nil, fmt.Errorf("bad address %q", a.Email)
	}
	return &netmail.Address{Name: headerValue(a.Name), Address: p.Address}, nil
}

// headerValue makes s a single-line header value: each run of CR and LF
// becomes one space, and surrounding space is trimmed.
func headerValue(s string) string {
	if !strings.ContainsAny(s, "\r\n") {
		return strings.TrimSpace(s)
	}
	return strings.TrimSpace(strings.Join(strings.FieldsFunc(s, func(r rune) bool {
		return r == '\r' || r == '\n'
	}), " "))
}

// validHeaderName reports whether name is an RFC 5322 field name: printable
// ASCII without spaces or colons.
func validHeaderName(name string) bool {
	if name == "" {
		return false
	}
	for i := 0; i < len(name); i++ {
		if c := name[i]; c < 33 || c > 126 || c == ':' {
			return false
		}
	}
	return true
}

func isPrintableASCII(s string) bool {
	for i := 0; i < len(s); i++ {
		if s[i] < 33 || s[i] > 126 {
			return false
		}
	}
	return true
}

// setTo sets the message's one recipient. go-mail writes an ASCII name as a
// quoted string, and many mail readers decode RFC 2047 words even there, so a
// name that spells one ("=?utf-8?q?Evil?=") would read as something else.
// Such a name is written as encoded words, which read back as typed, in a
// preformatted To header; the address is then given to go-mail as the
// envelope recipient only (as Bcc, which go-mail never writes into the
// message), so the message still names exactly one recipient, in To.
//
// A name that is not valid UTF-8 has its bad bytes replaced, and one with a
// backslash is sent as encoded words too: go-mail leaves a backslash as is
// inside a Q-encoded word, which mail readers then cannot parse (found by
// FuzzBuildMessage).
func setTo(msg *mail.Msg, to *netmail.Address) {
	name := strings.ToValidUTF8(to.Name, "\uFFFD")
	if !strings.Contains(name, "=?") && !strings.ContainsRune(name, '\\') && name == to.Name {
		msg.ToMailAddress(to)
		return
	}
	msg.SetGenHeaderPreformatted(mail.Header(mail.HeaderTo), encodeWords(name)+" <"+to.Address+">")
	msg.BccMailAddress(&netmail.Address{Address: to.Address})
}

// encodeSubject returns s as go-mail's Subject writes it (RFC 2047 Q
// encoding, UTF-8, as buildMessage's Msg is set up); given that, go-mail
// writes it unchanged.
func encodeSubject(s string) string { return mime.QEncoding.Encode(string(mail.CharsetUTF8), s) }

// setSubject sets the Subject. go-mail sends an ASCII subject as typed, so a
// title that itself spells an RFC 2047 encoded word ("=?utf-8?q?...?=")
// would be decoded by mail readers into something else; such a subject is
// sent as encoded words, which read back as typed.
func setSubject(msg *mail.Msg, s string) {
	if !strings.Contains(s, "=?") {
		msg.Subject(s)
		return
	}
	msg.SetGenHeaderPreformatted(mail.HeaderSubject, encodeWords(s))
}

// encodeWords encodes s as base64 RFC 2047 words of at most 75 characters,
// split between runes and separated by spaces (which decoders drop).
func encodeWords(s string) string {
	const maxChunk = 45 // 60 base64 characters: 72 with "=?UTF-8?B?" and "?="
	var words []string
	for s != "" {
		n := min(len(s), maxChunk)
		for n < len(s) && !utf8.RuneStart(s[n]) {
			n--
		}
		words = append(words, "=?UTF-8?B?"+base64.StdEncoding.EncodeToString([]byte(s[:n]))+"?=")
		s = s[n:]
	}
	return strings.Join(words, " ")
}
