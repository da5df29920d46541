package telegramtest

import (
	"encoding/json"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// apiResponse is the envelope of every Bot API answer.
type apiResponse struct {
	OK          bool           `json:"ok"`
	Result      any            `json:"result,omitempty"`
	ErrorCode   int            `json:"error_code,omitempty"`
	Description string         `json:"description,omitempty"`
	Parameters  *apiParameters `json:"parameters,omitempty"`
}

type apiParameters struct {
	RetryAfter      int   `json:"retry_after,omitempty"`
	MigrateToChatID int64 `json:"migrate_to_chat_id,omitempty"` // updates.go
}

type apiChat struct {
	ID       int64  `json:"id"`
	Type     string `json:"type"`
	Title    string `json:"title,omitempty"`
	Username string `json:"username,omitempty"`
}

type apiMessage struct {
	MessageID  int64   `json:"message_id"`
	SenderChat apiChat `json:"sender_chat"`
	Date       int64   `json:"date"`
	Chat       apiChat `json:"chat"`
	Text       string  `json:"text"`
}

// apiEditedMessage is a message as editMessageText returns it.
type apiEditedMessage struct {
	apiMessage
	EditDate int64 `json:"edit_date"`
}

type apiUser struct {
	ID                      int64  `json:"id"`
	IsBot                   bool   `json:"is_bot"`
	FirstName               string `json:"first_name"`
	Username                string `json:"username"`
	CanJoinGroups           bool   `json:"can_join_groups"`
	CanReadAllGroupMessages bool   `json:"can_read_all_group_messages"`
	SupportsInlineQueries   bool   `json:"supports_inline_queries"`
}

func writeJSON(w http.ResponseWriter, status int, v apiResponse) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	_ = json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, status int, description string) {
	writeJSON(w, status, apiResponse{ErrorCode: status, Description: description})
}

func writeTooMany(w http.ResponseWriter, retryAfter int) {
	writeJSON(w, http.StatusTooManyRequests, apiResponse{
		ErrorCode:   http.StatusTooManyRequests,
		Description: fmt.Sprintf("Too Many Requests: retry after %d", retryAfter),
		Parameters:  &apiParameters{RetryAfter: retryAfter},
	})
}

func (s *Server) serveHTTP(w http.ResponseWriter, r *http.Request) {
	rest, ok := strings.CutPrefix(r.URL.Path, "/bot")
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	token, method, ok := strings.Cut(rest, "/")
	if !ok {
		writeError(w, http.StatusNotFound, "Not Found")
		return
	}
	if token != s.token {
		writeError(w, http.StatusUnauthorized, "Unauthorized")
		return
	}
	switch strings.ToLower(method) {
	case "getme":
		id, _ := strconv.ParseInt(strings.SplitN(s.token, ":", 2)[0], 10, 64)
		writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: apiUser{
			ID: id, IsBot: true, FirstName: "Pregón Test", Username: "pregon_test_bot", CanJoinGroups: true,
		}})
	case "getchatmember":
		params, err := readParams(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error())
			return
		}
		s.getChatMember(w, params)
	case "getupdates", "setwebhook", "deletewebhook": // updates.go (followers)
		s.serveUpdates(w, r, strings.ToLower(method))
	case "sendphoto", "senddocument", "sendmediagroup", "editmessagecaption": // media.go
		s.serveMedia(w, r, strings.ToLower(method))
	case "sendmessage", "editmessagetext":
		params, err := readParams(r)
		if err != nil {
			writeError(w, http.StatusBadRequest, "Bad Request: "+err.Error())
			return
		}
		if strings.EqualFold(method, "sendMessage") {
			s.sendMessage(w, r, params)
		} else {
			s.editMessageText(w, r, params)
		}
	default:
		writeError(w, http.StatusNotFound, "Not Found")
	}
}

