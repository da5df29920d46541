package store

import (
	"context"
	"errors"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// FoundChannel records a chat where the bot was made an administrator (a
// my_chat_member update): a channel "pending" a coordinator's approval,
// titled title, unless the chat is registered already, by its numeric id
// chatID or by its "@username" (username, without "@"; "" when it has
// none). It returns the channel and whether it created it.
func (s *Store) FoundChannel(ctx context.Context, chatID, username, title string) (*dispatcher.TelegramChannel, bool, error) {
	for _, key := range []string{chatID, "@" + username} {
		if key == "@" {
			continue
		}
		c, err := s.ChannelByChat(ctx, key)
		if err == nil {
			return c, false, nil
		}
		if !errors.Is(err, dispatcher.ErrNotFound) {
			return nil, false, err
		}
	}
	c := &dispatcher.TelegramChannel{ChatID: chatID, Title: title, Status: dispatcher.ChannelPending}
	err := s.CreateChannel(ctx, c)
	if errors.Is(err, dispatcher.ErrConflict) { // another update of the same chat, at once
		c, err := s.ChannelByChat(ctx, chatID)
		return c, false, err
	}
	if err != nil {
		return nil, false, err
	}
	return c, true, nil
}

// approveChannelScript makes a pending channel active.
//
// KEYS[1] -> pregon:tgchannel:<id>
//
// Output: the status the channel had (it changed only when that was
// pending), or false when the channel does not exist.
var approveChannelScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return false end
if st == '` + dispatcher.ChannelPending + `' then
  redis.call('HSET', KEYS[1], 'status', '` + dispatcher.ChannelActive + `')
end
return st
`)

// ApproveChannel makes a pending channel active and returns it;
// dispatcher.ErrNotFound when there is no such channel, and
// dispatcher.ErrConflict (naming its status) when it is not pending.
func (s *Store) ApproveChannel(ctx context.Context, id string) (*dispatcher.TelegramChannel, error) {
	if !validID("tgc", id) {
		return nil, fmt.Errorf("telegram channel %q: %w", id, dispatcher.ErrNotFound)
	}
	was, err := approveChannelScript.Run(ctx, s.rdb, []string{channelKey(id)}).Text()
	if isNil(err) {
		return nil, fmt.Errorf("telegram channel %q: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("approve channel %s: %w", id, err)
	}
	if was != dispatcher.ChannelPending {
		return nil, fmt.Errorf("telegram channel %s is %s, not pending: %w", id, was, dispatcher.ErrConflict)
	}
	return s.Channel(ctx, id)
}

// A chat's migration touches three keys in three hash slots (Redis
// Cluster), so it goes in steps, each on one key, in an order that a call
// cut short and made again finishes: the new chat is claimed for the
// channel (claimChatScript), the channel's hash names it, and the old chat
// is let go only while it still names the channel (dropChatScript).

// claimChatScript registers a chat for a channel unless it is another's.
//
// KEYS[1] -> pregon:tgchat:<new chat id>
// ARGV[1] -> the channel id
//
// Output: 1, or -1 when the chat is another channel's.
var claimChatScript = redis.NewScript(`
local other = redis.call('GET', KEYS[1])
if other and other ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[1], ARGV[1])
return 1
`)

// dropChatScript deletes a chat's registration while it names the channel.
//
// KEYS[1] -> pregon:tgchat:<old chat id>
// ARGV[1] -> the channel id
//
// Output: 1 when it deleted it, 0 when it named another channel or none.
var dropChatScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
redis.call('DEL', KEYS[1])
return 1
`)

// MigrateChat records that chat from became chat to (a group upgraded to
// a supergroup: migrate_to_chat_id): the channel registered for from is
// registered for to from then on. It returns that channel (nil when from
// is no registered channel, or was moved already) and whether this call
// moved it; dispatcher.ErrConflict when to is another channel's.
func (s *Store) MigrateChat(ctx context.Context, from, to string) (*dispatcher.TelegramChannel, bool, error) {
	from, to = NormalizeChatID(from), NormalizeChatID(to)
	id, err := s.rdb.Get(ctx, chatKey(from)).Result()
	if isNil(err) {
		c, err := s.ChannelByChat(ctx, to)
		if errors.Is(err, dispatcher.ErrNotFound) {
			return nil, false, nil
		}
		return c, false, err
	}
	if err != nil {
		return nil, false, fmt.Errorf("migrate chat %s: %w", from, err)
	}
	n, err := claimChatScript.Run(ctx, s.rdb, []string{chatKey(to)}, id).Int()
	if err != nil {
		return nil, false, fmt.Errorf("migrate chat %s to %s: %w", from, to, err)
	}
	if n < 0 {
		return nil, false, fmt.Errorf("migrate chat %s to %s: the new chat is another channel's: %w", from, to, dispatcher.ErrConflict)
	}
	if err := s.rdb.HSet(ctx, channelKey(id), "chat_id", to).Err(); err != nil {
		return nil, false, fmt.Errorf("migrate chat %s to %s: %w", from, to, err)
	}
	moved, err := dropChatScript.Run(ctx, s.rdb, []string{chatKey(from)}, id).Int()
	if err != nil {
		return nil, false, fmt.Errorf("migrate chat %s to %s: %w", from, to, err)
	}
	c, err := s.Channel(ctx, id)
	return c, moved == 1, err
}
