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

// claimScript takes deliveries for sending: queued or retrying ones, and
// sending ones whose worker is gone: their claim is older than staleBefore,
// or it names a worker listed as dead. Pending deliveries of a cancelled
// release become cancelled, and those a gone worker was sending uncertain. An email delivery whose address is suppressed
// (it unsubscribed since the release was planned) becomes suppressed instead
// of being claimed.
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
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// KEYS[3] -> pregon:suppressed (email → reason)
// KEYS[6] -> pregon:erased-last (when an address was last erased; erase.go)
// ARGV[1] -> delivery key prefix (pregon:{<rid>}:d:)
// ARGV[2] -> now (Unix ms), the time of the claims it makes
// ARGV[3] -> staleBefore (Unix ms): a claim older than this is taken over
// ARGV[4] -> this worker's id ("" for claims that name no worker)
// ARGV[5] -> the ids of dead workers, joined by " "
// ARGV[6..] -> delivery ids
//
// Output: one {id, channel, recipient, name, language, attempts, round
// attempts, message ids, claim time} per claimed delivery, and one {id,
// claimed at, worker, channel} per delivery that another worker holds;
// then {"erased"} when it claimed an email delivery created before the
// last erasure, or less than ERASE_MARGIN ms after it: the script cannot
// compute the keyed hash of a recipient, so the caller checks the claimed
// addresses (see dropErased). Deliveries planned well after the last
// erasure were planned with it in force (planning consults the hashes),
// and cost no check. A recipient already redacted to its hash (ERASED
// prefix) becomes suppressed here.
var claimScript = newReleaseScript(fmt.Sprintf("local ERASED = %q\nlocal ERASE_MARGIN = %d\n", erasedPrefix, eraseMargin.Milliseconds()) + `
local check = false
local lastErase = tonumber(redis.call('GET', KEYS[6]) or '0')
local relst = redis.call('HGET', KEYS[1], R.status)
redis.call('HSET', KEYS[1], R.activity, ARGV[2])
local dead = {}
for w in string.gmatch(ARGV[5], '[^ ]+') do dead[w] = true end
local out = {}
for i = 6, #ARGV do
  local key = ARGV[1] .. ARGV[i]
  local f = redis.call('HMGET', key, F.status, F.channel, F.claimed_at, F.worker, F.recipient, F.created_at)
  local st, ch = f[1], f[2]
  if st then
    local pending = st == DS.queued or st == DS.retrying
    local free = st == DS.sending and (tonumber(f[3] or '0') < tonumber(ARGV[3]) or (f[4] and dead[f[4]] == true))
    if relst == RS.cancelled then
      if pending then
        redis.call('HSET', key, F.status, DS.cancelled, F.updated_at, ARGV[2])
        move(ch, st, DS.cancelled)
        redis.call('HINCRBY', KEYS[2], C.pending, -1)
      elseif free then
        -- Its worker died mid-send and nothing will send it now: it may
        -- have gone out.
        redis.call('HSET', key, F.status, DS.uncertain, F.error, 'the release was cancelled while its worker, since gone, was sending it', F.updated_at, ARGV[2])
        redis.call('HDEL', key, F.claimed_at, F.worker)
        move(ch, st, DS.uncertain)
        logFailure(key, ARGV[i])
        redis.call('HINCRBY', KEYS[2], C.pending, -1)
      elseif st == DS.sending then
        out[#out + 1] = {ARGV[i], f[3] or '0', f[4] or '', ch}
      end
    elseif (pending or free) and ch == CH.email and (redis.call('HEXISTS', KEYS[3], f[5]) == 1 or string.sub(f[5] or '', 1, #ERASED) == ERASED) then
      redis.call('HSET', key, F.status, DS.suppressed, F.error, '', F.updated_at, ARGV[2])
      redis.call('HDEL', key, F.claimed_at, F.worker)
      move(ch, st, DS.suppressed)
      redis.call('HINCRBY', KEYS[2], C.pending, -1)
      finalize(ARGV[2])
    elseif pending or free then
      local a = redis.call('HINCRBY', key, F.attempts, 1)
      local ra = redis.call('HINCRBY', key, F.round_attempts, 1)
      redis.call('HSET', key, F.status, DS.sending, F.claimed_at, ARGV[2], F.worker, ARGV[4], F.updated_at, ARGV[2])
      if st ~= DS.sending then move(ch, st, DS.sending) end
      local d = redis.call('HMGET', key, F.recipient, F.name, F.language, F.message_ids)
      out[#out + 1] = {ARGV[i], ch, d[1], d[2] or '', d[3] or '', a, ra, d[4] or '', ARGV[2]}
      if ch == CH.email and lastErase > 0 and tonumber(f[6] or '0') < lastErase + ERASE_MARGIN then check = true end
    elseif st == DS.sending then
      out[#out + 1] = {ARGV[i], f[3] or '0', f[4] or '', ch}
    end
  end
end
if check then out[#out + 1] = {'erased'} end
return out
`)

