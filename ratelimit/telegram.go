package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"math"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pregon/pregon/dispatcher"
)

// Headroom is the share by which Telegram paces more slowly than the limits
// it keeps, so that a message that reaches the Bot API a few milliseconds
// late or early does not break them: 30 a second become one every 34 ms,
// one a second in a chat one every 1.02 s.
const Headroom = 0.02

// DefaultChatGap is the least time between two messages to one chat
// (Telegram: "avoid sending more than one message per second" in a chat).
const DefaultChatGap = time.Second

// Telegram paces a bot's messages within Telegram's limits: at most
// PerSecond messages a second in all (Telegram: 30), evenly spaced; in any
// one chat, at most one every ChatGap and PerChatPerMinute in any minute
// (Telegram: 20 for groups). Each limit is kept with Headroom to spare. The
// turns are kept in Redis, so that every process on it shares them.
//
// A turn is taken ahead of time (Reserve): a caller learns when its message
// may go, and the turn is its, so that it can wait without asking again and
// nobody else takes that time. A chat's next turn is taken only once its
// last one has gone by ChatGap, so that a post's next part never holds up
// the first part of another chat.
type Telegram struct {
	L                *Limiter
	PerSecond        int
	PerChatPerMinute int
	// ChatGap is the least time between two messages to one chat (0:
	// DefaultChatGap; negative: none).
	ChatGap time.Duration
	// Now is the clock turns are taken by (default time.Now). A turn is a
	// time on it, which the caller waits for on the same clock: a reply
	// from Redis that comes late does not make the message late, nor bunch
	// it with the next. Processes on several hosts need clocks kept in step
	// (NTP): Headroom absorbs a few milliseconds.
	Now func() time.Time
}

var _ dispatcher.TelegramPacer = (*Telegram)(nil)

// telegramScript takes the next turn to send a message to a chat, unless
// the chat's last turn is too recent, or the bot's next free turn further
// ahead than a horizon.
//
// KEYS[1] -> pregon:rate:{telegram}:chat:<chat id>, the chat's last turns (Unix ms), oldest first
// KEYS[2] -> pregon:rate:{telegram}:bot, the bot's next free turn (Unix ms)
// ARGV[1] -> now (Unix ms)
// ARGV[2] -> least time between two turns of the chat (ms; 0: none)
// ARGV[3] -> most turns of the chat in any ARGV[4] (0: no such limit)
// ARGV[4] -> that window (ms)
// ARGV[5] -> time between two turns of the bot (ms; 0: no limit)
// ARGV[6] -> the furthest ahead a turn may be taken (ms; 0: any)
//
// Output: {wait in ms, 1 when the turn at now+wait was taken, 0 when not:
// ask again after wait}.
var telegramScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local gap, limit, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local botgap, horizon = tonumber(ARGV[5]), tonumber(ARGV[6])
local times = redis.call('LRANGE', KEYS[1], 0, -1)
local n = #times
for i = 1, n do times[i] = tonumber(times[i]) end
table.sort(times) -- Used may have moved a turn after the next
local ready = now
if n > 0 and gap > 0 then ready = math.max(ready, times[n] + gap) end
if limit > 0 and n >= limit then ready = math.max(ready, times[n - limit + 1] + window) end
if ready > now then return {ready - now, 0} end
local at = now
if botgap > 0 then at = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0')) end
if horizon > 0 and at - now > horizon then return {at - now, 0} end
if botgap > 0 then redis.call('SET', KEYS[2], at + botgap, 'PX', at + botgap - now + 1000) end
if gap > 0 or limit > 0 then
  redis.call('RPUSH', KEYS[1], at)
  redis.call('LTRIM', KEYS[1], -math.max(limit, 1), -1)
  redis.call('PEXPIRE', KEYS[1], at - now + math.max(gap, window) + 1000)
