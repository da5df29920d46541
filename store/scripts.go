package store

import "github.com/redis/go-redis/v9"

// reindexLua keeps the release status indexes (statusIndexKey: one ZSET of
// release ids per status) right: every script that changes a release's
// status calls reindex in the same step, so that the index never disagrees
// with the release hash. KEYS[1] must be the release hash, whose hash tag is
// the release id.
const reindexLua = `
local function reindex(from, to)
  local rid = string.match(KEYS[1], '{(.-)}')
  if from then redis.call('ZREM', '` + statusIndexPrefix + `' .. from, rid) end
  redis.call('ZADD', '` + statusIndexPrefix + `' .. to, 0, rid)
end
`

// finalizeLua ends a release whose deliveries are all final: sent, or
// sent_with_failures when any failed or is uncertain. KEYS[1] is the release
// hash and KEYS[2] its counts. It includes reindexLua (the status index).
const finalizeLua = reindexLua + `
local function finalize(now)
  if redis.call('HGET', KEYS[1], 'status') ~= 'sending' then return end
  if redis.call('HGET', KEYS[1], 'snap') ~= '1' then return end
  if tonumber(redis.call('HGET', KEYS[2], 'pending') or '0') > 0 then return end
  local bad = 0
  for _, ch in ipairs({'email', 'telegram'}) do
    for _, st in ipairs({'failed', 'uncertain'}) do
      bad = bad + tonumber(redis.call('HGET', KEYS[2], ch .. ':' .. st) or '0')
    end
  end
  local st = 'sent'
  if bad > 0 then st = 'sent_with_failures' end
  redis.call('HSET', KEYS[1], 'status', st, 'ut', now)
  reindex('sending', st) -- the status index follows (reindexLua)
end
local function move(ch, from, to)
  redis.call('HINCRBY', KEYS[2], ch .. ':' .. from, -1)
  redis.call('HINCRBY', KEYS[2], ch .. ':' .. to, 1)
end
`

// createDeliveriesScript creates the deliveries that do not exist yet. In a
// release cancelled while it was being planned, those that would be queued
// are created cancelled, so that it never shows queued deliveries that
// nothing will send. KEYS: release, counts, index. ARGV: delivery key
// prefix, now, then groups of (id, channel, recipient, name, language,
// status). Returns the ids of the queued deliveries it created.
var createDeliveriesScript = redis.NewScript(finalizeLua + `
redis.call('HSET', KEYS[1], 'act', ARGV[2])
local cancelled = redis.call('HGET', KEYS[1], 'status') == 'cancelled'
local created = {}
for i = 3, #ARGV, 6 do
  local id, ch, st = ARGV[i], ARGV[i+1], ARGV[i+5]
  if cancelled and st == 'queued' then st = 'cancelled' end
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, 'c', ch, 'to', ARGV[i+2], 'n', ARGV[i+3], 'l', ARGV[i+4], 's', st,
      'a', 0, 'ra', 0, 'ct', ARGV[2], 'ut', ARGV[2])
    redis.call('ZADD', KEYS[3], 0, id)
    redis.call('HINCRBY', KEYS[2], ch .. ':' .. st, 1)
    if st == 'queued' then
      redis.call('HINCRBY', KEYS[2], 'pending', 1)
      created[#created + 1] = id
    end
  end
end
return created
`)