// finishScript records the outcome of a claimed delivery. It does nothing
// unless the delivery is still sending (under the given claim, when one is
// given). A final outcome leaves the pending count and may end the release
// (finalize).
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// KEYS[3] -> pregon:suppressed (email → reason)
// ARGV[1] -> the delivery's key, pregon:{<rid>}:d:<id>
// ARGV[2] -> the status it ends in
// ARGV[3] -> error ("" when none)
// ARGV[4] -> message ids, joined by " "
// ARGV[5] -> now (Unix ms)
// ARGV[6] -> when a retry is due (Unix ms), or ""
// ARGV[7] -> the claim time the outcome belongs to (Unix ms), or "": any
// ARGV[8] -> the worker that made the claim, or "": the claim time decides
// ARGV[9] -> the delivery's id (for the failure log)
// ARGV[10] -> the kind of bounce it met ("" when none)
// ARGV[11] -> where the bounce was learned (rcpt, ...)
// ARGV[12] -> the suppression reason the bounce makes ("" when none)
// ARGV[13] -> how many parts the Telegram post has, or "" (not known: kept)
// KEYS[4] -> pregon:suppressed-meta, KEYS[5] -> pregon:suppressions
//
// A bounce is recorded on the delivery; one that suppresses adds the
// recipient to the suppressions unless it is there already (the first
// reason stays).
//
// The outcome is recorded over its own claim: the same claim time, or the
// same worker (a renewal whose reply was lost moved the claim time without
// the worker knowing; a worker never holds two claims of one delivery, see
// dispatcher's holding).
//
// Output: 1 when it recorded the outcome, 0 when not.
var finishScript = newReleaseScript(`
local f = redis.call('HMGET', ARGV[1], F.status, F.channel, F.claimed_at, F.worker)
if f[1] ~= DS.sending then return 0 end
if ARGV[7] ~= '' and f[3] ~= ARGV[7] and (ARGV[8] == '' or f[4] ~= ARGV[8]) then return 0 end
redis.call('HSET', KEYS[1], R.activity, ARGV[5])
local st = ARGV[2]
redis.call('HSET', ARGV[1], F.status, st, F.error, ARGV[3], F.message_ids, ARGV[4], F.updated_at, ARGV[5], F.retry_due, ARGV[6])
redis.call('HDEL', ARGV[1], F.claimed_at, F.worker)
if ARGV[10] ~= '' then
  redis.call('HSET', ARGV[1], F.bounce, ARGV[10], F.bounce_at, ARGV[5], F.bounce_source, ARGV[11])
  local to = redis.call('HGET', ARGV[1], F.recipient)
  if ARGV[12] ~= '' and to and redis.call('HSETNX', KEYS[3], to, ARGV[12]) == 1 then
    redis.call('HSET', KEYS[4], to, ARGV[5] .. ' ' .. ARGV[11])
    redis.call('ZADD', KEYS[5], 0, to)
  end
end
if ARGV[13] and ARGV[13] ~= '' then redis.call('HSET', ARGV[1], F.parts, ARGV[13]) end
move(f[2], DS.sending, st)
if st == DS.failed or st == DS.uncertain then logFailure(ARGV[1], ARGV[9]) end
if st ~= DS.retrying and st ~= DS.queued then
  redis.call('HINCRBY', KEYS[2], C.pending, -1)
  finalize(ARGV[5])
end
return 1
`)

