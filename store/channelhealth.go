package store

import (
	"context"
	"fmt"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Hash fields of a Telegram channel (pregon:tgchannel:<id>) besides id,
// chat_id, title, language, status and created_at.
const (
	chUnavailableReason = "unavailable_reason" // why the bot cannot post there
	chUnavailableAt     = "unavailable_at"     // Unix ms since when
	chMode              = "mode"               // dispatcher.ModeFull or ModeSummary ("": full)
	chLinkPreview       = "link_preview"       // dispatcher.PreviewSource or PreviewOff ("": source)
)

// updateChannelScript sets fields of a channel that exists.
//
// KEYS[1] -> pregon:tgchannel:<id>
// ARGV    -> field, value, field, value, ...
//
// Output: 1, or 0 when the channel does not exist.
var updateChannelScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if #ARGV > 0 then redis.call('HSET', KEYS[1], unpack(ARGV)) end
return 1
`)

// UpdateChannel applies ch to a channel and returns it as stored;
// dispatcher.ErrNotFound when there is no such channel. The values are
// not checked here.
func (s *Store) UpdateChannel(ctx context.Context, id string, ch dispatcher.ChannelChange) (*dispatcher.TelegramChannel, error) {
	if !validID("tgc", id) {
		return nil, fmt.Errorf("telegram channel %q: %w", id, dispatcher.ErrNotFound)
	}
	var args []any
	for _, f := range []struct {
		name string
		v    *string
	}{{"title", ch.Title}, {"language", ch.Language}, {chMode, ch.Mode}, {chLinkPreview, ch.LinkPreview}} {
		if f.v != nil {
			args = append(args, f.name, *f.v)
		}
	}
	n, err := updateChannelScript.Run(ctx, s.rdb, []string{channelKey(id)}, args...).Int()
	if err != nil {
		return nil, fmt.Errorf("update channel %s: %w", id, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("telegram channel %q: %w", id, dispatcher.ErrNotFound)
	}
	return s.Channel(ctx, id)
}

var _ dispatcher.TelegramChannels = (*Store)(nil)

// ChannelByChat returns the channel registered for a chat id (an
// "@username" in any case), or dispatcher.ErrNotFound.
func (s *Store) ChannelByChat(ctx context.Context, chatID string) (*dispatcher.TelegramChannel, error) {
	id, err := s.rdb.Get(ctx, chatKey(NormalizeChatID(chatID))).Result()
	if isNil(err) {
		return nil, fmt.Errorf("telegram chat %q: %w", chatID, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("channel of chat %s: %w", chatID, err)
	}
	return s.Channel(ctx, id)
}

// markUnavailableScript marks a channel unavailable unless it is so already.
//
// KEYS[1] -> pregon:tgchannel:<id>
// ARGV[1] -> the reason
// ARGV[2] -> now (Unix ms)
//
// Output: 1 when it marked the channel, 0 when it was unavailable already
// or does not exist.
var markUnavailableScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st or st == '` + dispatcher.ChannelUnavailable + `' then return 0 end
redis.call('HSET', KEYS[1], 'status', '` + dispatcher.ChannelUnavailable + `', '` + chUnavailableReason + `', ARGV[1], '` + chUnavailableAt + `', ARGV[2])
return 1
`)

// MarkChannelUnavailable marks the channel of chatID unavailable with the
// reason and time, unless it is so already, and reports whether it changed
// it. A chat that is no registered channel changes nothing.
func (s *Store) MarkChannelUnavailable(ctx context.Context, chatID, reason string, at time.Time) (bool, error) {
	id, err := s.rdb.Get(ctx, chatKey(NormalizeChatID(chatID))).Result()
	if isNil(err) {
		return false, nil
	}
	if err != nil {
		return false, fmt.Errorf("mark chat %s unavailable: %w", chatID, err)
	}
	n, err := markUnavailableScript.Run(ctx, s.rdb, []string{channelKey(id)}, reason, fmtTime(at)).Int()
	if err != nil {
		return false, fmt.Errorf("mark channel %s unavailable: %w", id, err)
	}
	return n == 1, nil
}

// setActiveScript makes a channel active again and forgets why it was not.
//
// KEYS[1] -> pregon:tgchannel:<id>
//
// Output: the status it had, or false when the channel does not exist.
var setActiveScript = redis.NewScript(`
local st = redis.call('HGET', KEYS[1], 'status')
if not st then return false end
redis.call('HSET', KEYS[1], 'status', '` + dispatcher.ChannelActive + `')
redis.call('HDEL', KEYS[1], '` + chUnavailableReason + `', '` + chUnavailableAt + `')
return st
`)

// EnableChannel makes a channel active again (from unavailable or
// pending) and returns it, and the status it had; dispatcher.ErrNotFound
// when there is no such channel.
func (s *Store) EnableChannel(ctx context.Context, id string) (*dispatcher.TelegramChannel, string, error) {
	if !validID("tgc", id) {
		return nil, "", fmt.Errorf("telegram channel %q: %w", id, dispatcher.ErrNotFound)
	}
	was, err := setActiveScript.Run(ctx, s.rdb, []string{channelKey(id)}).Text()
	if isNil(err) {
		return nil, "", fmt.Errorf("telegram channel %q: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, "", fmt.Errorf("enable channel %s: %w", id, err)
	}
	c, err := s.Channel(ctx, id)
	return c, was, err
}