// readParams reads a method's parameters from the query string and a
// multipart, url-encoded or JSON body, and reads the body to its end.
func readParams(r *http.Request) (map[string]string, error) {
	params := make(map[string]string)
	for k, v := range r.URL.Query() {
		params[k] = v[0]
	}
	defer io.Copy(io.Discard, r.Body) // reach EOF, so a client that gives up cancels r.Context()
	ctype, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	switch ctype {
	case "multipart/form-data":
		if err := r.ParseMultipartForm(1 << 20); err != nil {
			return nil, fmt.Errorf("can't parse multipart body: %v", err)
		}
		for k, v := range r.MultipartForm.Value {
			params[k] = v[0]
		}
	case "application/x-www-form-urlencoded":
		if err := r.ParseForm(); err != nil {
			return nil, fmt.Errorf("can't parse form body: %v", err)
		}
		for k, v := range r.PostForm {
			params[k] = v[0]
		}
	case "application/json":
		var body map[string]json.RawMessage
		if err := json.NewDecoder(r.Body).Decode(&body); err != nil {
			return nil, fmt.Errorf("can't parse JSON body: %v", err)
		}
		for k, raw := range body {
			var str string
			if json.Unmarshal(raw, &str) == nil {
				params[k] = str
			} else {
				params[k] = string(raw)
			}
		}
	}
	return params, nil
}

// linkPreviewURL returns link_preview_options.url, or "".
func linkPreviewURL(params map[string]string) string {
	var o struct {
		URL string `json:"url"`
	}
	_ = json.Unmarshal([]byte(params["link_preview_options"]), &o)
	return o.URL
}

func linkPreviewDisabled(params map[string]string) bool {
	if v, ok := params["link_preview_options"]; ok {
		var o struct {
			IsDisabled bool `json:"is_disabled"`
		}
		if json.Unmarshal([]byte(v), &o) == nil && o.IsDisabled {
			return true
		}
	}
	b, _ := strconv.ParseBool(params["disable_web_page_preview"])
	return b
}

// request is a sendMessage or editMessageText request that passed the
// checks every such request goes through.
type request struct {
	c                 *chat
	fail              *Failure // an injected failure to answer with after the message was accepted
	text, mode, plain string
}

// admit runs the checks sendMessage and editMessageText share, in
// Telegram's order: an injected failure, the chat, the bot's membership, the
// text. It answers the request and returns nil when one fails.
func (s *Server) admit(w http.ResponseWriter, r *http.Request, params map[string]string) *request {
	req := s.admitChat(w, r, params)
	if req == nil {
		return nil
	}
	text, mode := params["text"], params["parse_mode"]
	plain, problem := checkText(text, mode)
	if problem != "" {
		writeError(w, http.StatusBadRequest, problem)
		return nil
	}
	req.text, req.mode, req.plain = text, mode, plain
	return req
}

// admitChat runs the checks every request to a chat goes through, in
// Telegram's order: an injected failure, the chat, the bot's membership.
// It answers the request and returns nil when one fails.
func (s *Server) admitChat(w http.ResponseWriter, r *http.Request, params map[string]string) *request {
	chatID := params["chat_id"]
	if chatID == "" {
		writeError(w, http.StatusBadRequest, "Bad Request: chat_id is empty")
		return nil
	}

	s.mu.Lock()
	s.requests++
	s.notifyLocked()
	var fail *Failure
	key := s.failKeyLocked(chatID)
	if q := s.fails[key]; len(q) > 0 {
		fail = q[0]
		s.fails[key] = q[1:]
	}
	c := s.resolveLocked(chatID)
	kicked := c != nil && c.kicked
	var private bool
	var migratedTo int64 // updates.go
	if c != nil {
		private, migratedTo = c.private, c.migratedTo
	}
	if fail != nil && c != nil && fail.Status == http.StatusTooManyRequests && fail.RetryAfter > 0 {
		c.blockedUntil = s.now().Add(time.Duration(fail.RetryAfter) * time.Second)
	}
	s.mu.Unlock()

	if fail != nil && !fail.AfterDelivery {
		s.fail(w, r, *fail)
		return nil
	}
	switch {
	case c == nil:
		writeError(w, http.StatusBadRequest, "Bad Request: chat not found")
		return nil
	case kicked && private:
		writeError(w, http.StatusForbidden, "Forbidden: bot was blocked by the user")
		return nil
	case kicked:
		writeError(w, http.StatusForbidden, "Forbidden: bot was kicked from the channel chat")
		return nil
	case migratedTo != 0:
		writeJSON(w, http.StatusBadRequest, apiResponse{ErrorCode: http.StatusBadRequest,
			Description: "Bad Request: group chat was upgraded to a supergroup chat",
			Parameters:  &apiParameters{MigrateToChatID: migratedTo}})
		return nil
	}
	return &request{c: c, fail: fail}
}

