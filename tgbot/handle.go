package tgbot

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/go-telegram/bot/models"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// Handle acts on one update: a private command (/start, /idioma,
// /language, /stop), the bot's membership of a chat changing
// (my_chat_member) or a group moved to a supergroup (migrate_to_chat_id).
// Other updates are ignored. Handling an update again changes nothing
// more. It returns an error only when the store failed.
func (b *Bot) Handle(ctx context.Context, u *models.Update) error {
	switch {
	case u == nil:
		return nil
	case u.MyChatMember != nil:
		return b.membership(ctx, u.MyChatMember)
	case u.Message != nil && u.Message.MigrateToChatID != 0:
		return b.migrate(ctx, u.Message.Chat.ID, u.Message.MigrateToChatID)
	case u.Message != nil && u.Message.Chat.Type == models.ChatTypePrivate:
		return b.command(ctx, u.Message)
	}
	return nil
}

// command answers a follower's private message.
func (b *Bot) command(ctx context.Context, m *models.Message) error {
	chat := strconv.FormatInt(m.Chat.ID, 10)
	name, arg := parseCommand(m.Text)
	f, err := b.cfg.Store.Follower(ctx, chat)
	if err != nil && !errors.Is(err, dispatcher.ErrNotFound) {
		return err
	}
	lang := b.cfg.DefaultLanguage
	if f != nil && f.Language != "" {
		lang = f.Language
	} else if m.From != nil {
		if l := supported(m.From.LanguageCode); l != "" {
			lang = l
		}
	}
	switch name {
	case "start":
		if f != nil {
			b.reply(ctx, m.Chat.ID, say(lang, msgAlready))
			return nil
		}
		if _, err := b.cfg.Store.AddFollower(ctx, chat, lang); err != nil {
			return err
		}
		b.reply(ctx, m.Chat.ID, say(lang, msgWelcome))
	case "idioma", "language", "lang":
		want := supported(arg)
		switch {
		case want == "":
			b.reply(ctx, m.Chat.ID, say(lang, msgLanguageUsage))
		case f == nil:
			b.reply(ctx, m.Chat.ID, say(want, msgNotFollowing))
		default:
			if err := b.cfg.Store.SetFollowerLanguage(ctx, chat, want); errors.Is(err, dispatcher.ErrNotFound) {
				b.reply(ctx, m.Chat.ID, say(want, msgNotFollowing))
				return nil
			} else if err != nil {
				return err
			}
			b.reply(ctx, m.Chat.ID, say(want, msgLanguageSet))
		}
	case "stop":
		if _, err := b.cfg.Store.RemoveFollower(ctx, chat); err != nil {
			return err
		}
		b.reply(ctx, m.Chat.ID, say(lang, msgStopped))
	default:
		b.reply(ctx, m.Chat.ID, say(lang, msgHelp))
	}
	return nil
}

// parseCommand splits "/idioma@pregon_bot en" into "idioma" and "en"
// (lower case); text that is no command gives "".
func parseCommand(text string) (name, arg string) {
	text = strings.TrimSpace(text)
	if !strings.HasPrefix(text, "/") {
		return "", ""
	}
	fields := strings.Fields(text[1:])
	if len(fields) == 0 {
		return "", ""
	}
	name, _, _ = strings.Cut(fields[0], "@")
	if len(fields) > 1 {
		arg = fields[1]
	}
	return strings.ToLower(name), strings.ToLower(arg)
}

// supported returns "es" or "en" for a language code that is one of them
// ("es-MX" included), "" otherwise.
func supported(code string) string {
	base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(code)), "-")
	if base == "es" || base == "en" {
		return base
	}
	return ""
}

// membership acts on a change of the bot's status in a chat: made an
// administrator of a channel (or a member or administrator of a group),
// the chat becomes a channel pending approval; removed from it, its
// channel becomes unavailable. In a private chat, a user who blocked the
// bot stops following it.
func (b *Bot) membership(ctx context.Context, u *models.ChatMemberUpdated) error {
	chat := strconv.FormatInt(u.Chat.ID, 10)
	st := u.NewChatMember.Type
	gone := st == models.ChatMemberTypeLeft || st == models.ChatMemberTypeBanned
	if u.Chat.Type == models.ChatTypePrivate {
		if gone {
			_, err := b.cfg.Store.RemoveFollower(ctx, chat)
			return err
		}
		return nil
	}
	switch {
	case gone:
		reason := fmt.Sprintf("the bot was removed from the chat (its status is now %q)", st)
		at := time.Unix(int64(u.Date), 0)
		if u.Date == 0 {
			at = b.cfg.Now()
		}
		for _, key := range chatKeys(u.Chat) {
			changed, err := b.cfg.Store.MarkChannelUnavailable(ctx, key, reason, at)
			if err != nil {
				return err
			}
			if changed {
				c, err := b.cfg.Store.ChannelByChat(ctx, key)
				if err != nil {
					return err
				}
				b.log.Warn("the bot was removed from a telegram channel: it is unavailable until enabled again",
					"channel", "telegram", "chat_id", key, "status", st)
				b.record(ctx, audit.ChannelRemoved, c.ID, map[string]any{"chat_id": key, "reason": reason})
			}
		}
	case st == models.ChatMemberTypeAdministrator || st == models.ChatMemberTypeOwner ||
		st == models.ChatMemberTypeMember && u.Chat.Type != models.ChatTypeChannel:
		title := strings.TrimSpace(u.Chat.Title)
		if len([]rune(title)) > 200 {
			title = string([]rune(title)[:200])
		}
		c, created, err := b.cfg.Store.FoundChannel(ctx, chat, u.Chat.Username, title)
		if err != nil {
			return err
		}
		if created {
			b.log.Info("the bot was made admin of a telegram chat: a channel awaits approval",
				"channel", "telegram", "chat_id", chat, "channel_id", c.ID)
			b.record(ctx, audit.ChannelFound, c.ID, map[string]any{"chat_id": chat, "title": title})
		}
	}
	return nil
}

// chatKeys returns the ids a channel of chat may be registered under: its
// numeric id, and its "@username" when it has one.
func chatKeys(c models.Chat) []string {
	keys := []string{strconv.FormatInt(c.ID, 10)}
	if c.Username != "" {
		keys = append(keys, "@"+c.Username)
	}
	return keys
}

// migrate moves the channel of group from to supergroup to.
func (b *Bot) migrate(ctx context.Context, from, to int64) error {
	f, t := strconv.FormatInt(from, 10), strconv.FormatInt(to, 10)
	c, moved, err := b.cfg.Store.MigrateChat(ctx, f, t)
	if err != nil {
		return err
	}
	if moved {
		b.log.Info("telegram group upgraded to a supergroup: its channel follows", "channel", "telegram", "from", f, "to", t)
		b.record(ctx, audit.ChannelMigrate, c.ID, map[string]any{"from": f, "to": t})
	}
	return nil
}
