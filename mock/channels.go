package mock

import (
	"context"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

var (
	_ dispatcher.Renderer       = (*Renderer)(nil)
	_ dispatcher.EmailSender    = (*EmailSender)(nil)
	_ dispatcher.TelegramSender = (*TelegramSender)(nil)
	_ dispatcher.Links          = (*Links)(nil)
)

// Renderer is a function-field fake of dispatcher.Renderer.
type Renderer struct {
	Recorder

	EmailFn          func(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error)
	EmbargoedEmailFn func(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error)
	TelegramFn       func(rel *dispatcher.Release, lang string) ([]string, error)
}

// EmbargoMark starts the subject, the text and the HTML of the emails that
// NewRenderer's EmbargoedEmail renders.
const EmbargoMark = "EMBARGOED UNTIL "

// NewRenderer returns a Renderer that renders the release's version in
// lang as its title: an email with the title as subject and body, and a
// Telegram post of one message. Its embargoed email puts EmbargoMark and
// the embargo (RFC 3339, UTC) before the title in all three.
func NewRenderer() *Renderer {
	return &Renderer{
		EmailFn: func(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
			v := rel.Text(lang)
			return &dispatcher.EmailContent{Subject: v.Title, Text: v.Title, HTML: "<p>" + v.Title + "</p>"}, nil
		},
		EmbargoedEmailFn: func(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
			v := rel.Text(lang)
			if rel.EmbargoUntil == nil {
				return &dispatcher.EmailContent{Subject: v.Title, Text: v.Title, HTML: "<p>" + v.Title + "</p>"}, nil
			}
			line := EmbargoMark + rel.EmbargoUntil.UTC().Format(time.RFC3339)
			return &dispatcher.EmailContent{Subject: line + ": " + v.Title, Text: line + "\n\n" + v.Title,
				HTML: "<p>" + line + "</p><p>" + v.Title + "</p>"}, nil
		},
		TelegramFn: func(rel *dispatcher.Release, lang string) ([]string, error) {
			return []string{rel.Text(lang).Title}, nil
		},
	}
}

// Email calls EmailFn.
func (r *Renderer) Email(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
	return call(&r.Recorder, r.EmailFn, "Email", rel, lang)(rel, lang)
}

// EmbargoedEmail calls EmbargoedEmailFn.
func (r *Renderer) EmbargoedEmail(rel *dispatcher.Release, lang string) (*dispatcher.EmailContent, error) {
	return call(&r.Recorder, r.EmbargoedEmailFn, "EmbargoedEmail", rel, lang)(rel, lang)
}

// Telegram calls TelegramFn.
func (r *Renderer) Telegram(rel *dispatcher.Release, lang string) ([]string, error) {
	return call(&r.Recorder, r.TelegramFn, "Telegram", rel, lang)(rel, lang)
}

// EmailSender is a function-field fake of dispatcher.EmailSender.
type EmailSender struct {
	Recorder

	SendEmailFn func(ctx context.Context, msg *dispatcher.EmailMessage) (string, error)
}

// SendEmail calls SendEmailFn.
func (e *EmailSender) SendEmail(ctx context.Context, msg *dispatcher.EmailMessage) (string, error) {
	return call(&e.Recorder, e.SendEmailFn, "SendEmail", msg)(ctx, msg)
}

// Messages returns the messages passed to SendEmail so far, in order.
func (e *EmailSender) Messages() []*dispatcher.EmailMessage {
	var out []*dispatcher.EmailMessage
	for _, c := range e.Calls("SendEmail") {
		out = append(out, c.Args[0].(*dispatcher.EmailMessage))
	}
	return out
}

// TelegramSender is a function-field fake of dispatcher.TelegramSender.
type TelegramSender struct {
	Recorder

	SendTelegramFn func(ctx context.Context, post *dispatcher.TelegramPost) ([]string, error)
}

// SendTelegram calls SendTelegramFn.
func (t *TelegramSender) SendTelegram(ctx context.Context, post *dispatcher.TelegramPost) ([]string, error) {
	return call(&t.Recorder, t.SendTelegramFn, "SendTelegram", post)(ctx, post)
}

// Posts returns the posts passed to SendTelegram so far, in order.
func (t *TelegramSender) Posts() []*dispatcher.TelegramPost {
	var out []*dispatcher.TelegramPost
	for _, c := range t.Calls("SendTelegram") {
		out = append(out, c.Args[0].(*dispatcher.TelegramPost))
	}
	return out
}

// Links is a function-field fake of dispatcher.Links.
type Links struct {
	Recorder

	UnsubscribeURLFn func(email, releaseID string) string
}

// UnsubscribeURL calls UnsubscribeURLFn.
func (l *Links) UnsubscribeURL(email, releaseID string) string {
	return call(&l.Recorder, l.UnsubscribeURLFn, "UnsubscribeURL", email, releaseID)(email, releaseID)
}
