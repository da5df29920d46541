package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// ClaimDeliveries marks the given deliveries as sending and returns those it
// took: queued and retrying ones, and sending ones claimed before staleBefore
// (their worker died). It also returns the deliveries another worker holds.
// Deliveries in other states are left alone, the pending ones of a
// cancelled release become cancelled, and the email ones whose address is
// suppressed become suppressed. The claims name no worker: see
// FinishAndClaimBy.
func (s *Store) ClaimDeliveries(ctx context.Context, rid string, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	return s.FinishAndClaimBy(ctx, rid, "", nil, ids, staleBefore)
}

// FinishAndClaim is FinishAndClaimBy for claims that name no worker.
func (s *Store) FinishAndClaim(ctx context.Context, rid string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	return s.FinishAndClaimBy(ctx, rid, "", outs, ids, staleBefore)
}

// finishAndClaimScript records the outcomes of claimed deliveries, then
// takes deliveries for sending: queued or retrying ones, and
// sending ones whose worker is gone: their claim is older than staleBefore,
// or it names a worker listed as dead. Pending deliveries of a cancelled
// release become cancelled, and those a gone worker was sending uncertain.
// (An email delivery whose address is suppressed, because it unsubscribed
// since the release was planned, is claimed and then handed back as
// suppressed by dropSuppressed: pregon:suppressed is in another hash slot.)
//
// Liveness is checked outside this script, and the dead workers are passed
// in ARGV: a worker's liveness key lives in no release's hash slot, and a
// script may only touch keys of one slot under Redis Cluster. The check
// is made only by a worker whose own heartbeats have run unbroken for half
// the TTL (deadAmong), so that after Redis was frozen or away, when every
// key may have expired, live workers have renewed theirs before anyone
// judges. (A live worker cut off from Redis for longer than the TTL while
// the others were not is taken for dead; see dispatcher.Config.LivenessTTL.)
//
// Each outcome (see finish below) does nothing unless its delivery is still
// sending (under the given claim, when one is given). A final outcome
// leaves the pending count and may end the release (finalize). A bounce is
// recorded on the delivery; one that suppresses adds the recipient to the
// suppressions unless it is there already (the first reason stays). The
// outcome is recorded over its own claim: the same claim time, or the same
// worker (a renewal whose reply was lost moved the claim time without the
// worker knowing; a worker never holds two claims of one delivery, see
// dispatcher's holding).
//
// One script call does both, for a batch: every call runs the scripts'
// shared Lua head (luaConstants, releaseLib) again, which costs about as
// much as a delivery's own work.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// KEYS[3..] -> declared: the buckets of the deliveries named, and the failure log (cluster.go)
// ARGV[1] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[2] -> now (Unix ms), the time of the claims and outcomes
// ARGV[3] -> staleBefore (Unix ms): a claim older than this is taken over
// ARGV[4] -> this worker's id ("" for claims that name no worker)
// ARGV[5] -> the ids of dead workers, joined by " "
// ARGV[6] -> k, the number of outcomes
// ARGV[7..6+10k] -> outcomes, ten each (below)
// ARGV[7+10k..] -> delivery ids to claim
//
// An outcome is: the delivery's id, the status it ends in, error ("" when
// none), message ids joined by " " (packed), when a retry is due (Unix ms,
// or ""), the claim time the outcome belongs to (Unix ms, or "": any; else
// the worker decides), the kind of bounce it met ("" when none), where the
// bounce was learned (rcpt, ...), the suppression reason the bounce makes
// ("" when none), how many parts the Telegram post has ("": not known,
// kept). An outcome queued or cancelled hands back a delivery claimed and
// not sent (dispatcher's claim-ahead): the attempt its claim counted is
// undone.
//
// The count moves of one call are summed and written once (a delivery sent
// and the next claimed leave "sending" as it was; the outcomes that leave
// the pending count take it down in one HINCRBY), and the release is
// checked for its end only when the pending count reaches zero.
//
// Output: the release's status after the call, then one {id, channel,
// recipient, name, language, attempts, round attempts, message ids, claim
// time} per claimed delivery, and one {id, claimed at, worker, channel} per
// delivery that another worker holds.
var finishAndClaimScript = newReleaseScript(`
-- The count moves of the call, summed (a delivery that goes from sending
-- to sent and the next from queued to sending leave "sending" as it was),
-- applied at once by flush, and before finalize reads the counts.
local moves = {}
local function later(ch, from, to)
  local a, b = ch .. C.sep .. from, ch .. C.sep .. to
  moves[a] = (moves[a] or 0) - 1
  moves[b] = (moves[b] or 0) + 1
end
local function flush()
  for f, n in pairs(moves) do
    if n ~= 0 then redis.call('HINCRBY', KEYS[2], f, n) end
  end
  moves = {}
end
local active = false
local ended = 0 -- outcomes that leave the pending count
local function finish(o)
  local d = getd(ARGV[1], ARGV[o])
  if not d or d[F.status] ~= DS.sending then return 0 end
  if ARGV[o+5] ~= '' and d[F.claimed_at] ~= ARGV[o+5] and (ARGV[4] == '' or d[F.worker] ~= ARGV[4]) then return 0 end
  active = true
  local st = ARGV[o+1]
  if st == DS.queued or st == DS.cancelled then
    -- Handed back unsent (a claim taken ahead that the worker let go, on
    -- shutdown or as the release was cancelled): the attempt its claim
    -- counted is undone.
    d[F.attempts] = math.max(tonumber(d[F.attempts] or '1') - 1, 0)
    d[F.round_attempts] = math.max(tonumber(d[F.round_attempts] or '1') - 1, 0)
  end
  d[F.status], d[F.error], d[F.message_ids], d[F.updated_at], d[F.retry_due] = st, ARGV[o+2], ARGV[o+3], ARGV[2], ARGV[o+4]
  d[F.claimed_at], d[F.worker] = nil, nil
  if ARGV[o+6] ~= '' then
    -- One that suppresses was added to the suppressions before, by Go
    -- (suppressBounces): they are in another hash slot.
    d[F.bounce], d[F.bounce_at], d[F.bounce_source] = ARGV[o+6], ARGV[2], ARGV[o+7]
  end
  if ARGV[o+9] ~= '' then d[F.parts] = ARGV[o+9] end
  putd(ARGV[1], ARGV[o], d)
  later(d[F.channel], DS.sending, st)
  if st == DS.failed or st == DS.uncertain then logFailure(d, ARGV[o]) end
  if st ~= DS.retrying and st ~= DS.queued then ended = ended + 1 end
  return 1
end
local k = tonumber(ARGV[6])
for j = 0, k - 1 do finish(7 + 10 * j) end
-- The outcomes that left the pending count, in one write.
if ended > 0 and redis.call('HINCRBY', KEYS[2], C.pending, -ended) <= 0 then
  flush()
  finalize(ARGV[2])
end
local first = 7 + 10 * k
if first > #ARGV then
  flush()
  if active then redis.call('HSET', KEYS[1], R.activity, ARGV[2]) end
  return {redis.call('HGET', KEYS[1], R.status) or ''}
end
-- Claims do not change the release's status: it is the one returned.
local relst = redis.call('HGET', KEYS[1], R.status)
local dead = {}
for w in string.gmatch(ARGV[5], '[^ ]+') do dead[w] = true end
local out = {relst or ''}
for i = first, #ARGV do
  local id = ARGV[i]
  local d = getd(ARGV[1], id)
  local st = d and d[F.status]
  if st then
    local ch = d[F.channel]
    local pending = st == DS.queued or st == DS.retrying
    local free = st == DS.sending and (tonumber(d[F.claimed_at] or '0') < tonumber(ARGV[3]) or (d[F.worker] and dead[d[F.worker]] == true))
    if relst == RS.cancelled then
      if pending then
        d[F.status], d[F.updated_at] = DS.cancelled, ARGV[2]
        putd(ARGV[1], id, d)
        later(ch, st, DS.cancelled)
        redis.call('HINCRBY', KEYS[2], C.pending, -1)
      elseif free then
        -- Its worker died mid-send and nothing will send it now: it may
        -- have gone out.
        d[F.status], d[F.error], d[F.updated_at] = DS.uncertain, 'the release was cancelled while its worker, since gone, was sending it', ARGV[2]
        d[F.claimed_at], d[F.worker] = nil, nil
        putd(ARGV[1], id, d)
        later(ch, st, DS.uncertain)
        logFailure(d, id)
        redis.call('HINCRBY', KEYS[2], C.pending, -1)
      elseif st == DS.sending then
        out[#out + 1] = {id, d[F.claimed_at] or '0', d[F.worker] or '', ch}
      end
    elseif pending or free then
      local a = tonumber(d[F.attempts] or '0') + 1
      local ra = tonumber(d[F.round_attempts] or '0') + 1
      d[F.attempts], d[F.round_attempts] = a, ra
      d[F.status], d[F.claimed_at], d[F.worker], d[F.updated_at] = DS.sending, ARGV[2], ARGV[4], ARGV[2]
      putd(ARGV[1], id, d)
      if st ~= DS.sending then later(ch, st, DS.sending) end
      out[#out + 1] = {id, ch, d[F.recipient] or '', d[F.name] or '', d[F.language] or '', a, ra, d[F.message_ids] or '', ARGV[2]}
    elseif st == DS.sending then
      out[#out + 1] = {id, d[F.claimed_at] or '0', d[F.worker] or '', ch}
    end
  end
end
flush()
redis.call('HSET', KEYS[1], R.activity, ARGV[2])
return out
`)

