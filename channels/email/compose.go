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
	from   dispatcher.Address
	dkim   *DKIM
	bodies *bodyCache
	listID string // the List-Id header's value
	mailto string // UnsubscribeMailto
	sender EnvelopeSender
}

// NewComposer returns a Composer for cfg. It returns an error for a bad From
// or DKIM settings whose keys do not sign and verify.
func NewComposer(cfg ComposeConfig) (*Composer, error) {
	if _, err := address(cfg.From); err != nil {
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
	return &Composer{from: cfg.From, dkim: cfg.DKIM, bodies: newBodyCache(32),
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
	msg.SetGenHeader("List-Unsubscribe", strings.Join(links, ", "))
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
	msg, body, err := buildMessage(c.from, m, date, c.bodies)
	if err != nil {
		return Rendered{}, err
	}
	c.listHeaders(msg, m)
	var r Rendered
	if r.From, err = msg.GetSender(false); err != nil {
		return Rendered{}, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	if c.sender != nil { // VERP: per message, outside the signed headers
		if s := c.sender.EnvelopeSender(m.MessageID); s != "" {
			if strings.ContainsAny(s, " \t\r\n<>") {
				return Rendered{}, fmt.Errorf("%w: envelope sender %q", ErrInvalidMessage, s)
			}
			r.From = "<" + s + ">"
		}
	}
	if r.To, err = msg.GetRecipients(); err != nil {
		return Rendered{}, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	buf.Reset()
	if _, err := msg.WriteTo(buf); err != nil {
		return Rendered{}, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	if _, err := body.write(buf, m.UnsubscribeURL); err != nil {
		return Rendered{}, fmt.Errorf("%w: %v", ErrInvalidMessage, err)
	}
	if c.dkim != nil {
		sigs, err := c.dkim.sign(buf.Bytes())
		if err != nil {
			return Rendered{}, err
		}
		signed := make([]byte, 0, buf.Len()+len(sigs)*600)
		for _, s := range sigs {
			signed = append(signed, s...)
		}
		signed = append(signed, buf.Bytes()...)
		buf.Reset()
		buf.Write(signed)
	}
	r.ID, r.Data = msg.GetMessageID(), buf.Bytes()
	return r, nil
}