// claimScript takes deliveries for sending: queued or retrying ones, and
// sending ones whose worker is gone: their claim is older than staleBefore,
// or it names a worker listed as dead. Pending deliveries of a cancelled
// release become cancelled. An email delivery whose address is suppressed
// (it unsubscribed since the release was planned) becomes suppressed instead
// of being claimed.
//
// Liveness is checked outside this script, and the dead workers are passed
// in ARGV: a worker's liveness key lives in no release's hash slot, and a
// script may only touch keys of one slot under Redis Cluster. The check
// cannot go stale in the unsafe direction: worker ids are unique per process
// start, so a worker seen dead never comes back under the same id. (A live
// worker whose liveness key expired because it could not renew it for the
// whole TTL is taken for dead; see dispatcher.Config.LivenessTTL.)
//
// KEYS: release, counts, suppressions (email → reason).
// ARGV: delivery key prefix, now, staleBefore, this worker's id, dead
// workers joined by " ", ids...
// Returns one {id, channel, recipient, name, language, attempts, round
// attempts, message ids, claim time} per claimed delivery, and one {id,
// claimed at, worker, channel} per delivery that another worker holds.
var claimScript = redis.NewScript(finalizeLua + `
local relst = redis.call('HGET', KEYS[1], 'status')
redis.call('HSET', KEYS[1], 'act', ARGV[2])
local dead = {}
for w in string.gmatch(ARGV[5], '[^ ]+') do dead[w] = true end
local out = {}
for i = 6, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local f = redis.call('HMGET', key, 's', 'c', 'k', 'w', 'to')
  local st, ch = f[1], f[2]
  if st then
    local pending = st == 'queued' or st == 'retrying'
    local free = st == 'sending' and (tonumber(f[3] or '0') < tonumber(ARGV[3]) or (f[4] and dead[f[4]] == true))
    if relst == 'cancelled' then
      if pending then
        redis.call('HSET', key, 's', 'cancelled', 'ut', ARGV[2])
        move(ch, st, 'cancelled')
        redis.call('HINCRBY', KEYS[2], 'pending', -1)
      end
    elseif (pending or free) and ch == 'email' and redis.call('HEXISTS', KEYS[3], f[5]) == 1 then
      redis.call('HSET', key, 's', 'suppressed', 'e', '', 'ut', ARGV[2])
      redis.call('HDEL', key, 'k', 'w')
      move(ch, st, 'suppressed')
      redis.call('HINCRBY', KEYS[2], 'pending', -1)
      finalize(ARGV[2])
    elseif pending or free then
      local a = redis.call('HINCRBY', key, 'a', 1)
      local ra = redis.call('HINCRBY', key, 'ra', 1)
      redis.call('HSET', key, 's', 'sending', 'k', ARGV[2], 'w', ARGV[4], 'ut', ARGV[2])
      if st ~= 'sending' then move(ch, st, 'sending') end
      local d = redis.call('HMGET', key, 'to', 'n', 'l', 'm')
      out[#out + 1] = {ARGV[i], ch, d[1], d[2] or '', d[3] or '', a, ra, d[4] or '', ARGV[2]}
    elseif st == 'sending' then
      out[#out + 1] = {ARGV[i], f[3] or '0', f[4] or '', ch}
    end
  end
end
return out
`)

// finishScript records the outcome of a claimed delivery. It does nothing
// unless the delivery is still sending. KEYS: release, counts (and the
// suppressions, unused). ARGV: delivery key, status, error, message ids, now, due time of a retry (or ""), the
// claim time the outcome belongs to (or "": any). Returns 1 when it recorded.
var finishScript = redis.NewScript(finalizeLua + `
local f = redis.call('HMGET', ARGV[1], 's', 'c', 'k')
if f[1] ~= 'sending' then return 0 end
if ARGV[7] ~= '' and f[3] ~= ARGV[7] then return 0 end
redis.call('HSET', KEYS[1], 'act', ARGV[5])
local st = ARGV[2]
redis.call('HSET', ARGV[1], 's', st, 'e', ARGV[3], 'm', ARGV[4], 'ut', ARGV[5], 'due', ARGV[6])
redis.call('HDEL', ARGV[1], 'k', 'w')
move(f[2], 'sending', st)
if st ~= 'retrying' and st ~= 'queued' then
  redis.call('HINCRBY', KEYS[2], 'pending', -1)
  finalize(ARGV[5])
end
return 1
`)

// snapshotDoneScript marks a release's recipients as all planned, and ends
// it when nothing is pending. KEYS: release, counts. ARGV: now.
var snapshotDoneScript = redis.NewScript(finalizeLua + `
redis.call('HSET', KEYS[1], 'snap', '1')
finalize(ARGV[1])
return redis.call('HGET', KEYS[1], 'status')
`)

