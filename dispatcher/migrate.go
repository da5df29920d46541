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

// followMigration sends what is left of post (the parts after the ids
// posted) to the chat err says the chat moved to, once, after recording
// the move for the channel of from; it returns all ids posted and the
// error of that send. Without a MigratedError it returns ids and err as
// they are.
func (s *Service) followMigration(ctx context.Context, post *TelegramPost, from string, ids []string, err error) ([]string, error) {
	var mig *MigratedError
	if !errors.As(err, &mig) || mig.To == "" || mig.To == from || len(ids) >= post.Messages() {
		return ids, err
	}
	if m, ok := s.channels.(ChatMigrator); ok {
		if _, moved, merr := m.MigrateChat(context.WithoutCancel(ctx), from, mig.To); merr != nil {
			s.log.Error("cannot record a telegram chat's migration", "channel", ChannelTelegram, "chat_id", from, "to", mig.To, "error", merr)
		} else if moved {
			s.log.Info("telegram group upgraded to a supergroup: its channel follows", "channel", ChannelTelegram, "chat_id", from, "to", mig.To)
		}
	}
	rest := post.Rest(len(ids))
	rest.ChatID = mig.To
	if len(ids) > 0 {
		rest.ReplyTo = "" // the parts posted are in the old chat
	}
	more, err := s.cfg.Telegram.SendTelegram(ctx, rest)
	return append(ids, more...), err
}
