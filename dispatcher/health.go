package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// TelegramChannels is what channel health needs from storage: a channel
// found by its chat, and a channel marked unavailable. store.Store
// implements it; when Config.Channels is nil and Config.Store implements
// it, the Store is used.
type TelegramChannels interface {
	// ChannelByChat returns the channel registered for a chat id, or
	// ErrNotFound.
	ChannelByChat(ctx context.Context, chatID string) (*TelegramChannel, error)
	// MarkChannelUnavailable marks the channel of a chat unavailable, with
	// the reason and time, unless it is so already; it reports whether it
	// changed it. An unknown chat (a test send's) changes nothing.
	MarkChannelUnavailable(ctx context.Context, chatID, reason string, at time.Time) (bool, error)
}

// skipError ends a delivery skipped: its destination is marked unavailable.
type skipError struct{ reason string }

func (e *skipError) Error() string { return e.reason }

// unavailableReason is the last error recorded on a delivery skipped
// because its channel c is unavailable.
func unavailableReason(c *TelegramChannel) string {
	msg := "channel " + c.ChatID + " is " + c.Status
	if c.UnavailableAt != nil {
		msg += " since " + c.UnavailableAt.UTC().Format(time.RFC3339)
	}
	if c.UnavailableReason != "" {
		msg += ": " + c.UnavailableReason
	}
	if c.Status == ChannelUnavailable {
		msg += " (POST /v1/telegram/channels/" + c.ID + "/enable once the bot is back)"
	}
	return msg
}

// checkChannel returns a *skipError when the channel of chatID is not
// active; a chat that is no registered channel, or a lookup that fails,
// lets the post go (a failed lookup is logged).
func (s *Service) checkChannel(ctx context.Context, chatID string) (*TelegramChannel, error) {
	if s.channels == nil {
		return nil, nil
	}
	c, err := s.channels.ChannelByChat(ctx, chatID)
	if errors.Is(err, ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		s.log.Warn("cannot read the channel's status; posting anyway", "channel", ChannelTelegram, "chat_id", chatID, "error", err)
		return nil, nil
	}
	if c.Status != "" && c.Status != ChannelActive {
		return c, &skipError{reason: unavailableReason(c)}
	}
	return c, nil
}

// channelGone marks the channel of chatID unavailable after err, a
// permanent error that says the bot can no longer post there
// (ErrChatUnavailable). It logs, and never fails the delivery's record.
func (s *Service) channelGone(ctx context.Context, chatID string, err error) {
	if s.channels == nil || !errors.Is(err, ErrChatUnavailable) {
		return
	}
	reason := err.Error()
	var se *SendError
	if errors.As(err, &se) {
		reason = se.Err.Error()
	}
	changed, merr := s.channels.MarkChannelUnavailable(ctx, chatID, reason, s.cfg.Now())
	switch {
	case merr != nil:
		s.log.Error("cannot mark the channel unavailable", "channel", ChannelTelegram, "chat_id", chatID, "error", fmt.Errorf("%w (after %v)", merr, err))
	case changed:
		s.log.Warn("telegram channel marked unavailable: later releases skip it until it is enabled again",
			"channel", ChannelTelegram, "chat_id", chatID, "error", reason)
	}
}
