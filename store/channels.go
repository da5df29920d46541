package store

import (
	"context"
	"fmt"
	"strings"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// CreateChannel stores a Telegram channel, setting ID, CreatedAt and Status
// "active" (unless it is "pending"), and Mode "full" and LinkPreview "source" when they are empty. A chat "@username" is stored in lower case (Telegram usernames
// are case-insensitive). It returns dispatcher.ErrConflict when the chat is
// registered already, however its username was written.
func (s *Store) CreateChannel(ctx context.Context, c *dispatcher.TelegramChannel) error {
	c.ChatID = NormalizeChatID(c.ChatID)
	if taken, err := s.chatRegisteredInOtherCase(ctx, c.ChatID); err != nil {
		return err
	} else if taken {
		return fmt.Errorf("telegram chat %s is registered already: %w", c.ChatID, dispatcher.ErrConflict)
	}
	now := s.now().UTC()
	id := newID("tgc", now)
	ok, err := s.rdb.SetNX(ctx, chatKey(c.ChatID), id, 0).Result()
	if err != nil {
		return fmt.Errorf("create channel: %w", err)
	}
	if !ok {
		return fmt.Errorf("telegram chat %s is registered already: %w", c.ChatID, dispatcher.ErrConflict)
	}
	c.ID, c.CreatedAt = id, now.Truncate(1e6)
	if c.Status != dispatcher.ChannelPending { // pending: found by the bot (followers), for a coordinator to approve
		c.Status = dispatcher.ChannelActive
	}
	if c.Mode == "" {
		c.Mode = dispatcher.ModeFull
	}
	if c.LinkPreview == "" {
		c.LinkPreview = dispatcher.PreviewSource
	}
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, channelKey(id), "id", id, "chat_id", c.ChatID, "title", c.Title,
			"language", c.Language, "status", c.Status, "created_at", fmtTime(now),
			chMode, c.Mode, chLinkPreview, c.LinkPreview)
		p.ZAdd(ctx, channelsKey, redis.Z{Member: id})
		return nil
	})
	if err := txErr(cmds, err); err != nil {
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

// Channels returns a page of Telegram channels, newest first, after cursor
// (a channel id; "" for the first page), and the next cursor ("" on the last
// page).
func (s *Store) Channels(ctx context.Context, cursor string, limit int) ([]*dispatcher.TelegramChannel, string, error) {
	ids, next, err := s.pageLex(ctx, channelsKey, cursor, limit, true)
	if err != nil {
		return nil, "", fmt.Errorf("channels: %w", err)
	}
	cs, err := s.channels(ctx, ids)
	return cs, next, err
}

// NormalizeChatID returns a Telegram chat id as Pregón stores it: an
// "@username" in lower case, since Telegram usernames are case-insensitive
// (@Canal and @canal are one chat); a numeric id as it is.
func NormalizeChatID(chatID string) string {
	if strings.HasPrefix(chatID, "@") {
		return strings.ToLower(chatID)
	}
	return chatID
}

// chatRegisteredInOtherCase reports whether a channel registered before
// usernames were stored in lower case has chatID's username in another case
// (it reads every channel's chat id: there are few channels, and adding one
// is rare).
func (s *Store) chatRegisteredInOtherCase(ctx context.Context, chatID string) (bool, error) {
	if !strings.HasPrefix(chatID, "@") {
		return false, nil
	}
	ids, err := s.rdb.ZRange(ctx, channelsKey, 0, -1).Result()
	if err != nil {
		return false, fmt.Errorf("channels: %w", err)
	}
	p := s.rdb.Pipeline()
	cmds := make([]*redis.StringCmd, len(ids))
	for i, id := range ids {
		cmds[i] = p.HGet(ctx, channelKey(id), "chat_id")
	}
	if len(ids) > 0 {
		if _, err := p.Exec(ctx); err != nil && !isNil(err) {
			return false, fmt.Errorf("channels: %w", err)
		}
	}
	for _, c := range cmds {
		if strings.EqualFold(c.Val(), chatID) {
			return true, nil
		}
	}
	return false, nil
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
		c := &dispatcher.TelegramChannel{ID: v["id"], ChatID: v["chat_id"], Title: v["title"],
			Language: v["language"], Status: v["status"], CreatedAt: parseTime(v["created_at"]),
			UnavailableReason: v[chUnavailableReason], Mode: v[chMode], LinkPreview: v[chLinkPreview]}
		if c.Mode == "" {
			c.Mode = dispatcher.ModeFull // a channel stored before modes
		}
		if c.LinkPreview == "" {
			c.LinkPreview = dispatcher.PreviewSource
		}
		if at := parseTime(v[chUnavailableAt]); !at.IsZero() {
			c.UnavailableAt = &at
		}
		out = append(out, c)
	}
	return out, nil
}