// FinishAndClaimBy records outcomes and claims deliveries for worker (see
// ClaimDeliveries) in one round trip. A delivery held by another worker whose
// liveness key is gone (see Heartbeat) is taken too, at the cost of two more
// round trips, which only happens after a worker died.
func (s *Store) FinishAndClaimBy(ctx context.Context, rid, worker string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	claimed, busy, _, err := s.finishAndClaim(ctx, rid, worker, outs, ids, staleBefore)
	return claimed, busy, err
}

// FinishBy records outcomes of deliveries worker claimed (see
// FinishAndClaimBy) and returns the release's status after them, read in
// the same round trip: a worker holding claims taken ahead learns so that
// the release was cancelled. Calls of the same release and worker that come
// while one is on its way go together in the next round trip (finishgroup.go);
// each returns once its own outcomes are recorded.
func (s *Store) FinishBy(ctx context.Context, rid, worker string, outs []dispatcher.Outcome) (dispatcher.ReleaseStatus, error) {
	if len(outs) == 0 {
		return s.finishOutcomes(ctx, rid, worker, nil)
	}
	return s.finishes.do(rid, worker, outs, func(all []dispatcher.Outcome) (dispatcher.ReleaseStatus, error) {
		return s.finishOutcomes(ctx, rid, worker, all)
	})
}

