// Package optin sends the confirmation emails of double opt-in: a person
// who signs up to a subscriber list through the public form gets one email
// with a signed link that expires (links.ConfirmURL); the page of that link
// confirms with a button (a POST), never on a GET.
//
// The email goes through the same email channel as releases (SMTP, or the
// outbox when SMTP is not configured), from a queue task (queue.
// TypeConfirmation), so that the public form answers at once and a
// transient SMTP failure is retried.
//
// The email holds nothing the person signing up typed, but for the address
// it goes to: not the name (it is not in To either), so that the form cannot
// be used to send a message of someone's choosing to anyone.
package optin

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"html"
	"log/slog"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/queue"
)

// Store is what the Mailer reads: the list (its name, for the email),
// whether the member is still pending, and whether the address is
// suppressed. *store.Store implements it.
type Store interface {
	List(ctx context.Context, id string) (*dispatcher.List, error)
	MemberPending(ctx context.Context, listID, email string) (bool, error)
	Suppressed(ctx context.Context, emails []string) ([]bool, error)
}

// Links makes the confirmation link. *links.Signer implements it.
type Links interface {
	ConfirmURL(email, listID string) string
}

// Mailer sends confirmation emails. It implements queue.ConfirmationHandler.
type Mailer struct {
	store  Store
	email  dispatcher.EmailSender
	links  Links
	domain string
	now    func() time.Time
	log    *slog.Logger
}

var _ queue.ConfirmationHandler = (*Mailer)(nil)

// Config configures a Mailer. Store, Email and Links are required.
type Config struct {
	Store Store
	Email dispatcher.EmailSender
	Links Links
	// MessageIDDomain is the right-hand side of the Message-IDs (default
	// "pregon.local"): the releases' one.
	MessageIDDomain string
	// Now is the clock (nil: time.Now); Logger gets a line per email (nil:
	// discarded).
	Now    func() time.Time
	Logger *slog.Logger
}

// New returns a Mailer, or an error when a required field is missing.
func New(cfg Config) (*Mailer, error) {
	if cfg.Store == nil || cfg.Email == nil || cfg.Links == nil {
		return nil, errors.New("optin: Config.Store, Email and Links are required")
	}
	m := &Mailer{store: cfg.Store, email: cfg.Email, links: cfg.Links, domain: cfg.MessageIDDomain, now: cfg.Now, log: cfg.Logger}
	if m.domain == "" {
		m.domain = "pregon.local"
	}
	if m.now == nil {
		m.now = time.Now
	}
	if m.log == nil {
		m.log = slog.New(slog.DiscardHandler)
	}
	return m, nil
}

// SendConfirmation sends the confirmation email of c when it is still due:
// the address is a pending member of the list and is not suppressed.
// Otherwise (confirmed since, removed, unsubscribed) it sends nothing and
// returns nil. It returns the channel's *dispatcher.SendError on failure, or
// a store error (transient).
func (m *Mailer) SendConfirmation(ctx context.Context, c queue.Confirmation) error {
	l, err := m.store.List(ctx, c.ListID)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return nil // the list was deleted: nothing to confirm
	}
	if err != nil {
		return err
	}
	pending, err := m.store.MemberPending(ctx, c.ListID, c.Email)
	if err != nil {
		return err
	}
	sup, err := m.store.Suppressed(ctx, []string{c.Email})
	if err != nil {
		return err
	}
	if !pending || sup[0] {
		m.log.InfoContext(ctx, "confirmation email not sent: no longer due", "list_id", c.ListID,
			"pending", pending, "suppressed", sup[0])
		return nil
	}
	link := m.links.ConfirmURL(c.Email, c.ListID)
	if c.Language == "en" {
		link += "?lang=en" // the page then speaks English too (Spanish is its default)
	}
	msg := &dispatcher.EmailMessage{
		DeliveryID: deliveryID(c, m.now()),
		To:         dispatcher.Address{Email: c.Email},
		MessageID:  randomID() + ".optin@" + m.domain,
		Content:    Content(l.Name, link, c.Language),
		Headers:    map[string]string{"Auto-Submitted": "auto-generated"},
	}
	if _, err := m.email.SendEmail(ctx, msg); err != nil {
		return fmt.Errorf("confirmation email for list %s: %w", c.ListID, err)
	}
	m.log.InfoContext(ctx, "confirmation email sent", "list_id", c.ListID, "channel", "email", "delivery_id", msg.DeliveryID)
	return nil
}

// deliveryID names one confirmation email (the outbox's file name): the
// list and address, hashed, and the time.
func deliveryID(c queue.Confirmation, now time.Time) string {
	sum := sha256.Sum256([]byte(c.ListID + "\x00" + c.Email))
	return "optin-" + hex.EncodeToString(sum[:8]) + "-" + strconv.FormatInt(now.UnixMilli(), 10)
}

func randomID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// texts of the email: subject, the request, how to confirm, what if not.
var texts = map[string][4]string{
	"es": {
		"Confirme su suscripción: %s",
		"Alguien, quizá usted, pidió recibir en esta dirección los comunicados de «%s».",
		"Para confirmar la suscripción, abra este enlace y pulse el botón «Confirmar» (el enlace caduca en 48 horas):",
		"Si no fue usted, ignore este correo: no recibirá nada más.",
	},
	"en": {
		"Confirm your subscription: %s",
		"Someone, perhaps you, asked to receive the statements of “%s” at this address.",
		"To confirm the subscription, open this link and press the “Confirm” button (the link expires in 48 hours):",
		"If it was not you, ignore this email: you will receive nothing more.",
	},
}

// Content returns the confirmation email for list listName with link, in
// lang ("en" or Spanish otherwise): plain text and HTML, the HTML escaped.
func Content(listName, link, lang string) *dispatcher.EmailContent {
	t, ok := texts[lang]
	if !ok {
		t = texts["es"]
	}
	intro := fmt.Sprintf(t[1], listName)
	var text strings.Builder
	fmt.Fprintf(&text, "%s\n\n%s\n%s\n\n%s\n", intro, t[2], link, t[3])
	e := html.EscapeString
	var h strings.Builder
	fmt.Fprintf(&h, "<!DOCTYPE html>\n<html lang=\"%s\"><head><meta charset=\"utf-8\"><title>%s</title></head>\n"+
		"<body style=\"font-family:Georgia,serif;color:#222\">\n<p>%s</p>\n<p>%s</p>\n"+
		"<p><a href=\"%s\" style=\"font:bold 16px Arial,sans-serif;color:#0b57d0\">%s</a></p>\n<p>%s</p>\n</body></html>\n",
		e(langOr(lang)), e(fmt.Sprintf(t[0], listName)), e(intro), e(t[2]), e(link), e(link), e(t[3]))
	return &dispatcher.EmailContent{Subject: fmt.Sprintf(t[0], listName), Text: text.String(), HTML: h.String()}
}

func langOr(lang string) string {
	if lang == "en" {
		return "en"
	}
	return "es"
}
