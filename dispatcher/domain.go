// Package dispatcher holds Pregón's domain: lists, contacts, Telegram channels,
// releases and deliveries, the classification of send errors, and the services
// that plan a release into deliveries and deliver one batch of them.
//
// It imports none of Pregón's other packages; they all import it.
package dispatcher

import (
	"crypto/sha256"
	"encoding/hex"
	"net/mail"
	"slices"
	"strings"
	"time"
)

// ListKind tells how members join a list.
type ListKind string

// The kinds of list.
const (
	// ListPress is curated by coordinators (single opt-in, imported).
	ListPress ListKind = "press"
	// ListSubscribers is for people who asked for the statements; coordinators add them as they add press contacts.
	ListSubscribers ListKind = "subscribers"
)

// Valid reports whether k is a known kind.
func (k ListKind) Valid() bool { return k == ListPress || k == ListSubscribers }

// List is a named set of contacts.
type List struct {
	ID          string    `json:"id"`
	Name        string    `json:"name"`
	Kind        ListKind  `json:"kind"`
	Description string    `json:"description,omitempty"`
	Members     int64     `json:"members"`
	CreatedAt   time.Time `json:"created_at"`
}

// Contact is a person, identified by a normalised email address.
type Contact struct {
	Email      string            `json:"email"`
	Name       string            `json:"name,omitempty"`
	Outlet     string            `json:"outlet,omitempty"`
	Language   string            `json:"language,omitempty"`
	Tags       []string          `json:"tags,omitempty"`
	Attributes map[string]string `json:"attributes,omitempty"`
}

// TelegramChannel is a Telegram chat the organisation's bot posts to.
type TelegramChannel struct {
	ID       string `json:"id"`
	ChatID   string `json:"chat_id"`
	Title    string `json:"title,omitempty"`
	Language string `json:"language,omitempty"`
	// Status is ChannelActive, ChannelPending or ChannelUnavailable.
	Status string `json:"status"`
	// UnavailableReason and UnavailableAt say why and since when an
	// unavailable channel is (the Bot API's answer to the send that found
	// it so); both are empty otherwise.
	UnavailableReason string     `json:"unavailable_reason,omitempty"`
	UnavailableAt     *time.Time `json:"unavailable_at,omitempty"`
	// Mode is ModeFull (the whole text, in as many parts as it takes) or
	// ModeSummary (title, summary and a link to the full text).
	Mode string `json:"mode"`
	// LinkPreview is PreviewSource (the release's source URL is previewed
	// under the first part; none when it has none) or PreviewOff.
	LinkPreview string    `json:"link_preview"`
	CreatedAt   time.Time `json:"created_at"`
}

// Telegram channel modes and link previews.
const (
	ModeFull      = "full"
	ModeSummary   = "summary"
	PreviewOff    = "off"
	PreviewSource = "source"
)

// Telegram channel statuses. Only an active channel is posted to: a
// release planned for another is recorded skipped for it.
const (
	ChannelActive = "active"
	// ChannelPending is a channel waiting for a coordinator's approval.
	ChannelPending = "pending"
	// ChannelUnavailable is a channel the bot can no longer post to (it
	// was removed, blocked, or the chat is gone), until it is enabled again.
	ChannelUnavailable = "unavailable"
)

// PressContact is the block that tells journalists whom to call.
type PressContact struct {
	Name  string `json:"name,omitempty"`
	Email string `json:"email,omitempty"`
	Phone string `json:"phone,omitempty"`
}

// Translation is one language version of a release's text.
type Translation struct {
	Language string `json:"language"`
	Title    string `json:"title"`
	Summary  string `json:"summary,omitempty"`
	Body     string `json:"body"`
}

// Audiences names who receives a release.
type Audiences struct {
	Lists            []string `json:"lists"`
	EarlyLists       []string `json:"early_lists"`
	TelegramChannels []string `json:"telegram_channels"`
	// TelegramFollowers sends the release to every follower of the bot
	// (a private chat that sent /start), in its language (followers.go).
	TelegramFollowers bool `json:"telegram_followers"`
}

// None reports whether a names no one: no list, early list or Telegram
// channel, and not the bot's followers. A draft may be saved so, to choose
// its audience later; it cannot be sent, nor stay scheduled.
func (a Audiences) None() bool {
	return len(a.Lists)+len(a.EarlyLists)+len(a.TelegramChannels) == 0 && !a.TelegramFollowers
}

// ReleaseStatus is where a release is in its life.
type ReleaseStatus string

// Release statuses: draft → scheduled → sending → sent | sent_with_failures | cancelled.
const (
	ReleaseDraft            ReleaseStatus = "draft"
	ReleaseScheduled        ReleaseStatus = "scheduled"
	ReleaseSending          ReleaseStatus = "sending"
	ReleaseSent             ReleaseStatus = "sent"
	ReleaseSentWithFailures ReleaseStatus = "sent_with_failures"
	ReleaseCancelled        ReleaseStatus = "cancelled"
)