end
return {at - now, 1}
`)

// Reserve takes the next turn to send one message to chatID, unless the
// chat's last turn is too recent. It returns the time (on t.Now's clock) of
// the turn taken (taken), or after which a turn may be asked for again
// (!taken). It fails only when Redis does.
func (t *Telegram) Reserve(ctx context.Context, chatID string) (at time.Time, taken bool, err error) {
	now := t.now()
	wait, taken, err := t.reserve(ctx, chatID, now, 0)
	return now.Add(wait), taken, err
}

func (t *Telegram) now() time.Time {
	if t.Now != nil {
		return t.Now()
	}
	return time.Now()
}

func (t *Telegram) reserve(ctx context.Context, chatID string, at time.Time, horizon time.Duration) (time.Duration, bool, error) {
	now := strconv.FormatInt(at.UnixMilli(), 10)
	gap := t.chatGap()
	var botGap time.Duration
	if t.PerSecond > 0 {
		botGap = time.Second / time.Duration(t.PerSecond)
	}
	window := time.Minute
	res, err := telegramScript.Run(ctx, t.L.rdb,
		[]string{prefix + "{telegram}:chat:" + chatID, prefix + "{telegram}:bot"},
		now, spare(gap), max(t.PerChatPerMinute, 0), spare(window), spare(botGap), ms(horizon)).Int64Slice()
	if err != nil || len(res) != 2 {
		return 0, false, fmt.Errorf("rate limit telegram:%s: %v", chatID, err)
	}
	wait, taken := time.Duration(res[0])*time.Millisecond, res[1] == 1
	if wait > 0 && t.L.OnWait != nil {
		key := "telegram:bot"
		if !taken {
			key = "telegram:chat:" + chatID
		}
		t.L.OnWait(Rule{Key: key}, wait)
	}
	return wait, taken, nil
}

// forgoScript gives back a chat's turn that was not used: the chat's next
// turn is then measured from its turn before (the bot's turn is not given
// back: that time is gone).
//
// KEYS[1] -> pregon:rate:{telegram}:chat:<chat id>
// ARGV[1] -> the turn given back (Unix ms)
var forgoScript = redis.NewScript(`return redis.call('LREM', KEYS[1], -1, ARGV[1])`)

// Forgo gives back chatID's turn at, taken by Reserve and not used: a
// message whose turn came while its process was held up goes at a new turn
// instead, since sent late it would reach Telegram bunched with the
// messages after it.
func (t *Telegram) Forgo(ctx context.Context, chatID string, at time.Time) error {
	if err := forgoScript.Run(ctx, t.L.rdb, []string{prefix + "{telegram}:chat:" + chatID},
		at.UnixMilli()).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("give back a turn of telegram:%s: %w", chatID, err)
	}
	return nil
}

// usedScript moves a chat's turn to the time its message was answered,
// later than the turn when the request took long: the chat's next turn is
// then measured from when Telegram had the message for sure.
//
// KEYS[1] -> pregon:rate:{telegram}:chat:<chat id>
// ARGV[1] -> the turn (Unix ms)
// ARGV[2] -> when its message was answered (Unix ms)
// ARGV[3] -> how long the chat's turns are kept from then (ms)
var usedScript = redis.NewScript(`
if tonumber(ARGV[2]) <= tonumber(ARGV[1]) then return 0 end
local i = redis.call('LPOS', KEYS[1], ARGV[1], 'RANK', -1)
if not i then return 0 end
redis.call('LSET', KEYS[1], i, ARGV[2])
redis.call('PEXPIRE', KEYS[1], ARGV[3], 'GT')
return 1
`)

// Used tells that chatID's turn at was used by a message that Telegram
// answered at done. A message reaches Telegram some time between its turn
// and its answer; when the request took long (a loaded machine, a slow
// network), it may have reached Telegram so late that the chat's next turn,
// measured from this one, would come less than a second after it. Measured
// from done, it cannot.
func (t *Telegram) Used(ctx context.Context, chatID string, at, done time.Time) error {
	keep := max(spare(t.chatGap()), spare(time.Minute)) + 1000
	if err := usedScript.Run(ctx, t.L.rdb, []string{prefix + "{telegram}:chat:" + chatID},
		at.UnixMilli(), done.UnixMilli(), keep).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("record the turn used of telegram:%s: %w", chatID, err)
	}
	return nil
}

func (t *Telegram) chatGap() time.Duration {
	if t.ChatGap == 0 {
		return DefaultChatGap
	}
	return max(t.ChatGap, 0)
}

// spare returns d with Headroom added, in whole milliseconds, rounded up.
func spare(d time.Duration) int64 {
	return int64(math.Ceil(float64(d) * (1 + Headroom) / float64(time.Millisecond)))
}

func ms(d time.Duration) int64 { return int64(d / time.Millisecond) }

// Wait waits for a turn to send one message to chatID. When the turn is
// further away than the Limiter's MaxWait, it takes none and returns a
// dispatcher.Transient error with that delay, wrapping ErrRateLimited.
func (t *Telegram) Wait(ctx context.Context, chatID string) error {
	for {
		wait, taken, err := t.reserve(ctx, chatID, t.now(), max(t.L.MaxWait, time.Millisecond))
		if err != nil {
			return dispatcher.Transient(err, 0)
		}
		if !taken && wait > t.L.MaxWait {
			return dispatcher.Transient(fmt.Errorf("telegram:%s: %w", chatID, ErrRateLimited), wait)
		}
		if wait > 0 {
			if err := t.L.sleep(ctx, wait); err != nil {
				return err
			}
		}
		if taken {
			return nil
		}
	}
}
