// Package telegramtest is a fake Telegram Bot API served over HTTP, for tests
// and benchmarks. It answers sendMessage, editMessageText, sendPhoto,
// sendDocument, sendMediaGroup and editMessageCaption (media.go), getMe and
// getChatMember (the bot's own membership) with
// Telegram's response shapes and enforces Telegram's limits: the HTML parse
// mode, 4096 UTF-16 code units per message, 30 messages per second per bot
// and 20 per minute per chat, edits included (answered 429 with
// retry_after), unknown chats and kicked bots, replies to and edits of
// messages that do not exist (or were deleted, see DeleteMessage), and an
// edit that changes nothing. Failures can be injected per chat.
package telegramtest

import (
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
)

// Message is a message the fake accepted.
type Message struct {
	ID     int64
	ChatID string // the chat as given to AddChat
	// Text is the text as sent: raw HTML when ParseMode is "HTML".
	Text      string
	ParseMode string
	// PlainText is the text a reader sees, after entity parsing and trimming.
	PlainText string
	// LinkPreviewDisabled reports whether the request turned link previews
	// off (link_preview_options.is_disabled or disable_web_page_preview).
	LinkPreviewDisabled bool
	// LinkPreviewURL is link_preview_options.url, the link to preview.
	LinkPreviewURL string
	// Silent reports disable_notification: members were not notified.
	Silent bool
	Date   time.Time
	// ReplyTo is the id of the message this one replies to (0: none).
	ReplyTo int64
	// Edits counts the edits accepted (editMessageText); Text, ParseMode
	// and PlainText are those of the last one.
	Edits    int
	EditDate time.Time
	// Deleted is set by DeleteMessage: the message can no longer be edited
	// or replied to.
	Deleted bool
	// Kind is "" (text: KindText is never set), KindPhoto or KindDocument (media.go). Of a
	// photo or a document, Text and PlainText are the caption, and Edits
	// counts editMessageCaption's.
	Kind string
	// FileID is the photo's or document's file_id; Uploaded reports that
	// the request uploaded the file (else it sent a file_id).
	FileID   string
	Uploaded bool
	// Filename is the uploaded document's or photo's file name.
	Filename string
	// MediaGroupID is set on each message of an album.
	MediaGroupID string
}

// Failure is an injected failure, set with FailNext.
type Failure struct {
	// Status is the HTTP status and error_code to answer with (default 502).
	Status int
	// RetryAfter, when positive, is sent as parameters.retry_after.
	RetryAfter int
	// Description replaces the default description (e.g. "Bad Gateway").
	Description string
	// HTMLPage answers with an nginx-style HTML error page instead of JSON.
	HTMLPage bool
	// Hang never answers: the handler returns when the request's context
	// ends (the client gave up) or the server closes.
	Hang bool
	// Reset closes the connection without answering.
	Reset bool
	// AfterDelivery accepts and records the message first, then fails: the
	// client sees an error for a message that was posted.
	AfterDelivery bool
}

// Option configures a Server.
type Option func(*Server)

// PerChatPerMinute sets how many messages a chat accepts in any 60 seconds
// (default 20). New panics if n < 1.
func PerChatPerMinute(n int) Option { return func(s *Server) { s.perChat = n } }

// GlobalPerSecond sets how many messages the bot may send in any second,
// over all chats (default 30). New panics if n < 1.
func GlobalPerSecond(n int) Option { return func(s *Server) { s.global = n } }

// PerChatPerSecond sets how many messages a chat accepts in any second (default:
// no such limit; Telegram asks bots to send no more than one a second to a
// chat). New panics if n < 0.
func PerChatPerSecond(n int) Option { return func(s *Server) { s.perChatSec = n } }

// NoRateLimits turns the rate limits off.
func NoRateLimits() Option { return func(s *Server) { s.noLimits = true } }

// Clock sets the clock the rate limits and message dates use (default time.Now).
func Clock(now func() time.Time) Option { return func(s *Server) { s.now = now } }

