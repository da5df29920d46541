package client

import (
	"encoding/json"
	"fmt"
	"maps"
	"slices"

	"github.com/pregon/pregon/dispatcher"
)

// Page is one page of a collection; NextCursor is "" on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// PageQuery chooses a page: the cursor a previous page returned ("" for the
// first) and its size (0: the server's default).
type PageQuery struct {
	Cursor string
	Limit  int
}

// Release is a release as the API returns it: dispatcher.Release with its
// counts read back. Its Counts field stands in for the embedded
// Release.Counts, which stays nil.
type Release struct {
	dispatcher.Release
	Counts Counts `json:"counts"`
	// Warnings are what the server found worth saying of a release it
	// just created or edited (CreateRelease, EditRelease): the checks of
	// its checklist that are not ok, but for the slow ones (links, dns).
	// They never stopped the request. Empty in other answers.
	Warnings []dispatcher.Check `json:"warnings,omitempty"`
}

// Final reports whether nothing more will happen to the release: it is
// sent, sent with failures, or cancelled.
func (r *Release) Final() bool {
	switch r.Status {
	case dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures, dispatcher.ReleaseCancelled:
		return true
	}
	return false
}

// Counts are a release's delivery counts as the API sends them:
// {"total": n, "<status>": n, ..., "by_channel": {"email": {"total": n, "<status>": n}}}.
// Statuses the client does not know are kept too, zeros are left out (as
// dispatcher.Counts.Add leaves them), and each channel's "total" is in
// ChannelTotal rather than among its statuses.
type Counts struct {
	dispatcher.Counts
	ChannelTotal map[dispatcher.ChannelKind]int64
}

// UnmarshalJSON reads counts, ignoring fields that are not numbers.
func (c *Counts) UnmarshalJSON(data []byte) error {
	var raw map[string]json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return fmt.Errorf("counts: %w", err)
	}
	*c = Counts{Counts: *dispatcher.NewCounts(), ChannelTotal: map[dispatcher.ChannelKind]int64{}}
	for k, v := range raw {
		switch k {
		case "total":
			if err := json.Unmarshal(v, &c.Total); err != nil {
				return fmt.Errorf("counts.total: %w", err)
			}
		case "by_channel":
			var byCh map[dispatcher.ChannelKind]map[dispatcher.DeliveryStatus]int64
			if err := json.Unmarshal(v, &byCh); err != nil {
				return fmt.Errorf("counts.by_channel: %w", err)
			}
			for ch, m := range byCh {
				c.ByChannel[ch] = map[dispatcher.DeliveryStatus]int64{}
				for s, n := range m {
					if s == "total" {
						c.ChannelTotal[ch] = n
					} else if n != 0 {
						c.ByChannel[ch][s] = n
					}
				}
			}
		default:
			var n int64
			if json.Unmarshal(v, &n) == nil && n != 0 {
				c.ByStatus[dispatcher.DeliveryStatus(k)] = n
			}
		}
	}
	return nil
}

// Pending returns how many deliveries are not final yet: queued, retrying
// or sending.
func (c *Counts) Pending() int64 {
	return c.ByStatus[dispatcher.DeliveryQueued] + c.ByStatus[dispatcher.DeliveryRetrying] + c.ByStatus[dispatcher.DeliverySending]
}

// Statuses returns the statuses dispatcher knows, pending ones first, then
// any other status the counts mention, sorted.
func (c *Counts) Statuses() []dispatcher.DeliveryStatus {
	out := slices.Clone(dispatcher.DeliveryStatuses)
	extra := map[dispatcher.DeliveryStatus]bool{}
	add := func(m map[dispatcher.DeliveryStatus]int64) {
		for s := range m {
			if !s.Valid() {
				extra[s] = true
			}
		}
	}
	add(c.ByStatus)
	for _, m := range c.ByChannel {
		add(m)
	}
	return append(out, slices.Sorted(maps.Keys(extra))...)
}

