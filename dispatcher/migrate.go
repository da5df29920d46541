package dispatcher

import (
	"context"
	"errors"
)

// MigratedError says that a chat moved: a group upgraded to a supergroup
// has a new chat id (the Bot API's migrate_to_chat_id). A channel's
// SendTelegram error wraps it; the post is then sent once to the new chat.
type MigratedError struct {
	To string // the chat id to post to from now on
}

func (e *MigratedError) Error() string { return "the chat is now " + e.To }

// ChatMigrator moves a registered channel to its new chat id.
// store.Store implements it; Service uses it when Config.Channels does.
type ChatMigrator interface {
	MigrateChat(ctx context.Context, from, to string) (*TelegramChannel, bool, error)
}

// migrated returns the chat that err says chat from moved to (a
// MigratedError), after recording the move for the channel of from; it
// returns "" when err says no such thing.
func (s *Service) migrated(ctx context.Context, from string, err error) string {
	var mig *MigratedError
	if !errors.As(err, &mig) || mig.To == "" || mig.To == from {
		return ""
	}
	if m, ok := s.channels.(ChatMigrator); ok {
		if _, moved, merr := m.MigrateChat(context.WithoutCancel(ctx), from, mig.To); merr != nil {
			s.log.Error("cannot record a telegram chat's migration", "channel", ChannelTelegram, "chat_id", from, "to", mig.To, "error", merr)
		} else if moved {
			s.log.Info("telegram group upgraded to a supergroup: its channel follows", "channel", ChannelTelegram, "chat_id", from, "to", mig.To)
		}
	}
	return mig.To
}

// followMigration sends what is left of post (the messages after the ids
// posted) to the chat err says post's chat moved to, once, after recording
// the move; it returns all ids posted, as a delivery to recipient records
// them (qualified, in another chat than recipient: see QualifyMessageID),
// and the error of that send. Without a MigratedError it returns ids and
// err as they are (qualified).
func (s *Service) followMigration(ctx context.Context, post *TelegramPost, recipient string, ids []string, err error) ([]string, error) {
	if len(ids) >= post.Messages() {
		return qualifyMessageIDs(recipient, post.ChatID, ids), err
	}
	to := s.migrated(ctx, post.ChatID, err)
	ids = qualifyMessageIDs(recipient, post.ChatID, ids)
	if to == "" {
		return ids, err
	}
	rest := post.Rest(len(ids))
	rest.ChatID = to
	rest.ReplyTo = "" // what it replied to, and the messages posted, are in the old chat
	more, err := s.cfg.Telegram.SendTelegram(ctx, rest)
	return append(ids, qualifyMessageIDs(recipient, to, more)...), err
}