// finishAndClaim is FinishAndClaimBy, and returns the release's status
// after the outcomes and claims too.
func (s *Store) finishAndClaim(ctx context.Context, rid, worker string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, dispatcher.ReleaseStatus, error) {
	keys := []string{releaseKey(rid), countsKey(rid)}
	now := fmtTime(s.now())
	if err := s.suppressBounces(ctx, rid, outs); err != nil {
		return nil, nil, "", err
	}
	args := claimArgs(rid, now, staleBefore, worker, nil, len(outs), ids)
	touched := make([]string, 0, len(outs)+len(ids))
	for _, o := range outs {
		due := ""
		if !o.RetryAt.IsZero() {
			due = fmtTime(o.RetryAt)
		}
		claim := ""
		if !o.ClaimedAt.IsZero() {
			claim = fmtTime(o.ClaimedAt)
		}
		kind, source, reason := bounceArgs(o.Bounce)
		parts := ""
		if o.Parts > 0 {
			parts = strconv.Itoa(o.Parts)
		}
		args = append(args, o.ID, string(o.Status), o.Error, packMessageIDs(rid, o.ID, o.MessageIDs), due, claim, kind, source, reason, parts)
		touched = append(touched, o.ID)
	}
	for _, id := range ids {
		args = append(args, id)
	}
	touched = append(touched, ids...)
	claimed, busy, st, err := parseClaim(rid, finishAndClaimScript.Run(ctx, s.rdb, declared(keys, rid, touched...), args...))
	if err != nil {
		return nil, nil, "", fmt.Errorf("record %d outcomes and claim %d deliveries: %w", len(outs), len(ids), err)
	}
	// An outcome may have ended the release: its status index follows
	// (Redis Cluster: cluster.go). Only an ended release needs it, since
	// whatever made it sending indexed it so.
	if len(outs) > 0 && (st == dispatcher.ReleaseSent || st == dispatcher.ReleaseSentWithFailures) {
		if err := s.syncStatusIndex(ctx, rid); err != nil {
			return nil, nil, "", err
		}
	}
	if len(ids) == 0 {
		return nil, nil, st, nil
	}
	claimed, err = s.dropSuppressed(ctx, rid, claimed)
	if err != nil || len(busy) == 0 {
		return claimed, busy, st, err
	}
	dead, err := s.deadAmong(ctx, worker, busy)
	if err != nil || len(dead) == 0 {
		return claimed, busy, st, err
	}
	// Take over the deliveries of the dead workers. The script checks again
	// that each is still held by the worker found dead.
	var still []dispatcher.Busy
	deadSet := map[string]bool{}
	for _, w := range dead {
		deadSet[w] = true
	}
	var again []string
	for _, b := range busy {
		if deadSet[b.Worker] {
			again = append(again, b.ID)
		} else {
			still = append(still, b)
		}
	}
	args = claimArgs(rid, fmtTime(s.now()), staleBefore, worker, dead, 0, again)
	for _, id := range again {
		args = append(args, id)
	}
	cmd := finishAndClaimScript.Run(ctx, s.rdb, declared(keys, rid, again...), args...)
	more, busy2, _, err := parseClaim(rid, cmd)
	if err == nil {
		more, err = s.dropSuppressed(ctx, rid, more)
	}
	if err != nil {
		return nil, nil, "", err
	}
	return append(claimed, more...), append(still, busy2...), st, nil
}