// ImportReport is the answer to a contact upload: how many contacts joined
// the list, how many members were updated, how many rows repeated an email
// already seen in the upload, and the rows that were refused.
type ImportReport struct {
	Added   int        `json:"added"`
	Updated int        `json:"updated"`
	Skipped int        `json:"skipped"`
	Errors  []RowError `json:"errors"`
	// ErrorsOmitted counts refused rows beyond those listed.
	ErrorsOmitted int `json:"errors_omitted"`
	// Suppressed lists the saved rows whose address is suppressed: kept on
	// the list, never mailed.
	Suppressed []SuppressedRow `json:"suppressed"`
	// SuppressedOmitted counts suppressed rows beyond those listed.
	SuppressedOmitted int `json:"suppressed_omitted"`
}

// SuppressedRow is a saved row of an upload whose address is suppressed,
// and why (unsubscribed, ...).
type SuppressedRow struct {
	Row    int    `json:"row"`
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

// RowError is a refused row of an upload: its line in a CSV file (the
// header is line 1), its 1-based position in a JSON array. Message says
// why in English; Code and Args say it for a program (api.NoteCodes).
type RowError struct {
	Row     int            `json:"row"`
	Email   string         `json:"email"`
	Message string         `json:"message"`
	Code    string         `json:"code,omitempty"`
	Args    map[string]any `json:"args,omitempty"`
}

// Preview is a release as a recipient would get it through one channel:
// Subject, Text and HTML for email, Messages for Telegram.
type Preview struct {
	Channel  dispatcher.ChannelKind `json:"channel"`
	Language string                 `json:"language"`
	Copy     string                 `json:"copy,omitempty"` // email: "public" or "early"
	Subject  string                 `json:"subject"`
	Text     string                 `json:"text"`
	HTML     string                 `json:"html"`
	Messages []string               `json:"messages"`
}

// NewList is the body of POST /v1/lists.
type NewList struct {
	Name        string              `json:"name"`
	Kind        dispatcher.ListKind `json:"kind"`
	Description string              `json:"description,omitempty"`
}

// NewChannel is the body of POST /v1/telegram/channels.
type NewChannel struct {
	ChatID   string `json:"chat_id"`
	Title    string `json:"title,omitempty"`
	Language string `json:"language,omitempty"`
}

// NewRelease is the body of POST /v1/releases.
type NewRelease struct {
	Title        string                   `json:"title"`
	Summary      string                   `json:"summary,omitempty"`
	Body         string                   `json:"body"`
	Language     string                   `json:"language"`
	Translations []dispatcher.Translation `json:"translations,omitempty"`
	Contact      *dispatcher.PressContact `json:"contact,omitempty"`
	SourceURL    string                   `json:"source_url,omitempty"`
	Audiences    Audiences                `json:"audiences"`
	// EmbargoUntil is an RFC 3339 time ("": send now).
	EmbargoUntil string `json:"embargo_until,omitempty"`
	// Timezone is the IANA time zone the release's times are shown in ("":
	// the server's).
	Timezone string `json:"timezone,omitempty"`
	// Send sends the release once created (else it stays a draft).
	Send bool `json:"send"`
	// IdempotencyKey, when not "", is sent as the Idempotency-Key header:
	// the server creates one release per key (for 24 hours) and answers a
	// repeat with the first one's, so a create that is retried after an
	// error or a lost answer never makes a second release. Use a fresh
	// random key per release (NewIdempotencyKey) and the same one for
	// every retry of it.
	IdempotencyKey string `json:"-"`
}

// Audiences names who receives a new release: list and Telegram channel
// ids. CreateRelease sends a nil Lists or TelegramChannels as [].
type Audiences struct {
	Lists            []string `json:"lists"`
	EarlyLists       []string `json:"early_lists,omitempty"`
	TelegramChannels []string `json:"telegram_channels"`
	// TelegramFollowers sends the release to every follower of the bot,
	// in its language.
	TelegramFollowers bool `json:"telegram_followers,omitempty"`
}

// DeliveryFilter chooses a release's deliveries by status and channel
// (each "" for all).
type DeliveryFilter struct {
	Status  dispatcher.DeliveryStatus
	Channel dispatcher.ChannelKind
}
