package telegram

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"time"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/pregon/pregon/dispatcher"
)

// ReadyInterval is how long Ready trusts a getMe that accepted the token
// before it asks again.
const ReadyInterval = time.Minute

// tokenState is what is known of the bot's token: refused (a 401 to any
// request, kept for the life of the process, since the token only changes
// with the configuration), or accepted by getMe at some time.
type tokenState struct {
	mu      sync.Mutex
	refused error
	okAt    time.Time
	botID   int64
}

// refuse records that the Bot API refused the token, and reports whether
// that is news (so that it is logged once).
func (t *tokenState) refuse(err error) bool {
	t.mu.Lock()
	defer t.mu.Unlock()
	if t.refused != nil {
		return false
	}
	t.refused = err
	return true
}

// noteRefused records a 401 seen in err, logging it the first time.
func (c *Channel) noteRefused(err error) {
	if errors.Is(err, ErrBadToken) || errors.Is(err, bot.ErrorUnauthorized) {
		if c.token.refuse(err) {
			c.log.Error("the Bot API refused the bot token: nothing can be posted to Telegram until PREGON_TELEGRAM_TOKEN is fixed",
				"channel", "telegram", "error", err)
		}
	}
}

// Ready reports whether the bot can post: an error wrapping ErrBadToken
// once the Bot API refused the token (401), to getMe or to any post. It
// calls getMe at most once per ReadyInterval while the token is accepted.
// An unreachable Bot API is not an error here: posts are retried.
func (c *Channel) Ready(ctx context.Context) error {
	_, err := c.me(ctx, true)
	if errors.Is(err, ErrBadToken) {
		return err
	}
	if err != nil {
		c.log.Warn("cannot reach the Bot API to check the bot token", "channel", "telegram", "error", err)
	}
	return nil
}

// me returns the bot's user id, from getMe (cached for ReadyInterval when
// cached is set, for ever otherwise).
func (c *Channel) me(ctx context.Context, cached bool) (int64, error) {
	c.token.mu.Lock()
	refused, okAt, id := c.token.refused, c.token.okAt, c.token.botID
	c.token.mu.Unlock()
	if refused != nil {
		return 0, fmt.Errorf("telegram: %w: %w", ErrBadToken, refused)
	}
	if id != 0 && (!cached || time.Since(okAt) < ReadyInterval) {
		return id, nil
	}
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	u, err := c.bot.GetMe(ctx)
	if errors.Is(err, bot.ErrorUnauthorized) {
		err = fmt.Errorf("telegram: getMe: %w (%w)", ErrBadToken, err)
		c.noteRefused(err)
		return 0, err
	}
	if err != nil {
		return 0, fmt.Errorf("telegram: getMe: %w", err)
	}
	c.token.mu.Lock()
	c.token.okAt, c.token.botID = time.Now(), u.ID
	c.token.mu.Unlock()
	return u.ID, nil
}

// ErrNotAdmin means the bot is in the chat but may not post there.
var ErrNotAdmin = errors.New("the bot is not an administrator of the chat")

// CheckChat reports whether the bot may post to chat, asking the Bot API
// for its own membership (getChatMember): nil for an administrator, the
// owner or (in a group) a member; otherwise an error saying why, wrapping
// dispatcher.ErrChatUnavailable when the bot is not in the chat or the
// chat does not exist, ErrNotAdmin when it may not post there, or
// ErrBadToken.
func (c *Channel) CheckChat(ctx context.Context, chat string) error {
	target, err := chatID(chat)
	if err != nil {
		return err
	}
	id, err := c.me(ctx, false)
	if err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	m, err := c.bot.GetChatMember(tctx, &bot.GetChatMemberParams{ChatID: target, UserID: id})
	switch {
	case err == nil:
	case errors.Is(err, bot.ErrorUnauthorized):
		err = fmt.Errorf("telegram: getChatMember in %s: %w (%w)", chat, ErrBadToken, err)
		c.noteRefused(err)
		return err
	case chatGone(err):
		return fmt.Errorf("telegram: getChatMember in %s: %w (%w)", chat, err, dispatcher.ErrChatUnavailable)
	default:
		return fmt.Errorf("telegram: getChatMember in %s: %w", chat, err)
	}
	switch m.Type {
	case models.ChatMemberTypeOwner, models.ChatMemberTypeAdministrator, models.ChatMemberTypeMember:
		return nil
	case models.ChatMemberTypeLeft, models.ChatMemberTypeBanned:
		return fmt.Errorf("telegram: the bot's status in %s is %q: %w", chat, m.Type, dispatcher.ErrChatUnavailable)
	default:
		return fmt.Errorf("telegram: the bot's status in %s is %q: %w", chat, m.Type, ErrNotAdmin)
	}
}