// claimArgs returns the head of finishAndClaimScript's ARGV, room left
// for k outcomes and the ids.
func claimArgs(rid, now string, staleBefore time.Time, worker string, dead []string, k int, ids []string) []any {
	args := make([]any, 0, 6+10*k+len(ids))
	return append(args, bucketPrefix(rid), now, fmtTime(staleBefore), worker, strings.Join(dead, " "), k)
}

// deadAmong returns the workers holding busy whose liveness key is gone,
// leaving out worker itself (a worker is never dead to itself) and claims
// that name no worker; none while worker's own heartbeats are young.
func (s *Store) deadAmong(ctx context.Context, worker string, busy []dispatcher.Busy) ([]string, error) {
	var ws []string
	seen := map[string]bool{worker: true, "": true}
	for _, b := range busy {
		if !seen[b.Worker] {
			seen[b.Worker] = true
			ws = append(ws, b.Worker)
		}
	}
	if len(ws) == 0 {
		return nil, nil
	}
	dead, since, err := s.liveness(ctx, worker, ws)
	if err != nil || worker == "" {
		return dead, err
	}
	// After Redis was frozen or away every liveness key may have expired,
	// live workers' too: judge nobody dead until this worker's own
	// heartbeats have run unbroken for half its TTL, by when live ones have
	// renewed theirs (they do every third of it).
	ttl, _ := s.liveTTL.Load(worker)
	if since.IsZero() || s.now().Sub(since) < durationOf(ttl)/2 {
		return nil, nil
	}
	return dead, nil
}

