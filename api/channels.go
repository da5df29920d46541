package api

import (
	"errors"
	"net/http"
	"regexp"
	"strconv"
	"strings"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// chatUsername matches a public chat's "@name".
var chatUsername = regexp.MustCompile(`^@[A-Za-z0-9_]{5,32}$`)

// validChatID reports whether s is "@name" or a negative numeric chat id
// (groups and channels, like -1001234567890).
func validChatID(s string) bool {
	if chatUsername.MatchString(s) {
		return true
	}
	n, err := strconv.ParseInt(s, 10, 64)
	return err == nil && n < 0 && s == strconv.FormatInt(n, 10)
}

// normalizeChatID lower-cases an "@username": Telegram usernames are
// case-insensitive, so @Canal and @canal are one chat and must be one
// channel. Numeric ids are kept as they are.
func normalizeChatID(s string) string {
	if strings.HasPrefix(s, "@") {
		return strings.ToLower(s)
	}
	return s
}

type channelInput struct {
	ChatID      string `json:"chat_id"`
	Title       string `json:"title"`
	Language    string `json:"language"`
	Mode        string `json:"mode"`
	LinkPreview string `json:"link_preview"`
}

// checkChannelOptions checks a channel's mode and link_preview ("" is
// allowed: the default, or no change).
func checkChannelOptions(fe *fieldErrors, mode, preview string) {
	if mode != "" && mode != dispatcher.ModeFull && mode != dispatcher.ModeSummary {
		fe.add("mode", `must be "full" or "summary"`)
	}
	if preview != "" && preview != dispatcher.PreviewOff && preview != dispatcher.PreviewSource {
		fe.add("link_preview", `must be "off" or "source"`)
	}
}

// createChannel handles POST /v1/telegram/channels → 201 channel.
func (s *Server) createChannel(w http.ResponseWriter, r *http.Request) error {
	var in channelInput
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	c := &dispatcher.TelegramChannel{
		ChatID:   normalizeChatID(strings.TrimSpace(in.ChatID)),
		Title:    strings.TrimSpace(in.Title),
		Language: strings.TrimSpace(in.Language),
		Mode:     strings.TrimSpace(in.Mode), LinkPreview: strings.TrimSpace(in.LinkPreview),
	}
	var fe fieldErrors
	checkChannelOptions(&fe, c.Mode, c.LinkPreview)
	switch {
	case c.ChatID == "":
		fe.add("chat_id", "is required")
	case !validChatID(c.ChatID):
		fe.add("chat_id", "must be \"@name\" (5 to 32 letters, digits or _) or a negative number like -1001234567890")
	}
	checkLine(&fe, "title", c.Title, false, 200)
	checkLanguage(&fe, "language", c.Language, false)
	if err := fe.err(); err != nil {
		return err
	}
	err := s.store.CreateChannel(r.Context(), c)
	if errors.Is(err, dispatcher.ErrConflict) {
		return (&Problem{Status: http.StatusConflict, Detail: "A channel with chat_id " + c.ChatID + " is already registered (Telegram usernames are case-insensitive).",
			Errors: []FieldError{{Field: "chat_id", Message: "is already registered"}}}).coded("channel.taken", "chat_id", c.ChatID)
	}
	if err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ChannelCreate, Target: c.ID,
		Detail: map[string]any{"chat_id": c.ChatID}}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusCreated, c)
}

// getChannels handles GET /v1/telegram/channels?cursor=&limit= → page of
// channels, newest first.
func (s *Server) getChannels(w http.ResponseWriter, r *http.Request) error {
	var fe fieldErrors
	cursor, limit := pageParams(r.URL.Query(), &fe)
	if err := fe.err(); err != nil {
		return err
	}
	cs, next, err := s.store.Channels(r.Context(), cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(cs, next))
}

// enableChannel handles POST /v1/telegram/channels/{id}/enable → 200
// channel: an unavailable (or pending) channel becomes active again, once
// the bot's membership of the chat is checked (with Config.Telegram).
func (s *Server) enableChannel(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	c, err := s.store.Channel(r.Context(), id)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return (&Problem{Status: http.StatusNotFound, Detail: "There is no Telegram channel " + id + "."}).coded("not_found")
	}
	if err != nil {
		return err
	}
	if s.telegram != nil {
		if err := s.telegram.CheckChat(r.Context(), c.ChatID); err != nil {
			return (&Problem{Status: http.StatusConflict, Detail: "The bot cannot post to " + c.ChatID + " (" + err.Error() +
				"); add it to the channel as an administrator allowed to post messages, then enable the channel again."}).coded("channel.bot_cannot_post", "chat_id", c.ChatID)
		}
	}
	c, was, err := s.store.EnableChannel(r.Context(), id)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return (&Problem{Status: http.StatusNotFound, Detail: "There is no Telegram channel " + id + "."}).coded("not_found")
	}
	if err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ChannelEnable, Target: c.ID,
		Detail: map[string]any{"chat_id": c.ChatID, "was": was}}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}

// channelPatch is the body of PATCH /v1/telegram/channels/{id}: the
// fields given are changed.
type channelPatch struct {
	Title       *string `json:"title"`
	Language    *string `json:"language"`
	Mode        *string `json:"mode"`
	LinkPreview *string `json:"link_preview"`
}

// editChannel handles PATCH /v1/telegram/channels/{id} {title?, language?,
// mode?, link_preview?} → 200 channel. Releases planned from then on (and
// posts not yet made) follow the new settings.
func (s *Server) editChannel(w http.ResponseWriter, r *http.Request) error {
	var in channelPatch
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	trim := func(p *string) *string {
		if p == nil {
			return nil
		}
		v := strings.TrimSpace(*p)
		return &v
	}
	ch := dispatcher.ChannelChange{Title: trim(in.Title), Language: trim(in.Language), Mode: trim(in.Mode), LinkPreview: trim(in.LinkPreview)}
	var fe fieldErrors
	if ch.Title != nil {
		checkLine(&fe, "title", *ch.Title, false, 200)
	}
	if ch.Language != nil {
		checkLanguage(&fe, "language", *ch.Language, false)
	}
	if ch.Mode != nil && *ch.Mode == "" {
		fe.add("mode", `must be "full" or "summary"`)
	}
	if ch.LinkPreview != nil && *ch.LinkPreview == "" {
		fe.add("link_preview", `must be "off" or "source"`)
	}
	var mode, preview string
	if ch.Mode != nil {
		mode = *ch.Mode
	}
	if ch.LinkPreview != nil {
		preview = *ch.LinkPreview
	}
	checkChannelOptions(&fe, mode, preview)
	if ch == (dispatcher.ChannelChange{}) {
		fe.add("", "give at least one of title, language, mode, link_preview")
	}
	if err := fe.err(); err != nil {
		return err
	}
	id := r.PathValue("id")
	c, err := s.store.UpdateChannel(r.Context(), id, ch)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return (&Problem{Status: http.StatusNotFound, Detail: "There is no Telegram channel " + id + "."}).coded("not_found")
	}
	if err != nil {
		return err
	}
	detail := map[string]any{"chat_id": c.ChatID}
	for k, v := range map[string]*string{"title": ch.Title, "language": ch.Language, "mode": ch.Mode, "link_preview": ch.LinkPreview} {
		if v != nil {
			detail[k] = *v
		}
	}
	if err := s.audit(r, audit.Entry{Action: audit.ChannelUpdate, Target: c.ID, Detail: detail}); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, c)
}