// FinishAndClaimBy records outcomes and claims deliveries for worker (see
// ClaimDeliveries) in one round trip, so that a worker can hold one delivery
// at a time at no extra cost. A delivery held by another worker whose
// liveness key is gone (see Heartbeat) is taken too, at the cost of two more
// round trips, which only happens after a worker died.
func (s *Store) FinishAndClaimBy(ctx context.Context, rid, worker string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	keys := []string{releaseKey(rid), countsKey(rid), suppressedKey, suppressedMetaKey, suppressionsKey, erasedLastKey}
	now := fmtTime(s.now())
	cmds, err := s.pipelineScripts(ctx, func(p redis.Pipeliner, run func(*redis.Script, ...any) *redis.Cmd) {
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
			run(finishScript, deliveryPrefix(rid)+o.ID, string(o.Status), o.Error, packMessageIDs(rid, o.ID, o.MessageIDs), now, due, claim, worker, o.ID,
				kind, source, reason, parts)
		}
		if len(ids) > 0 {
			run(claimScript, claimArgs(rid, now, staleBefore, worker, nil, ids)...)
		}
	}, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("record %d outcomes and claim %d deliveries of %s: %w", len(outs), len(ids), rid, err)
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	claimed, busy, erased, err := parseClaim(rid, cmds[len(cmds)-1].(*redis.Cmd))
	if err == nil && erased {
		claimed, err = s.dropErased(ctx, rid, worker, keys, claimed)
	}
	if err != nil || len(busy) == 0 {
		return claimed, busy, err
	}
	dead, err := s.deadAmong(ctx, worker, busy)
	if err != nil || len(dead) == 0 {
		return claimed, busy, err
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
	cmd := claimScript.Run(ctx, s.rdb, keys, claimArgs(rid, fmtTime(s.now()), staleBefore, worker, dead, again)...)
	more, busy2, erased, err := parseClaim(rid, cmd)
	if err == nil && erased {
		more, err = s.dropErased(ctx, rid, worker, keys, more)
	}
	if err != nil {
		return nil, nil, err
	}
	return append(claimed, more...), append(still, busy2...), nil
}

func claimArgs(rid, now string, staleBefore time.Time, worker string, dead, ids []string) []any {
	args := make([]any, 0, 5+len(ids))
	args = append(args, deliveryPrefix(rid), now, fmtTime(staleBefore), worker, strings.Join(dead, " "))
	for _, id := range ids {
		args = append(args, id)
	}
	return args
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

func parseClaim(rid string, cmd *redis.Cmd) (claimed []*dispatcher.Claimed, busy []dispatcher.Busy, erased bool, err error) {
	res, err := cmd.Slice()
	if err != nil && !isNil(err) {
		return nil, nil, false, fmt.Errorf("claim deliveries of %s: %w", rid, err)
	}
	var out []*dispatcher.Claimed
	for _, r := range res {
		f, ok := r.([]any)
		switch {
		case ok && len(f) == 1 && f[0] == "erased":
			erased = true
			continue
		case ok && len(f) == 4:
			busy = append(busy, dispatcher.Busy{ID: f[0].(string), ClaimedAt: parseTime(f[1].(string)),
				Worker: f[2].(string), Channel: dispatcher.ChannelKind(f[3].(string))})
			continue
		case !ok || len(f) != 9:
			return nil, nil, false, fmt.Errorf("claim deliveries of %s: unexpected reply %v", rid, r)
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
	return out, busy, erased, nil
}

// dropErased records as suppressed the claimed email deliveries whose
// address is erased, and returns the others: the claim is the last check
// before a send, and an address erased after its release was planned must
// not be mailed. keys are FinishAndClaimBy's.
func (s *Store) dropErased(ctx context.Context, rid, worker string, keys []string, claimed []*dispatcher.Claimed) ([]*dispatcher.Claimed, error) {
	if s.erasureKey == nil {
		return claimed, nil
	}
	var emails []string
	for _, c := range claimed {
		if c.Channel == dispatcher.ChannelEmail {
			emails = append(emails, c.Recipient)
		}
	}
	v, err := s.rdb.HMGet(ctx, erasedKey, s.erasedHashes(emails)...).Result()
	if err != nil {
		return nil, fmt.Errorf("check erased recipients of %s: %w", rid, err)
	}
	keep := claimed[:0:0]
	var drop []*dispatcher.Claimed
	i := 0
	for _, c := range claimed {
		if c.Channel != dispatcher.ChannelEmail {
			keep = append(keep, c)
			continue
		}
		if str(v, i) != "" {
			drop = append(drop, c)
		} else {
			keep = append(keep, c)
		}
		i++
	}
	if len(drop) == 0 {
		return claimed, nil
	}
	now := fmtTime(s.now())
	if _, err := s.pipelineScripts(ctx, func(p redis.Pipeliner, run func(*redis.Script, ...any) *redis.Cmd) {
		for _, c := range drop {
			run(finishScript, deliveryPrefix(rid)+c.ID, string(dispatcher.DeliverySuppressed), "", "", now, "", fmtTime(c.ClaimedAt), worker, c.ID,
				"", "", "", "")
		}
	}, keys); err != nil {
		return nil, fmt.Errorf("suppress erased recipients of %s: %w", rid, err)
	}
	// Then the records keep only the hash (see Erase). Apart, since a
	// pipeline run again after NOSCRIPT does not keep the order of calls.
	if _, err := s.pipelineScripts(ctx, func(p redis.Pipeliner, run func(*redis.Script, ...any) *redis.Cmd) {
		for _, c := range drop {
			run(eraseDeliveryScript, deliveryPrefix(rid)+c.ID, c.ID, c.Recipient, erasedPrefix+s.erasedHash(c.Recipient), now)
		}
	}, keys); err != nil {
		return nil, fmt.Errorf("redact erased recipients of %s: %w", rid, err)
	}
	return keep, nil
}

// pipelineScripts runs the scripts that fill queues in one pipeline of
// EVALSHA calls. A call that Redis answers NOSCRIPT (a new or restarted
// server) had no effect, so it alone is run again, with the script's source.
func (s *Store) pipelineScripts(ctx context.Context, fill func(p redis.Pipeliner, run func(*redis.Script, ...any) *redis.Cmd), keys []string) ([]redis.Cmder, error) {
	type call struct {
		sc   *redis.Script
		args []any
	}
	var calls []call
	p := s.rdb.Pipeline()
	fill(p, func(sc *redis.Script, args ...any) *redis.Cmd {
		calls = append(calls, call{sc, args})
		return sc.EvalSha(ctx, p, keys, args...)
	})
	cmds, err := p.Exec(ctx)
	if err == nil || isNil(err) {
		return cmds, nil
	}
	if !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return nil, err
	}
	for i, c := range cmds {
		if cerr := c.Err(); cerr != nil && redis.HasErrorPrefix(cerr, "NOSCRIPT") {
			cmds[i] = calls[i].sc.Run(ctx, s.rdb, keys, calls[i].args...)
		}
		if cerr := cmds[i].Err(); cerr != nil && !isNil(cerr) {
			return nil, cerr
		}
	}
	return cmds, nil
}

// renewScript moves a sending delivery's claim time to now, so that a long
// send is not taken for a dead worker's.
//
// KEYS[1] -> pregon:{<rid>}:d:<id>
// ARGV[1] -> the delivery's key (as KEYS[1])
// ARGV[2] -> the claim time it must still hold (Unix ms)
// ARGV[3] -> now (Unix ms)
//
// Output: 1 when it renewed the claim, 0 when the delivery is no longer
// sending under that claim.
var renewScript = newScript(`
local f = redis.call('HMGET', ARGV[1], F.status, F.claimed_at)
if f[1] ~= DS.sending or f[2] ~= ARGV[2] then return 0 end
redis.call('HSET', ARGV[1], F.claimed_at, ARGV[3])
return 1
`)

// RenewClaim moves the claim of a delivery this worker is sending from
// claimedAt to now, and returns the new claim time; it returns ok false when
// the delivery is no longer this claim's (finished, or taken by another).
func (s *Store) RenewClaim(ctx context.Context, rid, id string, claimedAt time.Time) (time.Time, bool, error) {
	now := s.now()
	n, err := renewScript.Run(ctx, s.rdb, []string{deliveryPrefix(rid) + id}, deliveryPrefix(rid)+id, fmtTime(claimedAt), fmtTime(now)).Int()
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
