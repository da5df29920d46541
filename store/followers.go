package store

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Keys of Telegram followers (private chats with the bot that sent /start)
// and of the bot's updates consumer (see the legend in store.go).
const (
	followersKey     = prefix + "tgfollowers"               // ZSET chat ids (score 0, lexical order for paging)
	updatesOffset    = prefix + "tgupdates:offset"          // STRING the next getUpdates offset
	updatesLeaseName = "tgupdates"                          // the poller's lease (lease.go)
	updatesLeaseKey  = prefix + "lease:" + updatesLeaseName // STRING the id of the process polling (TTL)
)

func followerKey(chatID string) string { return prefix + "tgfollower:" + chatID }

// Hash fields of a follower (pregon:tgfollower:<chat id>).
const (
	flChatID    = "chat_id"
	flLanguage  = "language"
	flCreatedAt = "created_at"
)

// validFollowerChat reports whether chatID is a private chat's id: a
// positive decimal number, so that no odd key is ever built.
func validFollowerChat(chatID string) bool {
	n, err := strconv.ParseInt(chatID, 10, 64)
	return err == nil && n > 0 && strconv.FormatInt(n, 10) == chatID
}

// AddFollower subscribes the private chat chatID in language (kept as it
// was when the chat follows already and language is ""), and reports
// whether it is a new follower.
func (s *Store) AddFollower(ctx context.Context, chatID, language string) (bool, error) {
	if !validFollowerChat(chatID) {
		return false, fmt.Errorf("follower %q: not a private chat id: %w", chatID, dispatcher.ErrNotFound)
	}
	now := s.now().UTC()
	var added *redis.IntCmd
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		added = p.ZAdd(ctx, followersKey, redis.Z{Member: chatID})
		p.HSetNX(ctx, followerKey(chatID), flCreatedAt, fmtTime(now))
		p.HSet(ctx, followerKey(chatID), flChatID, chatID)
		if language != "" {
			p.HSet(ctx, followerKey(chatID), flLanguage, language)
		}
		return nil
	})
	if err := txErr(cmds, err); err != nil {
		return false, fmt.Errorf("add follower %s: %w", chatID, err)
	}
	return added.Val() == 1, nil
}