// ReleaseStatuses lists every release status, in the order of a release's life.
var ReleaseStatuses = []ReleaseStatus{
	ReleaseDraft, ReleaseScheduled, ReleaseSending, ReleaseSent, ReleaseSentWithFailures, ReleaseCancelled,
}

// Release is one statement and the audiences it goes to.
type Release struct {
	ID           string        `json:"id"`
	Status       ReleaseStatus `json:"status"`
	Title        string        `json:"title"`
	Summary      string        `json:"summary"`
	Body         string        `json:"body"`
	Language     string        `json:"language"`
	Translations []Translation `json:"translations"`
	Contact      *PressContact `json:"contact"`
	SourceURL    string        `json:"source_url"`
	Audiences    Audiences     `json:"audiences"`
	EmbargoUntil *time.Time    `json:"embargo_until"`
	// Timezone is the IANA name of the time zone the release's times are
	// shown in (its embargo line, its dateline); "" means the server's
	// default (PREGON_TIMEZONE). Times are stored in UTC.
	Timezone string `json:"timezone"`
	// Version counts the release's edits: 1 when created, one more with
	// each change of its content or audiences.
	Version int `json:"version"`
	// Author is the name of the token that created the release.
	Author string `json:"author"`
	// ApprovedBy names the coordinator who approved ApprovedVersion; an
	// approval holds only while ApprovedVersion is the current Version.
	ApprovedBy      string `json:"approved_by,omitempty"`
	ApprovedVersion int    `json:"approved_version,omitempty"`
	// ScheduledAt is when its dispatch is (or was) due: set by Send, nil
	// for a release never scheduled. The store keeps it beside the release.
	ScheduledAt *time.Time `json:"scheduled_at"`
	CreatedAt   time.Time  `json:"created_at"`
	UpdatedAt   time.Time  `json:"updated_at"`
	Counts      *Counts    `json:"counts,omitempty"`
	// ArchivedAt is when its deliveries were compacted into the archive
	// (retention): nil while they are live. The store keeps it beside the
	// release.
	ArchivedAt *time.Time `json:"archived_at"`

	// CorrectionOf is set only on a correction: a release hidden from the
	// listings that carries a correction of a sent release to the people
	// who got it (see correction.go).
	CorrectionOf *CorrectionOf `json:"correction_of,omitempty"`

	// Attachments are the files it carries (attachment.go; issue 10).
	Attachments []Attachment `json:"attachments"`
}

// Text returns the release's text in lang when it has a translation in
// that language, and the original otherwise.
func (r *Release) Text(lang string) Translation {
	if lang != "" && !strings.EqualFold(lang, r.Language) {
		for _, t := range r.Translations {
			if strings.EqualFold(t.Language, lang) {
				return t
			}
		}
	}
	return Translation{Language: r.Language, Title: r.Title, Summary: r.Summary, Body: r.Body}
}

// ChannelKind names a delivery channel.
type ChannelKind string

// The delivery channels.
const (
	ChannelEmail    ChannelKind = "email"
	ChannelTelegram ChannelKind = "telegram"
)

// Channels lists every delivery channel.
var Channels = []ChannelKind{ChannelEmail, ChannelTelegram}

// Valid reports whether c is a known channel.
func (c ChannelKind) Valid() bool { return slices.Contains(Channels, c) }

// DeliveryStatus is where one delivery is.
type DeliveryStatus string

// Delivery statuses. Queued, retrying and sending are pending; the rest are final.
const (
	DeliveryQueued     DeliveryStatus = "queued"
	DeliveryRetrying   DeliveryStatus = "retrying"
	DeliverySending    DeliveryStatus = "sending"
	DeliverySent       DeliveryStatus = "sent"
	DeliveryFailed     DeliveryStatus = "failed"
	DeliverySuppressed DeliveryStatus = "suppressed"
	DeliverySkipped    DeliveryStatus = "skipped"
	DeliveryUncertain  DeliveryStatus = "uncertain"
	DeliveryCancelled  DeliveryStatus = "cancelled"
)

// DeliveryStatuses lists every delivery status, pending ones first.
var DeliveryStatuses = []DeliveryStatus{
	DeliveryQueued, DeliveryRetrying, DeliverySending, DeliverySent, DeliveryFailed,
	DeliverySuppressed, DeliverySkipped, DeliveryUncertain, DeliveryCancelled,
}

// Valid reports whether s is a known status.
func (s DeliveryStatus) Valid() bool {
	for _, v := range DeliveryStatuses {
		if s == v {
			return true
		}
	}
	return false
}

// Final reports whether nothing more will happen to a delivery in status s.
func (s DeliveryStatus) Final() bool {
	return s != DeliveryQueued && s != DeliveryRetrying && s != DeliverySending
}