// transitionScript moves deliveries from one status to another, for cancel
// (queued|retrying → cancelled) and retry (failed → queued). KEYS: release,
// counts. ARGV: delivery key prefix, now, to, from statuses joined by ",", ids...
// Returns the ids it moved.
var transitionScript = redis.NewScript(finalizeLua + `
local from = {}
for s in string.gmatch(ARGV[4], '[^,]+') do from[s] = true end
local to = ARGV[3]
local out = {}
for i = 5, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local f = redis.call('HMGET', key, 's', 'c')
  if f[1] and from[f[1]] then
    local wasPending = f[1] == 'queued' or f[1] == 'retrying'
    local nowPending = to == 'queued' or to == 'retrying'
    redis.call('HSET', key, 's', to, 'ut', ARGV[2])
    if nowPending then redis.call('HSET', key, 'ra', 0, 'e', '') end
    move(f[2], f[1], to)
    if wasPending and not nowPending then redis.call('HINCRBY', KEYS[2], 'pending', -1) end
    if nowPending and not wasPending then redis.call('HINCRBY', KEYS[2], 'pending', 1) end
    out[#out + 1] = ARGV[i]
  end
end
return out
`)

// setStatusScript changes a release's status when it is one of the given
// ones, and moves it to that status's index. KEYS: release. ARGV: to, now,
// from statuses... Returns the status after the call (false when the release
// does not exist).
var setStatusScript = redis.NewScript(reindexLua + `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return false end
for i = 3, #ARGV do
  if cur == ARGV[i] then
    redis.call('HSET', KEYS[1], 'status', ARGV[1], 'ut', ARGV[2])
    reindex(cur, ARGV[1])
    return ARGV[1]
  end
end
return cur
`)

// renewScript moves a sending delivery's claim time to now, so that a long
// send is not taken for a dead worker's. KEYS: none. ARGV: delivery key,
// claim time it must still hold, now. Returns 1 when it renewed.
var renewScript = redis.NewScript(`
local f = redis.call('HMGET', ARGV[1], 's', 'k')
if f[1] ~= 'sending' or f[2] ~= ARGV[2] then return 0 end
redis.call('HSET', ARGV[1], 'k', ARGV[3])
return 1
`)

// scheduleScript moves a draft release to scheduled at a time, and to the
// scheduled index. KEYS: release. ARGV: send time, now. Returns
// the release's send time ("" when it has none), or false when the release
// does not exist.
var scheduleScript = redis.NewScript(reindexLua + `
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return false end
if cur == 'draft' then
  redis.call('HSET', KEYS[1], 'status', 'scheduled', 'at', ARGV[1], 'ut', ARGV[2])
  reindex('draft', 'scheduled')
end
return redis.call('HGET', KEYS[1], 'at') or ''
`)

// indexStatusScript puts a release in the index of the status it has, and in
// no other: the one-time backfill of the status indexes for releases stored
// before they existed. KEYS: release. ARGV: release id, every status.
var indexStatusScript = redis.NewScript(`
local cur = redis.call('HGET', KEYS[1], 'status')
if not cur then return 0 end
for i = 2, #ARGV do
  if ARGV[i] ~= cur then redis.call('ZREM', '` + statusIndexPrefix + `' .. ARGV[i], ARGV[1]) end
end
redis.call('ZADD', '` + statusIndexPrefix + `' .. cur, 0, ARGV[1])
return 1
`)

// requeueFailedScript moves failed deliveries back to queued for a retry
// and, when it moved any, sets the release sending again and marks it
// active, all in one step: two retries that interleave cannot set a release
// sending with nothing pending. It moves nothing unless the release is
// sending or was sent. KEYS: release, counts, active set. ARGV: delivery
// key prefix, now, release id, ids... Returns one {id, channel} per
// delivery it moved.
var requeueFailedScript = redis.NewScript(finalizeLua + `
local relst = redis.call('HGET', KEYS[1], 'status')
if relst ~= 'sending' and relst ~= 'sent' and relst ~= 'sent_with_failures' then return {} end
local out = {}
for i = 4, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local f = redis.call('HMGET', key, 's', 'c')
  if f[1] == 'failed' then
    redis.call('HSET', key, 's', 'queued', 'ut', ARGV[2], 'ra', 0, 'e', '')
    move(f[2], 'failed', 'queued')
    redis.call('HINCRBY', KEYS[2], 'pending', 1)
    out[#out + 1] = {ARGV[i], f[2]}
  end
end
if #out > 0 then
  redis.call('HSET', KEYS[1], 'status', 'sending', 'ut', ARGV[2], 'act', ARGV[2])
  reindex(relst, 'sending') -- the status index follows (reindexLua)
  redis.call('SADD', KEYS[3], ARGV[3])
end
return out
`)