// rateLimitedLocked answers 429 and returns true when a message to c now
// would break a rate limit; otherwise it counts one message and returns false.
func (s *Server) rateLimitedLocked(w http.ResponseWriter, c *chat, now time.Time) bool {
	return s.rateLimitedNLocked(w, c, now, 1)
}

// rateLimitedNLocked is rateLimitedLocked for n messages sent in one
// request (an album): each counts against the bot's per-second and the
// chat's per-minute limits; against the chat's per-second limit the
// request goes when one message may, and the n messages take the chat's
// next n slots (an album of 3 in a chat of one a second holds it for 3 s).
func (s *Server) rateLimitedNLocked(w http.ResponseWriter, c *chat, now time.Time, n int) bool {
	g, m, sec := s.globalWin.waitN(now, n), c.win.waitN(now, n), c.secWin.wait(now)
	if wait := max(g, m, sec, c.blockedUntil.Sub(now)); wait > 0 {
		s.violations++
		switch {
		case g > 0:
			s.broken[LimitGlobal]++
		case sec > 0:
			s.broken[LimitChatSecond]++
		case m > 0:
			s.broken[LimitChatMinute]++
		default:
			s.broken[LimitRetryAfter]++
		}
		writeTooMany(w, retryAfter(wait))
		return true
	}
	for i := range n {
		s.globalWin.add(now)
		c.win.add(now)
		c.secWin.add(now.Add(time.Duration(i) * c.secWin.spacing()))
	}
	return false
}

// replyTo returns the message id a sendMessage replies to (0: none) and
// whether it may be sent when that message does not exist, from
// reply_parameters or the older reply_to_message_id and
// allow_sending_without_reply.
func replyTo(params map[string]string) (int64, bool) {
	if v, ok := params["reply_parameters"]; ok {
		var p struct {
			MessageID                int64 `json:"message_id"`
			AllowSendingWithoutReply bool  `json:"allow_sending_without_reply"`
		}
		if json.Unmarshal([]byte(v), &p) == nil {
			return p.MessageID, p.AllowSendingWithoutReply
		}
	}
	id, _ := strconv.ParseInt(params["reply_to_message_id"], 10, 64)
	allow, _ := strconv.ParseBool(params["allow_sending_without_reply"])
	return id, allow
}

func (s *Server) sendMessage(w http.ResponseWriter, r *http.Request, params map[string]string) {
	req := s.admit(w, r, params)
	if req == nil {
		return
	}
	c := req.c
	reply, allowWithout := replyTo(params)

	s.mu.Lock()
	if reply != 0 {
		if m := c.messageLocked(reply); m == nil || m.Deleted {
			if !allowWithout {
				s.mu.Unlock()
				writeError(w, http.StatusBadRequest, "Bad Request: message to be replied not found")
				return
			}
			reply = 0
		}
	}
	now := s.now()
	if s.rateLimitedLocked(w, c, now) {
		s.mu.Unlock()
		return
	}
	c.lastID++
	silent, _ := strconv.ParseBool(params["disable_notification"])
	m := Message{Silent: silent,
		ID: c.lastID, ChatID: c.key, Text: req.text, ParseMode: req.mode, PlainText: req.plain,
		LinkPreviewDisabled: linkPreviewDisabled(params), Date: now, ReplyTo: reply,
		LinkPreviewURL: linkPreviewURL(params),
	}
	c.messages = append(c.messages, m)
	c.acceptedLocked() // migrate.go
	s.total++
	s.notifyLocked()
	ac := apiChat{ID: c.id, Type: "channel", Title: c.title, Username: c.username}
	s.mu.Unlock()

	if req.fail != nil {
		s.fail(w, r, *req.fail)
		return
	}
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: apiMessage{
		MessageID: m.ID, SenderChat: ac, Date: now.Unix(), Chat: ac, Text: req.plain,
	}})
}

