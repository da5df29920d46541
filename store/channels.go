package store

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// CreateChannel stores a Telegram channel, setting ID, CreatedAt and Status
// "active". It returns dispatcher.ErrConflict when the chat is registered already.
func (s *Store) CreateChannel(ctx context.Context, c *dispatcher.TelegramChannel) error {
	now := s.now().UTC()
	id := newID("tgc", now)
	ok, err := s.rdb.SetNX(ctx, chatKey(c.ChatID), id, 0).Result()
	if err != nil {
		return fmt.Errorf("create channel: %w", err)
	}
	if !ok {
		return fmt.Errorf("telegram chat %s is registered already: %w", c.ChatID, dispatcher.ErrConflict)
	}
	c.ID, c.CreatedAt, c.Status = id, now.Truncate(1e6), "active"
	_, err = s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, channelKey(id), "id", id, "chat_id", c.ChatID, "title", c.Title,
			"language", c.Language, "status", c.Status, "created_at", fmtTime(now))
		p.ZAdd(ctx, channelsKey, redis.Z{Member: id})
		return nil
	})
	if err != nil {
		s.rdb.Del(context.WithoutCancel(ctx), chatKey(c.ChatID))
		return fmt.Errorf("create channel: %w", err)
	}
	return nil
}

// Channel returns the Telegram channel with id, or dispatcher.ErrNotFound.
func (s *Store) Channel(ctx context.Context, id string) (*dispatcher.TelegramChannel, error) {
	if !validID("tgc", id) {
		return nil, fmt.Errorf("telegram channel %q: %w", id, dispatcher.ErrNotFound)
	}
	cs, err := s.channels(ctx, []string{id})
	if err != nil {
		return nil, err
	}
	if len(cs) == 0 {
		return nil, fmt.Errorf("telegram channel %q: %w", id, dispatcher.ErrNotFound)
	}
	return cs[0], nil
}

// Channels returns all Telegram channels, newest first.
func (s *Store) Channels(ctx context.Context) ([]*dispatcher.TelegramChannel, error) {
	ids, err := s.rdb.ZRevRangeByLex(ctx, channelsKey, &redis.ZRangeBy{Min: "-", Max: "+"}).Result()
	if err != nil {
		return nil, fmt.Errorf("channels: %w", err)
	}
	return s.channels(ctx, ids)
}

func (s *Store) channels(ctx context.Context, ids []string) ([]*dispatcher.TelegramChannel, error) {
	p := s.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		hs[i] = p.HGetAll(ctx, channelKey(id))
	}
	if len(ids) > 0 {
		if _, err := p.Exec(ctx); err != nil && !isNil(err) {
			return nil, fmt.Errorf("get channels: %w", err)
		}
	}
	out := make([]*dispatcher.TelegramChannel, 0, len(ids))
	for _, h := range hs {
		v := h.Val()
		if v["id"] == "" {
			continue
		}
		out = append(out, &dispatcher.TelegramChannel{ID: v["id"], ChatID: v["chat_id"], Title: v["title"],
			Language: v["language"], Status: v["status"], CreatedAt: parseTime(v["created_at"])})
	}
	return out, nil
}
