package email

import (
	"bytes"
	"fmt"
	"net/url"
	"path"
	"strings"
	"time"

	"github.com/wneessen/go-mail"

	"github.com/pregon/pregon/dispatcher"
)

// ComposeConfig configures a Composer.
type ComposeConfig struct {
	// From is the sender of every message. Required.
	From dispatcher.Address
	// DKIM, when set, signs every message.
	DKIM *DKIM
	// UnsubscribeMailto, when set, is an address added to List-Unsubscribe
	// as a mailto: URI (RFC 2369), beside the message's https link. Pregón
	// does not read that mailbox.
	UnsubscribeMailto string
	// EnvelopeSender, when set, gives each message its envelope sender
	// (MAIL FROM, the Return-Path of what arrives): a VERP bounce address
	// naming the delivery (bounces.VERP). Nil: From is the envelope sender.
	EnvelopeSender EnvelopeSender
}

// EnvelopeSender makes the envelope sender of a message from its
// Message-ID (without angle brackets); "" keeps From.
type EnvelopeSender interface {
	EnvelopeSender(messageID string) string
}

// Composer renders messages to the bytes that go over SMTP (before
// dot-stuffing): go-mail builds the MIME message, with the body encoded
// once per content (bodyCache), and DKIM signs it. The email channel and the
// outbox share it, so that the outbox writes what SMTP would send. It is
// safe for concurrent use.
type Composer struct {
	from       dispatcher.Address
	fromHeader fromHeader // its From line and envelope sender (header.go)
	dkim       *DKIM
	bodies     *bodyCache
	listID     string // the List-Id header's value
	mailto     string // UnsubscribeMailto
	sender     EnvelopeSender
}

// NewComposer returns a Composer for cfg. It returns an error for a bad From
// or DKIM settings whose keys do not sign and verify.
func NewComposer(cfg ComposeConfig) (*Composer, error) {
	fh, err := newFromHeader(cfg.From)
	if err != nil {
		return nil, fmt.Errorf("email: from: %w", err)
	}
	if cfg.DKIM != nil {
		if err := cfg.DKIM.Check(); err != nil {
			return nil, fmt.Errorf("email: %w", err)
		}
	}
	if cfg.UnsubscribeMailto != "" {
		if _, err := address(dispatcher.Address{Email: cfg.UnsubscribeMailto}); err != nil {
			return nil, fmt.Errorf("email: unsubscribe mailto: %w", err)
		}
	}
	_, domain, _ := strings.Cut(cfg.From.Email, "@")
	return &Composer{from: cfg.From, fromHeader: fh, dkim: cfg.DKIM, bodies: newBodyCache(32),
		listID: ListID(domain), mailto: cfg.UnsubscribeMailto, sender: cfg.EnvelopeSender}, nil
}

// ListID returns the List-Id (RFC 2919) of the emails sent from an address
// in domain: one list for all of the organisation's releases, since a
// delivery may reach a contact through several of a release's lists.
func ListID(domain string) string {
	return "<pregon." + strings.ToLower(domain) + ">"
}

// listHeaders sets the headers of a bulk message on msg: List-Id,
// Precedence: bulk, and the mailto: URI in List-Unsubscribe.
func (c *Composer) listHeaders(msg *mail.Msg, m *dispatcher.EmailMessage) {
	msg.SetGenHeader("List-Id", c.listID)
	msg.SetGenHeader("Precedence", "bulk")
	if c.mailto == "" {
		return
	}
	msg.SetGenHeader("List-Unsubscribe", c.listUnsubscribe(m))
}

// listUnsubscribe returns the List-Unsubscribe value of m when the Composer
// has a mailto: m's own links, then the mailto: URI.
func (c *Composer) listUnsubscribe(m *dispatcher.EmailMessage) string {
	var links []string
	for name, v := range m.Headers {
		if strings.EqualFold(name, "List-Unsubscribe") {
			links = append(links, headerValue(v))
		}
	}
	// The subject names the link's token (its last path segment), so that
	// whoever reads the mailbox can tell who asked.
	subject := "unsubscribe"
	if u, err := url.Parse(m.UnsubscribeURL); err == nil && m.UnsubscribeURL != "" {
		subject += " " + path.Base(u.Path)
	}
	links = append(links, "<mailto:"+c.mailto+"?subject="+url.PathEscape(subject)+">")
	return strings.Join(links, ", ")
}

// Rendered is one rendered message.
type Rendered struct {
	// ID is the Message-ID, with angle brackets.
	ID string
	// From and To are the SMTP envelope's sender and recipients, in angle brackets.
	From string
	To   []string
	// Data is the whole message, DKIM signatures first, with CRLF line ends.
	Data []byte
}

// Compose renders m, dated date, into buf (reset first): Rendered.Data is
// buf's bytes. It returns an error wrapping ErrInvalidMessage for a message
// that cannot be built (see BuildMessage), and a DKIM signing error.
func (c *Composer) Compose(m *dispatcher.EmailMessage, date time.Time, buf *bytes.Buffer) (Rendered, error) {
	if fastHeader(m) {
		// The common message: its header written here (header.go).
		body := c.bodies.get(m.Content)
		buf.Reset()
		if id, rcpts, ok := c.writeFastHeader(m, date, body, buf); ok {
			r := Rendered{ID: id, From: c.fromHeader.sender, To: rcpts}
			if err := c.finish(&r, m, body, buf); err != nil {
				return Rendered{}, err
			}
			return r, nil
		}
	}
	return c.composeGoMail(m, date, buf)
}

// composeGoMail is Compose with the header written by go-mail.
func (c *Composer) composeGoMail(m *dispatcher.EmailMessage, date time.Time, buf *bytes.Buffer) (Rendered, error) {
	msg, body, err := buildMessage(c.from, m, date, c.bodies)
	if err != nil {
		return Rendered{}, err
	}
	c.listHeaders(msg, m)
	var r Rendered
	if r.From, err = msg.GetSender(false); err != nil {
		return Rendered{}, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	if r.To, err = msg.GetRecipients(); err != nil {
		return Rendered{}, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	buf.Reset()
	if _, err := msg.WriteTo(buf); err != nil {
		return Rendered{}, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	r.ID = msg.GetMessageID()
	if err := c.finish(&r, m, body, buf); err != nil {
		return Rendered{}, err
	}
	return r, nil
}

// finish writes the body of m after its header in buf, signs the message
// when the Composer has DKIM keys, and sets r's envelope sender (VERP) and
// Data.
func (c *Composer) finish(r *Rendered, m *dispatcher.EmailMessage, body *encodedBody, buf *bytes.Buffer) error {
	if c.sender != nil { // VERP: per message, outside the signed headers
		if s := c.sender.EnvelopeSender(m.MessageID); s != "" {
			if strings.ContainsAny(s, " \t\r\n<>") {
				return fmt.Errorf("%w: envelope sender %q", ErrInvalidMessage, s)
			}
			r.From = "<" + s + ">"
		}
	}
	if _, err := body.write(buf, m.UnsubscribeURL); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	if c.dkim != nil {
		sigs, err := c.dkim.sign(buf.Bytes())
		if err != nil {
			return err
		}
		signed := make([]byte, 0, buf.Len()+len(sigs)*600)
		for _, s := range sigs {
			signed = append(signed, s...)
		}
		signed = append(signed, buf.Bytes()...)
		buf.Reset()
		buf.Write(signed)
	}
	r.Data = buf.Bytes()
	return nil
}
