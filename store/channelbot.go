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

// migrateChatScript moves a channel from one chat id to another.
//
// KEYS[1] -> pregon:tgchat:<old chat id>
// KEYS[2] -> pregon:tgchat:<new chat id>
// KEYS[3] -> pregon:tgchannel:<id>
// ARGV[1] -> the channel id
// ARGV[2] -> the new chat id
//
// Output: 1 when it moved the channel; 0 when the old chat is no longer
// the channel's (moved already); -1 when the new chat is another channel's.
var migrateChatScript = redis.NewScript(`
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 0 end
local other = redis.call('GET', KEYS[2])
if other and other ~= ARGV[1] then return -1 end
redis.call('SET', KEYS[2], ARGV[1])
redis.call('DEL', KEYS[1])
redis.call('HSET', KEYS[3], 'chat_id', ARGV[2])
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
	n, err := migrateChatScript.Run(ctx, s.rdb, []string{chatKey(from), chatKey(to), channelKey(id)}, id, to).Int()
	if err != nil {
		return nil, false, fmt.Errorf("migrate chat %s to %s: %w", from, to, err)
	}
	if n < 0 {
		return nil, false, fmt.Errorf("migrate chat %s to %s: the new chat is another channel's: %w", from, to, dispatcher.ErrConflict)
	}
	c, err := s.Channel(ctx, id)
	return c, n == 1, err
}