// setFollowerLanguageScript sets a follower's language, if it follows.
//
// KEYS[1] -> pregon:tgfollower:<chat id>
// ARGV[1] -> the language
//
// Output: 1, or 0 when the chat does not follow.
var setFollowerLanguageScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], '` + flLanguage + `', ARGV[1])
return 1
`)

// SetFollowerLanguage changes the language of follower chatID;
// dispatcher.ErrNotFound when the chat does not follow.
func (s *Store) SetFollowerLanguage(ctx context.Context, chatID, language string) error {
	if !validFollowerChat(chatID) {
		return fmt.Errorf("follower %q: %w", chatID, dispatcher.ErrNotFound)
	}
	n, err := setFollowerLanguageScript.Run(ctx, s.rdb, []string{followerKey(chatID)}, language).Int()
	if err != nil {
		return fmt.Errorf("set language of follower %s: %w", chatID, err)
	}
	if n == 0 {
		return fmt.Errorf("follower %s: %w", chatID, dispatcher.ErrNotFound)
	}
	return nil
}

// RemoveFollower ends the subscription of chatID and reports whether it
// followed.
func (s *Store) RemoveFollower(ctx context.Context, chatID string) (bool, error) {
	if !validFollowerChat(chatID) {
		return false, nil
	}
	var removed *redis.IntCmd
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		removed = p.ZRem(ctx, followersKey, chatID)
		p.Del(ctx, followerKey(chatID))
		return nil
	})
	if err := txErr(cmds, err); err != nil {
		return false, fmt.Errorf("remove follower %s: %w", chatID, err)
	}
	return removed.Val() == 1, nil
}

// Follower returns follower chatID, or dispatcher.ErrNotFound.
func (s *Store) Follower(ctx context.Context, chatID string) (*dispatcher.Follower, error) {
	if !validFollowerChat(chatID) {
		return nil, fmt.Errorf("follower %q: %w", chatID, dispatcher.ErrNotFound)
	}
	fs, err := s.followers(ctx, []string{chatID})
	if err != nil {
		return nil, err
	}
	if len(fs) == 0 {
		return nil, fmt.Errorf("follower %s: %w", chatID, dispatcher.ErrNotFound)
	}
	return &fs[0], nil
}

// Followers returns a page of followers in the lexical order of their
// chat ids, after cursor (a chat id; "" for the first page), and the next
// cursor ("" on the last page).
func (s *Store) Followers(ctx context.Context, cursor string, limit int) ([]dispatcher.Follower, string, error) {
	ids, next, err := s.pageLex(ctx, followersKey, cursor, limit, false)
	if err != nil {
		return nil, "", fmt.Errorf("followers: %w", err)
	}
	fs, err := s.followers(ctx, ids)
	return fs, next, err
}

// FollowerCount returns how many chats follow the bot.
func (s *Store) FollowerCount(ctx context.Context) (int64, error) {
	n, err := s.rdb.ZCard(ctx, followersKey).Result()
	if err != nil {
		return 0, fmt.Errorf("count followers: %w", err)
	}
	return n, nil
}

func (s *Store) followers(ctx context.Context, ids []string) ([]dispatcher.Follower, error) {
	p := s.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		hs[i] = p.HGetAll(ctx, followerKey(id))
	}
	if len(ids) > 0 {
		if _, err := p.Exec(ctx); err != nil && !isNil(err) {
			return nil, fmt.Errorf("get followers: %w", err)
		}
	}
	out := make([]dispatcher.Follower, 0, len(ids))
	for i, h := range hs {
		v := h.Val()
		if len(v) == 0 {
			continue // removed between the page and the read
		}
		out = append(out, dispatcher.Follower{ChatID: ids[i], Language: v[flLanguage], CreatedAt: parseTime(v[flCreatedAt])})
	}
	return out, nil
}

var _ dispatcher.FollowerStore = (*Store)(nil)

// UpdatesOffset returns the offset the next getUpdates asks from (0: none
// stored yet).
func (s *Store) UpdatesOffset(ctx context.Context) (int64, error) {
	n, err := s.rdb.Get(ctx, updatesOffset).Int64()
	if isNil(err) {
		return 0, nil
	}
	if err != nil {
		return 0, fmt.Errorf("updates offset: %w", err)
	}
	return n, nil
}

// setOffsetScript moves the updates offset forward, never back.
//
// KEYS[1] -> pregon:tgupdates:offset
// ARGV[1] -> the new offset
//
// Output: 1.
var setOffsetScript = redis.NewScript(`
local cur = tonumber(redis.call('GET', KEYS[1]) or '0')
if tonumber(ARGV[1]) > cur then redis.call('SET', KEYS[1], ARGV[1]) end
return 1
`)

// SetUpdatesOffset stores the offset after the updates holder handled,
// while it holds the poller's lease; it reports whether it did.
func (s *Store) SetUpdatesOffset(ctx context.Context, holder string, offset int64) (bool, error) {
	// The lease and the offset are in two hash slots (Redis Cluster): the
	// lease is checked first. A holder whose lease lapses between the two
	// steps moves the offset past updates it did handle, and never back.
	held, err := s.rdb.Get(ctx, updatesLeaseKey).Result()
	if err != nil && !isNil(err) {
		return false, fmt.Errorf("set updates offset: %w", err)
	}
	if held != holder {
		return false, nil
	}
	if err := setOffsetScript.Run(ctx, s.rdb, []string{updatesOffset}, offset).Err(); err != nil {
		return false, fmt.Errorf("set updates offset: %w", err)
	}
	return true, nil
}

// AcquireUpdatesLease takes the lease of the updates poller for holder, or
// renews it, for ttl; it reports whether holder holds it. Only one process
// at a time holds it, and it lapses ttl after its last renewal.
func (s *Store) AcquireUpdatesLease(ctx context.Context, holder string, ttl time.Duration) (bool, error) {
	return s.AcquireLease(ctx, updatesLeaseName, holder, ttl)
}

// ReleaseUpdatesLease gives up holder's lease (nothing when another holds it).
func (s *Store) ReleaseUpdatesLease(ctx context.Context, holder string) error {
	return s.ReleaseLease(ctx, updatesLeaseName, holder)
}
