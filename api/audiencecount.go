package api

import (
	"net/http"

	"github.com/pregon/pregon/dispatcher"
)

// audienceAdded is what one audience of a release adds to those before it:
// Adds recipients, once the addresses already on an earlier list
// (Duplicates) and the suppressed ones (Suppressed) are taken out. A
// Telegram channel adds 1, or 0 when it is not active (Unavailable); the
// bot's followers add their number.
type audienceAdded struct {
	// Audience is the field of dispatcher.Audiences it comes from:
	// early_lists, lists, telegram_channels or telegram_followers.
	Audience    string `json:"audience"`
	ID          string `json:"id,omitempty"`
	Adds        int    `json:"adds"`
	Duplicates  int    `json:"duplicates,omitempty"`
	Suppressed  int    `json:"suppressed,omitempty"`
	Unavailable bool   `json:"unavailable,omitempty"`
}

// audienceCount is the answer of POST /v1/audiences/count.
type audienceCount struct {
	// Items is each audience named, in the order a send reads them:
	// followers, channels, early lists, lists.
	Items []audienceAdded `json:"items"`
	// Total is the recipients that will be sent something: Emails
	// distinct addresses not suppressed, active Channels, Followers.
	Total      int `json:"total"`
	Emails     int `json:"emails"`
	Channels   int `json:"channels"`
	Followers  int `json:"followers"`
	Duplicates int `json:"duplicates"`
	Suppressed int `json:"suppressed"`
	// Capped says that only the first Read list members were read (the
	// counts are then at least these).
	Capped bool `json:"capped"`
	Read   int  `json:"read,omitempty"`
}

// countAudiences handles POST /v1/audiences/count with the audiences of a
// release ({lists, early_lists, telegram_channels, telegram_followers}, as
// in a release) → 200 audienceCount: how many recipients each adds after
// de-duplication and suppression, and the total, read as a send reads
// them. Nothing is stored: the compose form asks it as boxes are ticked,
// before the release is saved. An unknown id is a 400 that names it.
func (s *Server) countAudiences(w http.ResponseWriter, r *http.Request) error {
	var in dispatcher.Audiences
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	var fe fieldErrors
	rel := &dispatcher.Release{Audiences: dispatcher.Audiences{TelegramFollowers: in.TelegramFollowers}}
	var err error
	if rel.Audiences.Lists, err = s.checkIDs(r.Context(), &fe, "audiences.lists", in.Lists, s.listExists); err != nil {
		return err
	}
	if rel.Audiences.EarlyLists, err = s.checkIDs(r.Context(), &fe, "audiences.early_lists", in.EarlyLists, s.listExists); err != nil {
		return err
	}
	if rel.Audiences.TelegramChannels, err = s.checkIDs(r.Context(), &fe, "audiences.telegram_channels", in.TelegramChannels, s.channelTargetable(map[string]bool{})); err != nil {
		return err
	}
	if err := fe.err(); err != nil {
		return err
	}
	a, err := s.scanAudiences(r.Context(), rel, scanRecent)
	if err != nil {
		return err
	}
	out := audienceCount{Items: a.added, Total: a.recipients(), Emails: a.emails, Channels: a.channels, Followers: a.followers,
		Duplicates: a.duplicates, Suppressed: a.suppressed, Capped: a.capped, Read: a.read}
	if out.Items == nil {
		out.Items = []audienceAdded{}
	}
	return writeJSON(w, http.StatusOK, out)
}
