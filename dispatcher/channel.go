package dispatcher

import "context"

// Address is a named email address.
type Address struct {
	Name  string
	Email string
}

// EmailContent is one language version of a release rendered for email. It is
// rendered once per release and language and shared by all its recipients.
// Text and HTML are the bodies without the recipient's unsubscribe line,
// which Unsubscribe places; WithUnsubscribe makes one recipient's version.
type EmailContent struct {
	Subject     string
	Text        string
	HTML        string
	Unsubscribe UnsubscribeSlots
	// Attachments are the files every message of this content carries
	// (issue 10 item 5); the email channel encodes them once per content.
	Attachments []EmailAttachment
}

// EmailAttachment is a file attached to an email. With a ContentID it is
// shown inline (the HTML refers to it as "cid:" + ContentID), else it is
// offered as an attachment.
type EmailAttachment struct {
	Filename    string
	ContentType string
	ContentID   string // without angle brackets; "" for a plain attachment
	Data        []byte
}

// EmailMessage is one email to one recipient.
type EmailMessage struct {
	DeliveryID string
	To         Address
	ReplyTo    *Address
	MessageID  string // without angle brackets, e.g. "abc@example.org"
	Content    *EmailContent
	// Headers are extra headers (e.g. List-Unsubscribe); values are plain text.
	Headers map[string]string
	// UnsubscribeURL is the recipient's own unsubscribe link, which the
	// channel writes into the footer line Content keeps for it ("": the line
	// is left out).
	UnsubscribeURL string
}

// EmailSender sends one email. On failure it returns a *SendError that says
// whether to retry. It must be safe for concurrent use.
type EmailSender interface {
	SendEmail(ctx context.Context, msg *EmailMessage) (messageID string, err error)
}

// TelegramPost is one release posted to one Telegram chat, as one or more
// messages in Telegram's HTML parse mode, each valid on its own.
type TelegramPost struct {
	DeliveryID string
	ChatID     string
	Parts      []string
	// ReplyTo, when set, is the id of a message in the chat that the first
	// part replies to (a correction to a post that can no longer be
	// edited); the part is posted even when that message has gone.
	ReplyTo string
	// FirstPart is the index in the whole post of Parts[0]: 0, or the
	// number of parts already posted when the rest is being posted. Only
	// the post's first part notifies the chat's members and shows a link
	// preview.
	FirstPart int
	// Total is the number of parts of the whole post (0: len(Parts)+FirstPart).
	Total int
	// NoLinkPreview turns link previews off for every part; otherwise
	// LinkPreviewURL, when set, is the link previewed under the first
	// part (else Telegram previews the first link in it).
	NoLinkPreview  bool
	LinkPreviewURL string
	// Paced means that the caller took a turn under the rate limits for
	// each part (see TelegramPacer): the sender does not wait for one.
	Paced bool
	// Lead are the requests with images posted before Parts, and Files
	// those with documents posted after them (tgpost.go).
	Lead, Files []TelegramMedia
	// Posted is how many messages of the whole post were posted before
	// this one's first (at least FirstPart): only the post's first message
	// notifies.
	Posted int
	// Thread makes every message of the post after its first reply to
	// the first: to ReplyTo when Posted > 0, else to the first message
	// this post sends.
	Thread bool
}

// TelegramSender posts messages to a Telegram chat. It returns the ids of the
// messages it sent, in order, even when it fails part way; on failure the error
// is a *SendError that says whether to retry. It must be safe for concurrent use.
type TelegramSender interface {
	SendTelegram(ctx context.Context, post *TelegramPost) (messageIDs []string, err error)
}