// editMessageText replaces the text of a message the bot posted, as
// Telegram does: the message must exist and not be deleted, and the new text
// must differ from the current one ("message is not modified" otherwise).
func (s *Server) editMessageText(w http.ResponseWriter, r *http.Request, params map[string]string) {
	id, err := strconv.ParseInt(params["message_id"], 10, 64)
	if err != nil || id == 0 {
		writeError(w, http.StatusBadRequest, "Bad Request: message identifier is not specified")
		return
	}
	req := s.admit(w, r, params)
	if req == nil {
		return
	}
	c := req.c

	s.mu.Lock()
	m := c.messageLocked(id)
	switch {
	case m == nil || m.Deleted:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Bad Request: message to edit not found")
		return
	case m.Kind != "" && m.Kind != KindText:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Bad Request: there is no text in the message to edit")
		return
	case m.Text == req.text && m.ParseMode == req.mode:
		s.mu.Unlock()
		writeError(w, http.StatusBadRequest, "Bad Request: message is not modified: specified new message content and reply markup are exactly the same as a current content and reply markup of the message")
		return
	}
	now := s.now()
	if s.rateLimitedLocked(w, c, now) {
		s.mu.Unlock()
		return
	}
	m.Text, m.ParseMode, m.PlainText = req.text, req.mode, req.plain
	m.Edits++
	m.EditDate = now
	edited := *m
	s.notifyLocked()
	ac := apiChat{ID: c.id, Type: "channel", Title: c.title, Username: c.username}
	s.mu.Unlock()

	if req.fail != nil {
		s.fail(w, r, *req.fail)
		return
	}
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: apiEditedMessage{
		apiMessage: apiMessage{MessageID: edited.ID, SenderChat: ac, Date: edited.Date.Unix(), Chat: ac, Text: req.plain},
		EditDate:   now.Unix(),
	}})
}

// fail answers with an injected failure.
func (s *Server) fail(w http.ResponseWriter, r *http.Request, f Failure) {
	status := f.Status
	if status == 0 {
		status = http.StatusBadGateway
	}
	switch {
	case f.Hang:
		select {
		case <-r.Context().Done():
		case <-s.closed:
		}
	case f.Reset:
		if hj, ok := w.(http.Hijacker); ok {
			if conn, _, err := hj.Hijack(); err == nil {
				conn.Close()
				return
			}
		}
		panic(http.ErrAbortHandler)
	case f.HTMLPage:
		text := fmt.Sprintf("%d %s", status, http.StatusText(status))
		w.Header().Set("Content-Type", "text/html")
		w.WriteHeader(status)
		fmt.Fprintf(w, "<html>\r\n<head><title>%s</title></head>\r\n<body>\r\n<center><h1>%s</h1></center>\r\n<hr><center>nginx/1.18.0</center>\r\n</body>\r\n</html>\r\n", text, text)
	default:
		desc := f.Description
		if desc == "" {
			desc = http.StatusText(status)
			if status == http.StatusTooManyRequests {
				desc = fmt.Sprintf("Too Many Requests: retry after %d", f.RetryAfter)
			}
		}
		resp := apiResponse{ErrorCode: status, Description: desc}
		if f.RetryAfter > 0 {
			resp.Parameters = &apiParameters{RetryAfter: f.RetryAfter}
		}
		writeJSON(w, status, resp)
	}
}

// getChatMember answers the bot's own membership of a chat: an
// administrator, 400 for an unknown chat, 403 once the bot was kicked.
// Other users are not members of the fake's chats.
func (s *Server) getChatMember(w http.ResponseWriter, params map[string]string) {
	s.mu.Lock()
	c := s.resolveLocked(params["chat_id"])
	kicked := c != nil && c.kicked
	s.mu.Unlock()
	switch {
	case c == nil:
		writeError(w, http.StatusBadRequest, "Bad Request: chat not found")
		return
	case kicked:
		writeError(w, http.StatusForbidden, "Forbidden: bot is not a member of the channel chat")
		return
	}
	botID, _ := strconv.ParseInt(strings.SplitN(s.token, ":", 2)[0], 10, 64)
	user, _ := strconv.ParseInt(params["user_id"], 10, 64)
	if user != botID {
		writeError(w, http.StatusBadRequest, "Bad Request: user not found")
		return
	}
	writeJSON(w, http.StatusOK, apiResponse{OK: true, Result: map[string]any{
		"status":        "administrator",
		"user":          apiUser{ID: botID, IsBot: true, FirstName: "Pregón Test", Username: "pregon_test_bot"},
		"can_be_edited": false, "can_post_messages": true, "can_edit_messages": true, "can_delete_messages": true,
	}})
}
