package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/pregon/pregon/dispatcher"
)

// ErrNotEditable means the message can no longer be edited: it was deleted,
// or Telegram refuses edits to it. A correction then replies to it instead.
// It is the dispatcher's, which checks for it.
var ErrNotEditable = dispatcher.ErrNotEditable

var _ dispatcher.TelegramEditor = (*Channel)(nil)

// Descriptions the Bot API answers an edit with (error_code 400).
const (
	descNotModified = "message is not modified"
	descNotFound    = "message to edit not found"
	descCantEdit    = "message can't be edited"
)

// EditTelegram replaces the text of message messageID in chatID with text,
// in the HTML parse mode, link previews off. An edit that changes nothing
// succeeds: the message already says this, as it does when an edit is
// repeated after its answer was lost. A message that was deleted or can no
// longer be edited gives a permanent error wrapping ErrNotEditable.
//
// Other errors are classified as SendTelegram's are, except that an edit
// that got no answer is transient rather than uncertain: repeating an edit
// cannot post anything twice.
func (c *Channel) EditTelegram(ctx context.Context, chat, messageID, text string) error {
	return c.edit(ctx, chat, messageID, "message", func(ctx context.Context, target any, id int) error {
		_, err := c.bot.EditMessageText(ctx, &bot.EditMessageTextParams{ChatID: target, MessageID: id, Text: text,
			ParseMode: models.ParseModeHTML, LinkPreviewOptions: &models.LinkPreviewOptions{IsDisabled: bot.True()}})
		return err
	})
}

// edit makes the edit request that do makes of message messageID in
// chat (what names it in errors), after a turn under the limits, and
// classifies its outcome (see EditTelegram).
func (c *Channel) edit(ctx context.Context, chat, messageID, what string, do func(ctx context.Context, target any, id int) error) error {
	target, err := chatID(chat)
	if err != nil {
		return dispatcher.Permanent(err)
	}
	id, err := strconv.Atoi(messageID)
	if err != nil || id <= 0 {
		return dispatcher.Permanent(fmt.Errorf("telegram: invalid message id %q", messageID))
	}
	if c.limiter != nil {
		if err := c.limiter.Wait(ctx, chat); err != nil {
			return fmt.Errorf("telegram: wait for a turn to edit %s %s in %s: %w", what, messageID, chat, err)
		}
	}
	rec := &response{}
	if err := ctx.Err(); err != nil {
		return err
	}
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	err = do(withResponse(tctx, rec), target, id)
	if err == nil {
		c.log.DebugContext(ctx, "telegram message edited", "channel", "telegram", "chat_id", chat, "message_id", messageID)
		return nil
	}
	err = responseError(err, rec)
	desc := fmt.Sprintf("telegram: edit %s %s in %s", what, messageID, chat)
	switch {
	case errors.Is(err, bot.ErrorBadRequest) && strings.Contains(err.Error(), descNotModified):
		return nil
	case errors.Is(err, bot.ErrorBadRequest) && (strings.Contains(err.Error(), descNotFound) || strings.Contains(err.Error(), descCantEdit)):
		return dispatcher.Permanent(fmt.Errorf("%s: %w (%w)", desc, ErrNotEditable, err))
	}
	err = classify(desc, err, rec)
	c.noteRefused(err)
	var se *dispatcher.SendError
	if errors.As(err, &se) && se.Uncertain {
		return dispatcher.Transient(se.Err, 0)
	}
	return err
}
