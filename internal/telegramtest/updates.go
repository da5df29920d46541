package telegramtest

import (
	"encoding/json"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// updatesState is the bot's side of updates: the updates queued for it
// (PushUpdate), the webhook set (setWebhook), and getUpdates in flight.
type updatesState struct {
	queue      []map[string]any // not yet confirmed, update_id ascending
	nextID     int64
	webhook    string
	secret     string
	polling    int // getUpdates requests in flight
	conflicts  int64
	maxPolling int
}

// PushUpdate queues an update for the bot (an object of the Bot API's
// Update type without update_id, which the fake gives) and returns its id.
// getUpdates returns it until an offset past it confirms it.
func (s *Server) PushUpdate(u map[string]any) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.upd.nextID++
	u["update_id"] = s.upd.nextID
	s.upd.queue = append(s.upd.queue, u)
	s.notifyLocked()
	return s.upd.nextID
}

// PushCommand queues a private message text from user userID (whose
// Telegram client reports languageCode) to the bot, and makes the private
// chat exist, so that the bot may answer there (its messages are in
// Messages(strconv.FormatInt(userID, 10))).
func (s *Server) PushCommand(userID int64, languageCode, text string) int64 {
	key := strconv.FormatInt(userID, 10)
	s.mu.Lock()
	c := s.addChatLocked(key)
	c.kicked, c.private = false, true
	s.mu.Unlock()
	user := map[string]any{"id": userID, "is_bot": false, "first_name": "Follower", "language_code": languageCode}
	return s.PushUpdate(map[string]any{"message": map[string]any{
		"message_id": 1, "date": s.now().Unix(), "text": text, "from": user,
		"chat": map[string]any{"id": userID, "type": "private", "first_name": "Follower"},
	}})
}

// PushMyChatMember queues a my_chat_member update: the bot's status in
// chat (added with AddChat, or a numeric id) changed from old to new
// ("administrator", "member", "left", "kicked"). A chat given by "@name" is
// of type channel, with that username; a numeric one too.
func (s *Server) PushMyChatMember(chatID, title, old, new string) int64 {
	s.mu.Lock()
	c := s.addChatLocked(chatID)
	c.kicked = new == "left" || new == "kicked"
	c.title = title
	ch := map[string]any{"id": c.id, "type": "channel", "title": title}
	if c.username != "" {
		ch["username"] = c.username
	}
	s.mu.Unlock()
	botID, _ := strconv.ParseInt(strings.SplitN(s.token, ":", 2)[0], 10, 64)
	member := func(st string) map[string]any {
		m := map[string]any{"status": st, "user": map[string]any{"id": botID, "is_bot": true, "first_name": "Pregón Test"}}
		if st == "administrator" {
			m["can_post_messages"] = true
		}
		if st == "kicked" {
			m["until_date"] = 0
		}
		return m
	}
	return s.PushUpdate(map[string]any{"my_chat_member": map[string]any{
		"chat": ch, "date": s.now().Unix(),
		"from":            map[string]any{"id": 1, "is_bot": false, "first_name": "Admin"},
		"old_chat_member": member(old), "new_chat_member": member(new),
	}})
}

// PushMigration queues the service message of a group upgraded to a
// supergroup: the group from's migrate_to_chat_id is to. Messages to from
// fail from then on with 400 and parameters.migrate_to_chat_id, and to is
// a chat where the bot may post.
func (s *Server) PushMigration(from, to int64) int64 {
	s.Migrate(strconv.FormatInt(from, 10), strconv.FormatInt(to, 10))
	return s.PushUpdate(map[string]any{"message": map[string]any{
		"message_id": 1, "date": s.now().Unix(), "migrate_to_chat_id": to,
		"chat": map[string]any{"id": from, "type": "group", "title": "Group"},
	}})
}

// Migrate upgrades group from to the supergroup to: messages to from fail
// with 400 "group chat was upgraded to a supergroup chat" and
// parameters.migrate_to_chat_id.
func (s *Server) Migrate(from, to string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addChatLocked(to).kicked = false
	c := s.addChatLocked(from)
	c.migratedTo, _ = strconv.ParseInt(to, 10, 64)
}

// Pending returns how many updates getUpdates has not had confirmed.
func (s *Server) Pending() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.upd.queue)
}

// Webhook returns the URL and secret token of the webhook set with
// setWebhook ("" when none is set).
func (s *Server) Webhook() (url, secret string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upd.webhook, s.upd.secret
}

// PollConflicts returns how many getUpdates requests came while another
// was in flight (Telegram answers them, as the fake does, 409 "Conflict:
// terminated by other getUpdates request"), and the most that were ever
// in flight at once.
func (s *Server) PollConflicts() (conflicts int64, maxInFlight int) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.upd.conflicts, s.upd.maxPolling
}

// serveUpdates answers getUpdates, setWebhook and deleteWebhook.
func (s *Server) serveUpdates(w http.ResponseWriter, r *http.Request, method string) {
	params, err := readParams(r)
	if err != nil {
		writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error())
		return
	}
	switch method {
	case "setwebhook":
		if params["url"] == "" {
			writeError(w, http.StatusBadRequest, "Bad Request: bad webhook: An HTTPS URL must be provided for webhook")
			return
		}
		s.mu.Lock()
		s.upd.webhook, s.upd.secret = params["url"], params["secret_token"]
		s.notifyLocked()
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: true, Description: "Webhook was set"})
	case "deletewebhook":
		s.mu.Lock()
		s.upd.webhook, s.upd.secret = "", ""
		s.notifyLocked()
		s.mu.Unlock()
		writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: true, Description: "Webhook was deleted"})
	default:
		s.getUpdates(w, r, params)
	}
}

// getUpdates confirms the updates before offset and returns those after,
// waiting up to timeout seconds for one.
func (s *Server) getUpdates(w http.ResponseWriter, r *http.Request, params map[string]string) {
	offset, _ := strconv.ParseInt(params["offset"], 10, 64)
	timeout, _ := strconv.Atoi(params["timeout"])
	s.mu.Lock()
	if s.upd.webhook != "" {
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "Conflict: can't use getUpdates method while webhook is active; use deleteWebhook to delete the webhook first")
		return
	}
	if s.upd.polling > 0 {
		s.upd.conflicts++
		s.mu.Unlock()
		writeError(w, http.StatusConflict, "Conflict: terminated by other getUpdates request; make sure that only one bot instance is running")
		return
	}
	s.upd.polling++
	s.upd.maxPolling = max(s.upd.maxPolling, s.upd.polling)
	s.mu.Unlock()
	defer func() {
		s.mu.Lock()
		s.upd.polling--
		s.mu.Unlock()
	}()
	deadline := time.NewTimer(time.Duration(timeout) * time.Second)
	defer deadline.Stop()
	for {
		s.mu.Lock()
		q := s.upd.queue
		for len(q) > 0 && q[0]["update_id"].(int64) < offset {
			q = q[1:]
		}
		s.upd.queue = q
		out := append([]map[string]any(nil), q...)
		changed := s.changed
		s.mu.Unlock()
		if len(out) > 0 || timeout <= 0 {
			w.Header().Set("Content-Type", "application/json")
			_ = json.NewEncoder(w).Encode(map[string]any{"ok": true, "result": out})
			return
		}
		select {
		case <-changed:
		case <-deadline.C:
			timeout = 0
		case <-r.Context().Done():
			return
		case <-s.closed:
			return
		}
	}
}