// Server is a running fake Bot API. It is safe for concurrent use.
type Server struct {
	token      string
	now        func() time.Time
	perChat    int
	perChatSec int
	global     int
	noLimits   bool

	srv       *httptest.Server
	closed    chan struct{}
	closeOnce sync.Once

	mu         sync.Mutex
	chats      map[string]*chat // by the key given to AddChat
	byID       map[int64]*chat
	byUsername map[string]*chat      // lower-case, without "@"
	fails      map[string][]*Failure // nil: let the request through
	nextChatID int64
	globalWin  window
	total      int64
	requests   int64
	violations int64
	broken     map[Limit]int64 // violations by the limit broken
	changed    chan struct{}   // closed and replaced when a request arrives or a message is accepted
	upd        updatesState    // getUpdates, webhooks (updates.go; followers)
	media      mediaState      // uploads and file ids (media.go)
}

type chat struct {
	key      string
	id       int64
	username string
	title    string
	kicked   bool
	win      window
	secWin   window // PerChatPerSecond's
	// blockedUntil is when a 429 injected with RetryAfter ends: a request
	// before then is a violation, as it would be on Telegram.
	blockedUntil time.Time
	lastID       int64
	messages     []Message
	private      bool              // a private chat with a user (updates.go)
	migratedTo   int64             // the supergroup this group became (updates.go)
	migrating    *pendingMigration // a MigrateAfter not yet due (migrate.go)
}

// New starts a fake Bot API for the bot with token. Close it when done.
func New(token string, opts ...Option) *Server {
	s := &Server{
		token:      token,
		now:        time.Now,
		perChat:    20,
		global:     30,
		closed:     make(chan struct{}),
		chats:      make(map[string]*chat),
		byID:       make(map[int64]*chat),
		byUsername: make(map[string]*chat),
		fails:      make(map[string][]*Failure),
		nextChatID: -1001000000000,
		changed:    make(chan struct{}),
		broken:     make(map[Limit]int64),
	}
	for _, o := range opts {
		o(s)
	}
	if s.perChat < 1 || s.global < 1 || s.perChatSec < 0 {
		panic("telegramtest: rate limits must be at least 1 (use NoRateLimits to turn them off)")
	}
	if !s.noLimits {
		s.globalWin = window{limit: s.global, size: time.Second}
	}
	s.srv = httptest.NewServer(http.HandlerFunc(s.serveHTTP))
	return s
}

// Start starts a fake Bot API that closes when tb's test ends.
func Start(tb testing.TB, token string, opts ...Option) *Server {
	tb.Helper()
	s := New(token, opts...)
	tb.Cleanup(s.Close)
	return s
}

// URL returns the base URL of the fake, for bot.WithServerURL.
func (s *Server) URL() string { return s.srv.URL }

// Close ends hanging requests and shuts the server down. It is safe to call
// more than once.
func (s *Server) Close() {
	s.closeOnce.Do(func() {
		close(s.closed)
		s.srv.Close()
	})
}

// AddChat adds a channel where the bot is an admin: "@name" or a numeric id
// such as "-1001234567890". Messages to any other chat fail with 400
// "Bad Request: chat not found". A channel added by name also answers to the
// numeric id the fake gives it (see ChatNumericID). Adding a chat the bot
// was kicked from (Kick) makes the bot an admin there again.
func (s *Server) AddChat(chatID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addChatLocked(chatID).kicked = false
}

func (s *Server) addChatLocked(key string) *chat {
	if c := s.resolveLocked(key); c != nil {
		return c
	}
	c := &chat{key: key}
	if name, ok := strings.CutPrefix(key, "@"); ok {
		s.nextChatID--
		c.id, c.username, c.title = s.nextChatID, name, name
		s.byUsername[strings.ToLower(name)] = c
	} else {
		id, err := strconv.ParseInt(key, 10, 64)
		if err != nil {
			panic("telegramtest: chat id must be @name or a number: " + key)
		}
		c.id, c.title = id, "Channel "+key
	}
	if !s.noLimits {
		c.win = window{limit: s.perChat, size: time.Minute}
		c.secWin = window{limit: s.perChatSec, size: time.Second}
	}
	s.byID[c.id] = c
	s.chats[key] = c
	return c
}

// resolveLocked finds a chat by its key, "@username" or numeric id.
func (s *Server) resolveLocked(chatID string) *chat {
	if c, ok := s.chats[chatID]; ok {
		return c
	}
	if name, ok := strings.CutPrefix(chatID, "@"); ok {
		return s.byUsername[strings.ToLower(name)]
	}
	if id, err := strconv.ParseInt(chatID, 10, 64); err == nil {
		return s.byID[id]
	}
	return nil
}

// ChatNumericID returns the numeric id of a chat added with AddChat, or 0.
func (s *Server) ChatNumericID(chatID string) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.resolveLocked(chatID); c != nil {
		return c.id
	}
	return 0
}

