package metrics

import (
	"context"
	"errors"
	"fmt"

	"github.com/go-telegram/bot"
	"github.com/pregon/pregon/dispatcher"
)

var _ dispatcher.TelegramEditor = (*telegramSender)(nil)

// EditTelegram passes the edit to the wrapped sender, timing it and
// counting a 429 answer as SendTelegram does. A wrapped sender that cannot
// edit answers as for a message that can no longer be edited (a permanent
// error wrapping dispatcher.ErrNotEditable), so that a correction replies
// to the post instead.
func (s *telegramSender) EditTelegram(ctx context.Context, chat, messageID, text string) error {
	ed, ok := s.next.(dispatcher.TelegramEditor)
	if !ok {
		return dispatcher.Permanent(fmt.Errorf("telegram: edit message %s in %s: this channel cannot edit: %w", messageID, chat, dispatcher.ErrNotEditable))
	}
	start := s.m.now()
	err := ed.EditTelegram(ctx, chat, messageID, text)
	s.m.sendDuration.WithLabelValues(string(dispatcher.ChannelTelegram)).Observe(s.m.now().Sub(start).Seconds())
	var tooMany *bot.TooManyRequestsError
	if errors.As(err, &tooMany) {
		s.m.telegram429.Inc()
	}
	return err
}

var _ dispatcher.TelegramCaptionEditor = (*telegramSender)(nil)

// EditTelegramCaption passes the caption's edit to the wrapped sender, as
// EditTelegram does an edit of a text.
func (s *telegramSender) EditTelegramCaption(ctx context.Context, chat, messageID, caption string) error {
	ed, ok := s.next.(dispatcher.TelegramCaptionEditor)
	if !ok {
		return dispatcher.Permanent(fmt.Errorf("telegram: edit the caption of message %s in %s: this channel cannot edit: %w", messageID, chat, dispatcher.ErrNotEditable))
	}
	start := s.m.now()
	err := ed.EditTelegramCaption(ctx, chat, messageID, caption)
	s.m.sendDuration.WithLabelValues(string(dispatcher.ChannelTelegram)).Observe(s.m.now().Sub(start).Seconds())
	var tooMany *bot.TooManyRequestsError
	if errors.As(err, &tooMany) {
		s.m.telegram429.Inc()
	}
	return err
}
