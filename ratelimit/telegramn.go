package ratelimit

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"
)

// telegramNScript takes the turns of count messages sent to a chat in one
// request (an album): count consecutive turns of the bot and one spare,
// the request going at the spare, so that the messages, which reach
// Telegram together, fit its per-second limit with the headroom a single
// message has; and count turns of the chat, a chat gap
// apart from the send, so that the chat's next message waits count gaps
// and its per-minute limit counts every message.
//
// KEYS[1] -> pregon:rate:{telegram}:chat:<chat id>, the chat's last turns (Unix ms), oldest first
// KEYS[2] -> pregon:rate:{telegram}:bot, the bot's next free turn (Unix ms)
// ARGV[1] -> now (Unix ms)
// ARGV[2] -> least time between two turns of the chat (ms; 0: none)
// ARGV[3] -> most turns of the chat in any ARGV[4] (0: no such limit)
// ARGV[4] -> that window (ms)
// ARGV[5] -> time between two turns of the bot (ms; 0: no limit)
// ARGV[6] -> how many messages (count, at least 1)
//
// Output: {wait in ms, 1 when the turns were taken and the request goes at
// now+wait, 0 when not: ask again after wait}.
var telegramNScript = redis.NewScript(`
local now = tonumber(ARGV[1])
local gap, limit, window = tonumber(ARGV[2]), tonumber(ARGV[3]), tonumber(ARGV[4])
local botgap, count = tonumber(ARGV[5]), tonumber(ARGV[6])
local times = redis.call('LRANGE', KEYS[1], 0, -1)
local n = #times
for i = 1, n do times[i] = tonumber(times[i]) end
table.sort(times)
local ready = now
if n > 0 and gap > 0 then ready = math.max(ready, times[n] + gap) end
if limit > 0 and n > 0 and n + count > limit then
  ready = math.max(ready, times[math.min(n + count - limit, n)] + window)
end
if ready > now then return {ready - now, 0} end
local at = now
if botgap > 0 then
  at = math.max(now, tonumber(redis.call('GET', KEYS[2]) or '0'))
  redis.call('SET', KEYS[2], at + (count + 1) * botgap, 'PX', at + (count + 1) * botgap - now + 1000)
end
local send = at + count * botgap
if gap > 0 or limit > 0 then
  for i = 0, count - 1 do redis.call('RPUSH', KEYS[1], send + i * gap) end
  redis.call('LTRIM', KEYS[1], -math.max(limit, count, 1), -1)
  redis.call('PEXPIRE', KEYS[1], send - now + count * gap + window + 1000)
end
return {send - now, 1}
`)

// ReserveN takes the turns of n messages sent to chatID in one request (an
// album of n items counts as n messages against every limit), unless the
// chat's last turn is too recent or its minute has no room for n more. It
// returns the time (on t.Now's clock) to send the request at (taken), or
// after which to ask again (!taken). It fails only when Redis does.
func (t *Telegram) ReserveN(ctx context.Context, chatID string, n int) (at time.Time, taken bool, err error) {
	now := t.now()
	var botGap time.Duration
	if t.PerSecond > 0 {
		botGap = time.Second / time.Duration(t.PerSecond)
	}
	res, err := telegramNScript.Run(ctx, t.L.rdb,
		[]string{prefix + "{telegram}:chat:" + chatID, prefix + "{telegram}:bot"},
		strconv.FormatInt(now.UnixMilli(), 10), spare(t.chatGap()), max(t.PerChatPerMinute, 0), spare(time.Minute),
		spare(botGap), max(n, 1)).Int64Slice()
	if err != nil || len(res) != 2 {
		return time.Time{}, false, fmt.Errorf("rate limit telegram:%s (%d messages): %v", chatID, n, err)
	}
	return now.Add(time.Duration(res[0]) * time.Millisecond), res[1] == 1, nil
}

// usedNScript moves a chat's turns from at on (an album's, at and the
// chat gaps after it) by the time its request took beyond at: the chat's
// next turn is then measured from when Telegram had the album for sure.
//
// KEYS[1] -> pregon:rate:{telegram}:chat:<chat id>
// ARGV[1] -> the turn (Unix ms)
// ARGV[2] -> when its request was answered (Unix ms)
// ARGV[3] -> how long the chat's turns are kept from then (ms)
//
// Output: how many turns moved.
var usedNScript = redis.NewScript(`
local at, done = tonumber(ARGV[1]), tonumber(ARGV[2])
if done <= at then return 0 end
local times = redis.call('LRANGE', KEYS[1], 0, -1)
local moved = 0
for i, v in ipairs(times) do
  local t = tonumber(v)
  if t >= at then
    redis.call('LSET', KEYS[1], i - 1, t + done - at)
    moved = moved + 1
  end
end
if moved > 0 then redis.call('PEXPIRE', KEYS[1], ARGV[3], 'GT') end
return moved
`)

// UsedN is Used for the turns ReserveN took: chatID's turns from at on
// move by the time the request took beyond at (done - at).
func (t *Telegram) UsedN(ctx context.Context, chatID string, at, done time.Time) error {
	keep := spare(time.Minute) + spare(t.chatGap())*MaxAlbum + 1000
	if err := usedNScript.Run(ctx, t.L.rdb, []string{prefix + "{telegram}:chat:" + chatID},
		at.UnixMilli(), done.UnixMilli(), keep).Err(); err != nil && !errors.Is(err, redis.Nil) {
		return fmt.Errorf("record the turns used of telegram:%s: %w", chatID, err)
	}
	return nil
}

// MaxAlbum is the most messages ReserveN is asked for (Telegram's album).
const MaxAlbum = 10