// Kick removes the bot from the chat (adding the chat if it is unknown):
// messages to it fail with 403 "Forbidden: bot was kicked from the channel
// chat", and getChatMember with 403, until AddChat adds it back.
func (s *Server) Kick(chatID string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.addChatLocked(chatID).kicked = true
}

// DeleteMessage deletes message id from chatID, as an admin of the channel
// would: it stays in Messages with Deleted set, and edits of it or replies to
// it fail as they would on Telegram. It reports whether the message existed.
func (s *Server) DeleteMessage(chatID string, id int64) bool {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.resolveLocked(chatID)
	if c == nil {
		return false
	}
	m := c.messageLocked(id)
	if m == nil {
		return false
	}
	m.Deleted = true
	return true
}

// messageLocked returns the message with id in c, deleted or not, or nil.
func (c *chat) messageLocked(id int64) *Message {
	if id < 1 || id > int64(len(c.messages)) {
		return nil
	}
	return &c.messages[id-1] // ids are 1, 2, 3… in order
}

// FailNext makes the next n sendMessage or editMessageText requests to chatID fail with f,
// before any other check (after the token check). Calls queue up in order.
func (s *Server) FailNext(chatID string, n int, f Failure) { s.FailAfter(chatID, 0, n, f) }

// FailAfter lets the next ok sendMessage or editMessageText requests to chatID through, then
// makes the n after them fail with f. Calls queue up in order.
func (s *Server) FailAfter(chatID string, ok, n int, f Failure) {
	s.mu.Lock()
	defer s.mu.Unlock()
	key := s.failKeyLocked(chatID)
	for range ok {
		s.fails[key] = append(s.fails[key], nil)
	}
	for range n {
		s.fails[key] = append(s.fails[key], &f)
	}
}

func (s *Server) failKeyLocked(chatID string) string {
	if c := s.resolveLocked(chatID); c != nil {
		return c.key
	}
	return chatID
}

// Messages returns a copy of the messages the chat accepted, in order.
func (s *Server) Messages(chatID string) []Message {
	s.mu.Lock()
	defer s.mu.Unlock()
	if c := s.resolveLocked(chatID); c != nil {
		return append([]Message(nil), c.messages...)
	}
	return nil
}

// Total returns the number of messages accepted, over all chats.
func (s *Server) Total() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.total
}

// Requests returns the number of sendMessage and editMessageText requests
// received with the right token, whatever their outcome.
func (s *Server) Requests() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.requests
}

// Violations returns the number of requests refused with 429 because they
// broke a rate limit (injected 429 failures are not counted).
func (s *Server) Violations() int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.violations
}

// Limit names one of the limits a request may break.
type Limit string

// The limits the fake enforces.
const (
	LimitGlobal     Limit = "global"      // GlobalPerSecond
	LimitChatSecond Limit = "chat_second" // PerChatPerSecond
	LimitChatMinute Limit = "chat_minute" // PerChatPerMinute
	LimitRetryAfter Limit = "retry_after" // a request before an injected 429's retry_after ended
)

// ViolationsOf returns the number of Violations that broke limit l (the
// first broken, in the order global, per chat and second, per chat and
// minute, retry_after).
func (s *Server) ViolationsOf(l Limit) int64 {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.broken[l]
}

// WaitFor waits until chatID has accepted at least n messages and returns
// them all. It fails tb after timeout. Call it from the test's goroutine.
func (s *Server) WaitFor(tb testing.TB, chatID string, n int, timeout time.Duration) []Message {
	tb.Helper()
	timer := time.NewTimer(timeout)
	defer timer.Stop()
	for {
		s.mu.Lock()
		var got []Message
		if c := s.resolveLocked(chatID); c != nil {
			got = append(got, c.messages...)
		}
		changed := s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got
		}
		select {
		case <-changed:
		case <-timer.C:
			tb.Fatalf("telegramtest: waited %s for %d messages in %s, got %d", timeout, n, chatID, len(got))
			return got
		case <-s.closed:
			tb.Fatalf("telegramtest: server closed while waiting for %d messages in %s, got %d", n, chatID, len(got))
			return got
		}
	}
}

// notifyLocked wakes the goroutines waiting for a change.
func (s *Server) notifyLocked() {
	close(s.changed)
	s.changed = make(chan struct{})
}