// Delivery is one release going to one destination through one channel.
// Its MessageIDs are an email's Message-ID, or the ids of a Telegram post's
// messages in order: "42" in the chat of Recipient, and "<chat>:<id>"
// ("-1001234567890:7") in another chat, the supergroup that Recipient's
// group became part way (see QualifyMessageID).
type Delivery struct {
	ID         string         `json:"id"`
	ReleaseID  string         `json:"release_id"`
	Channel    ChannelKind    `json:"channel"`
	Recipient  string         `json:"recipient"`
	Name       string         `json:"name,omitempty"`
	Language   string         `json:"language"`
	Status     DeliveryStatus `json:"status"`
	Attempts   int            `json:"attempts"`
	LastError  string         `json:"last_error"`
	MessageIDs []string       `json:"message_ids"`
	// Parts is each part of a Telegram post and what became of it, once
	// the post was tried (empty otherwise).
	Parts     []DeliveryPart `json:"parts,omitempty"`
	CreatedAt time.Time      `json:"created_at"`
	UpdatedAt time.Time      `json:"updated_at"`
	// Bounce is what came back from it (a bounce or complaint), if anything.
	Bounce *Bounce `json:"bounce,omitempty"`
}

// DeliveryPart is one part of a Telegram post: N counts from 1; Status is
// "sent" (with its MessageID), "uncertain" (it may have been posted),
// "failed", "pending" (it will be tried) or "not_sent".
type DeliveryPart struct {
	N         int    `json:"n"`
	Status    string `json:"status"`
	MessageID string `json:"message_id,omitempty"`
	// Reposted marks the part that a resume posted again because it was
	// uncertain: an earlier copy of it may be in the chat, after the part
	// before it.
	Reposted bool `json:"reposted,omitempty"`
}

// PartsOf returns the parts of a Telegram delivery in status st whose post
// has total parts, of which the first len(ids) were posted as ids: the
// part after them is in st's terms (uncertain, failed, pending), the rest
// pending or not sent. It returns nil when total is 0.
func PartsOf(total int, ids []string, st DeliveryStatus) []DeliveryPart {
	if total <= 0 {
		return nil
	}
	next, rest := "not_sent", "not_sent"
	switch st {
	case DeliveryUncertain:
		next = "uncertain"
	case DeliveryFailed:
		next = "failed"
	case DeliveryQueued, DeliveryRetrying, DeliverySending:
		next, rest = "pending", "pending"
	}
	out := make([]DeliveryPart, max(total, len(ids)))
	for i := range out {
		out[i].N = i + 1
		switch {
		case i < len(ids):
			out[i].Status, out[i].MessageID = "sent", ids[i]
		case i == len(ids):
			out[i].Status = next
		default:
			out[i].Status = rest
		}
	}
	return out
}

// DeliveryID returns the deterministic id of the delivery of a release to a
// destination through a channel: the same inputs always give the same id.
func DeliveryID(releaseID string, channel ChannelKind, recipient string) string {
	h := sha256.New()
	h.Write([]byte(releaseID))
	h.Write([]byte{0})
	h.Write([]byte(channel))
	h.Write([]byte{0})
	h.Write([]byte(recipient))
	return hex.EncodeToString(h.Sum(nil)[:12])
}

// Counts tallies a release's deliveries by status, in total and per channel.
type Counts struct {
	Total     int64                                    `json:"total"`
	ByStatus  map[DeliveryStatus]int64                 `json:"-"`
	ByChannel map[ChannelKind]map[DeliveryStatus]int64 `json:"by_channel"`
}

// NormalizeEmail checks an address and returns it in the form Pregón keys
// contacts by: the bare address, trimmed and lower-cased, its domain in
// ASCII (an internationalised domain is converted to punycode). It refuses,
// with an error wrapping ErrInvalidEmail that says why: anything but one
// plain address; a local part (before the @) that is not ASCII, which would
// need SMTPUTF8; an IP-literal domain such as [127.0.0.1]; a domain without
// a dot, with an empty label, or a label that starts or ends with "-".
func NormalizeEmail(s string) (string, error) {
	s = strings.TrimSpace(s)
	if s == "" || len(s) > 254 || strings.ContainsAny(s, " \t\r\n<>,;\"") {
		return "", ErrInvalidEmail
	}
	a, err := mail.ParseAddress(s)
	if err != nil || a.Address != s || a.Name != "" {
		return "", ErrInvalidEmail
	}
	at := strings.LastIndexByte(s, '@')
	if at <= 0 || at == len(s)-1 {
		return "", ErrInvalidEmail
	}
	if err := checkLocalPart(s[:at]); err != nil {
		return "", err
	}
	domain, err := asciiDomain(s[at+1:])
	if err != nil {
		return "", err
	}
	return strings.ToLower(s[:at]) + "@" + domain, nil
}