func parseClaim(rid string, cmd *redis.Cmd) ([]*dispatcher.Claimed, []dispatcher.Busy, dispatcher.ReleaseStatus, error) {
	res, err := cmd.Slice()
	if err != nil {
		return nil, nil, "", fmt.Errorf("claim deliveries of %s: %w", rid, err)
	}
	// The release's status comes first.
	if len(res) == 0 {
		return nil, nil, "", fmt.Errorf("claim deliveries of %s: empty reply", rid)
	}
	st, _ := res[0].(string)
	res = res[1:]
	var out []*dispatcher.Claimed
	var busy []dispatcher.Busy
	for _, r := range res {
		f, ok := r.([]any)
		switch {
		case ok && len(f) == 4:
			busy = append(busy, dispatcher.Busy{ID: f[0].(string), ClaimedAt: parseTime(f[1].(string)),
				Worker: f[2].(string), Channel: dispatcher.ChannelKind(f[3].(string))})
			continue
		case !ok || len(f) != 9:
			return nil, nil, "", fmt.Errorf("claim deliveries of %s: unexpected reply %v", rid, r)
		}
		c := &dispatcher.Claimed{Delivery: dispatcher.Delivery{
			ID: f[0].(string), ReleaseID: rid, Channel: dispatcher.ChannelKind(f[1].(string)),
			Recipient: f[2].(string), Name: f[3].(string), Language: f[4].(string),
			Status: dispatcher.DeliverySending, Attempts: int(f[5].(int64)),
		}, RoundAttempts: int(f[6].(int64)), ClaimedAt: parseTime(f[8].(string))}
		if m := f[7].(string); m != "" {
			c.MessageIDs = unpackMessageIDs(rid, c.ID, m)
		}
		out = append(out, c)
	}
	return out, busy, dispatcher.ReleaseStatus(st), nil
}

// renewScript moves a sending delivery's claim time to now, so that a long
// send is not taken for a dead worker's.
//
// KEYS -> declared: the delivery's bucket, and the failure log (cluster.go)
// ARGV[1] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[2] -> the claim time it must still hold (Unix ms)
// ARGV[3] -> now (Unix ms)
// ARGV[4] -> the delivery's id
//
// Output: 1 when it renewed the claim, 0 when the delivery is no longer
// sending under that claim.
var renewScript = newScript(`
local d = getd(ARGV[1], ARGV[4])
if not d or d[F.status] ~= DS.sending or d[F.claimed_at] ~= ARGV[2] then return 0 end
d[F.claimed_at] = ARGV[3]
putd(ARGV[1], ARGV[4], d)
return 1
`)

// RenewClaim moves the claim of a delivery this worker is sending from
// claimedAt to now, and returns the new claim time; it returns ok false when
// the delivery is no longer this claim's (finished, or taken by another).
func (s *Store) RenewClaim(ctx context.Context, rid, id string, claimedAt time.Time) (time.Time, bool, error) {
	now := s.now()
	n, err := renewScript.Run(ctx, s.rdb, declared(nil, rid, id), bucketPrefix(rid), fmtTime(claimedAt), fmtTime(now), id).Int()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("renew claim of %s: %w", id, err)
	}
	return now.Truncate(time.Millisecond), n == 1, nil
}

// FinishDeliveries records outcomes of claimed deliveries in one round trip.
// An outcome for a delivery that is no longer sending is ignored.
func (s *Store) FinishDeliveries(ctx context.Context, rid string, outs []dispatcher.Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	_, _, err := s.FinishAndClaim(ctx, rid, outs, nil, time.Time{})
	return err
}

// durationOf returns v as a time.Duration, zero when it is not one (nil).
func durationOf(v any) time.Duration {
	d, _ := v.(time.Duration)
	return d
}
