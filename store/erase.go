package store

// Erasure on request (issue 14 item 5). Erasing an address removes it from
// every list (members, pending sign-ups, opt-in times), deletes its contact
// record, its suppression and its soft-bounce count, and keeps only
// HMAC-SHA256(k, address) in pregon:erased, where k is HMAC-SHA256(secret,
// "pregon erasure v1") and secret is PREGON_SECRET (or the shared secret).
// Everything that decides whether an address is mailed consults that hash:
// Suppressed (planning, corrections, test sends, confirmation emails), the
// claim before a send (dropSuppressed, in the same round trip as the
// suppressions), imports (the row is refused) and the subscribe form
// (nothing happens). The address's delivery records are redacted to the
// hash, in live releases and in archived ones (erasearchive.go); queued or
// retrying ones become suppressed.
//
//	pregon:erased         HASH   hex HMAC → when it was erased (Unix ms)
//	pregon:erased-check   STRING hex HMAC-SHA256(k, "pregon erasure check"): which key made the hashes
//
// Without the key (SetErasureSecret was not called) nothing is erased and
// the hashes are not consulted.
//
// Redis Cluster (cluster.go): pregon:erased is in a slot of its own, so no
// transaction or script joins it with what it guards. Instead Erase records
// the hash, alone and first, and only then removes what names the address;
// and whatever writes an address (an import, a sign-up, a suppression, a
// soft bounce) checks the hash before and again after its write, undoing
// the write when the address was erased meanwhile (undoIfErased). Either
// the write comes before the hash, and Erase, which runs after, removes it;
// or the hash comes before the check after the write, which finds it.

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// erasureSource is the source of an erasure's suppression: a request.
const erasureSource = "request"

// erasedPrefix heads a delivery's recipient once redacted: "hmac-sha256:"
// and the hex of the address's erasure hash. A recipient so written is
// never mailed (Suppressed, dropSuppressed).
const erasedPrefix = "hmac-sha256:"

// Labels of the keys derived from the secret.
const (
	erasureKeyLabel   = "pregon erasure v1"
	erasureCheckLabel = "pregon erasure check"
)

// ErrNoErasureKey is returned by Erase when the store was given no secret.
var ErrNoErasureKey = errors.New("no erasure key: the store was given no secret")

// ErrErasureKeyChanged is returned by CheckErasureKey when the erased
// addresses were hashed with another secret: they no longer match, so an
// erased address could be mailed again if it is imported once more.
var ErrErasureKeyChanged = errors.New("the erased addresses were hashed with another secret (PREGON_SECRET changed): they no longer match, and an erased address imported again would be mailed")

// SetErasureSecret keys the hashes of erased addresses with secret
// (PREGON_SECRET). Call it once, before the Store is used.
func (s *Store) SetErasureSecret(secret []byte) {
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(erasureKeyLabel))
	s.erasureKey = m.Sum(nil)
}

// erasedHash returns the hex erasure hash of a normalised address.
func (s *Store) erasedHash(email string) string {
	m := hmac.New(sha256.New, s.erasureKey)
	m.Write([]byte(email))
	return hex.EncodeToString(m.Sum(nil))
}

// erasedHashes returns the erasure hashes of emails, as HMGET fields.
func (s *Store) erasedHashes(emails []string) []string {
	out := make([]string, len(emails))
	for i, e := range emails {
		out[i] = s.erasedHash(e)
	}
	return out
}

// CheckErasureKey compares the key with the fingerprint of the one that
// hashed the erased addresses, and records it when there is none. It
// returns ErrErasureKeyChanged (wrapped, with the number of erased
// addresses) when they differ; nil when no key is set.
func (s *Store) CheckErasureKey(ctx context.Context) error {
	if s.erasureKey == nil {
		return nil
	}
	m := hmac.New(sha256.New, s.erasureKey)
	m.Write([]byte(erasureCheckLabel))
	fp := hex.EncodeToString(m.Sum(nil))
	set, err := s.rdb.SetNX(ctx, erasedCheckKey, fp, 0).Result()
	if err != nil {
		return fmt.Errorf("check erasure key: %w", err)
	}
	if set {
		return nil
	}
	v, err := s.rdb.Get(ctx, erasedCheckKey).Result()
	if err != nil {
		return fmt.Errorf("check erasure key: %w", err)
	}
	if v == fp {
		return nil
	}
	n, err := s.rdb.HLen(ctx, erasedKey).Result()
	if err != nil {
		return fmt.Errorf("check erasure key: %w", err)
	}
	if n == 0 { // nothing hashed with the old key: take the new one
		return s.rdb.Set(ctx, erasedCheckKey, fp, 0).Err()
	}
	return fmt.Errorf("%w (%d erased addresses; restore the old secret, or erase them again)", ErrErasureKeyChanged, n)
}

// Erased returns when email (normalised) was erased, and false when it
// was not (or no key is set).
func (s *Store) Erased(ctx context.Context, email string) (time.Time, bool, error) {
	if s.erasureKey == nil {
		return time.Time{}, false, nil
	}
	v, err := s.rdb.HGet(ctx, erasedKey, s.erasedHash(email)).Result()
	if isNil(err) {
		return time.Time{}, false, nil
	}
	if err != nil {
		return time.Time{}, false, fmt.Errorf("erased: %w", err)
	}
	return parseTime(v), true, nil
}

// Erase erases email (normalised) on request: see the head of this file.
// It records the hash first, so that from then on no import, sign-up or
// send reaches the address, and then removes what names it. It returns
// ErrNoErasureKey when the store has no key. Erasing an address twice
// records the time of the second erasure and removes again whatever named
// it since.
func (s *Store) Erase(ctx context.Context, email string) (*dispatcher.Erasure, error) {
	if s.erasureKey == nil {
		return nil, ErrNoErasureKey
	}
	now := s.now()
	er := &dispatcher.Erasure{At: now.UTC().Truncate(time.Millisecond)}
	// The hash first and alone (see the head of this file).
	if err := s.rdb.HSet(ctx, erasedKey, s.erasedHash(email), fmtTime(now)).Err(); err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		p.HDel(ctx, suppressedKey, email)
		p.HDel(ctx, suppressedMetaKey, email)
		p.ZRem(ctx, suppressionsKey, email)
		p.HDel(ctx, softBouncesKey, email)
		p.Del(ctx, contactKey(email)) // one key a command: on a cluster, they are in two slots
		p.Del(ctx, optinMailsKey(email))
		return nil
	})
	if err := txErr(cmds, err); err != nil {
		return nil, fmt.Errorf("erase: %w", err)
	}
	if er.Lists, err = s.eraseFromLists(ctx, email); err != nil {
		return er, err
	}
	if err := s.eraseDeliveries(ctx, email, er); err != nil {
		return er, err
	}
	return er, nil
}

// eraseBatch is how many lists or releases Erase handles per round trip.
const eraseBatch = 500

// eraseFromLists removes email from every list, and returns how many it
// was a member of.
func (s *Store) eraseFromLists(ctx context.Context, email string) (int, error) {
	ids, err := s.rdb.ZRange(ctx, listsKey, 0, -1).Result()
	if err != nil {
		return 0, fmt.Errorf("erase: lists: %w", err)
	}
	n := 0
	for start := 0; start < len(ids); start += eraseBatch {
		batch := ids[start:min(start+eraseBatch, len(ids))]
		zrems := make([]*redis.IntCmd, len(batch))
		// Each list's keys are in its own slot: a pipeline, not a
		// transaction (the removals are idempotent).
		_, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, id := range batch {
				zrems[i] = p.ZRem(ctx, membersKey(id), email)
				p.HDel(ctx, pendingKey(id), email)
				p.HDel(ctx, optinKey(id), email)
			}
			return nil
		})
		if err != nil {
			return n, fmt.Errorf("erase: remove from lists: %w", err)
		}
		for _, z := range zrems {
			n += int(z.Val())
		}
	}
	return n, nil
}

// eraseDeliveryScript redacts a release's email delivery to an erased
// address: its recipient becomes the hash and its name is dropped; a
// queued or retrying one becomes suppressed first (and may end the
// release); one being sent is left as it is. The address in its last
// error (an SMTP reply may echo it) becomes the hash too, and its entry in
// the release's failure log goes.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// KEYS[3..] -> declared: the delivery's bucket, and the failure log (cluster.go)
// ARGV[1] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[2] -> the delivery's id
// ARGV[3] -> the address
// ARGV[4] -> what the recipient becomes ("hmac-sha256:<hex>")
// ARGV[5] -> now (Unix ms)
//
// Output: 0 no such delivery to that address, 1 redacted, 2 suppressed
// and redacted, 3 being sent (left alone).
var eraseDeliveryScript = newReleaseScript(`
local function redact(s)
  local low, out, i = string.lower(s), '', 1
  while true do
    local a, b = string.find(low, ARGV[3], i, true)
    if not a then return out .. string.sub(s, i) end
    out = out .. string.sub(s, i, a - 1) .. ARGV[4]
    i = b + 1
  end
end
local d = getd(ARGV[1], ARGV[2])
if not d or d[F.recipient] ~= ARGV[3] then return 0 end
local st = d[F.status]
if st == DS.sending then return 3 end
local out = 1
if st == DS.queued or st == DS.retrying then
  d[F.status], d[F.error], d[F.updated_at] = DS.suppressed, nil, ARGV[5]
  move(d[F.channel], st, DS.suppressed)
  redis.call('HINCRBY', KEYS[2], C.pending, -1)
  out = 2
end
d[F.recipient], d[F.name] = ARGV[4], nil
if d[F.error] then d[F.error] = redact(d[F.error]) end
putd(ARGV[1], ARGV[2], d)
redis.call('HINCRBY', KEYS[1], R.redactions, 1) -- an archive built before this does not commit
if out == 2 then finalize(ARGV[5]) end
local log = string.format(FAILURE_LOG_KEY, string.match(KEYS[1], '{(.-)}'))
for _, e in ipairs(redis.call('XRANGE', log, '-', '+')) do
  local kv = e[2]
  for j = 1, #kv - 1, 2 do
    if kv[j] == FL.delivery and kv[j + 1] == ARGV[2] then redis.call('XDEL', log, e[1]) end
  end
end
return out
`)

// eraseDeliveryCall returns the keys and arguments of eraseDeliveryScript
// for release rid's delivery id to email.
func (s *Store) eraseDeliveryCall(rid, id, email, now string) ([]string, []any) {
	keys := declared([]string{releaseKey(rid), countsKey(rid)}, rid, id)
	return keys, []any{bucketPrefix(rid), id, email, erasedPrefix + s.erasedHash(email), now}
}

// redactDelivery runs eraseDeliveryScript on one delivery (see
// dropSuppressed), and brings the release's status index in line.
func (s *Store) redactDelivery(ctx context.Context, rid, id, email string) (int, error) {
	keys, args := s.eraseDeliveryCall(rid, id, email, fmtTime(s.now()))
	n, err := eraseDeliveryScript.Run(ctx, s.rdb, keys, args...).Int()
	if err != nil {
		return 0, fmt.Errorf("redact delivery %s of %s: %w", id, rid, err)
	}
	if n == 2 {
		if err := s.syncStatusIndex(ctx, rid); err != nil {
			return n, err
		}
	}
	return n, nil
}

// eraseDeliveries redacts email's delivery in every release and
// correction, live or archived (erasearchive.go), counting in er what it
// did. A release's delivery to an address has a known id
// (dispatcher.DeliveryID), so this costs one script per release, not a
// scan of deliveries; each runs in its release's slot, and they go in
// pipelines of eraseBatch.
func (s *Store) eraseDeliveries(ctx context.Context, email string, er *dispatcher.Erasure) error {
	rids, err := s.rdb.ZRange(ctx, releasesKey, 0, -1).Result()
	if err != nil {
		return fmt.Errorf("erase: releases: %w", err)
	}
	if err := eraseDeliveryScript.Load(ctx, s.rdb).Err(); err != nil {
		return fmt.Errorf("erase: load script: %w", err)
	}
	for start := 0; start < len(rids); start += eraseBatch {
		batch := rids[start:min(start+eraseBatch, len(rids))]
		// The corrections of these releases are releases of their own.
		lr := make([]*redis.StringSliceCmd, len(batch))
		if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
			for i, rid := range batch {
				lr[i] = p.LRange(ctx, correctionsKey(rid), 0, -1)
			}
			return nil
		}); err != nil && !isNil(err) {
			return fmt.Errorf("erase: corrections: %w", err)
		}
		all := append([]string(nil), batch...)
		for _, c := range lr {
			all = append(all, c.Val()...)
		}
		now := fmtTime(s.now())
		res := make([]*redis.Cmd, len(all))
		p := s.rdb.Pipeline()
		for i, rid := range all {
			keys, args := s.eraseDeliveryCall(rid, dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, email), email, now)
			res[i] = eraseDeliveryScript.EvalSha(ctx, p, keys, args...)
		}
		if _, err := p.Exec(ctx); err != nil && !isNil(err) && !redis.HasErrorPrefix(err, "NOSCRIPT") {
			return fmt.Errorf("erase: deliveries: %w", err)
		}
		for i, c := range res {
			if c.Err() != nil && redis.HasErrorPrefix(c.Err(), "NOSCRIPT") { // Redis lost its scripts meanwhile
				keys, args := s.eraseDeliveryCall(all[i], dispatcher.DeliveryID(all[i], dispatcher.ChannelEmail, email), email, now)
				res[i] = eraseDeliveryScript.Run(ctx, s.rdb, keys, args...)
			}
			n, err := res[i].Int()
			if err != nil {
				return fmt.Errorf("erase: delivery of %s: %w", all[i], err)
			}
			switch n {
			case 1:
				er.Redacted++
			case 2:
				er.Redacted++
				er.Suppressed++
				// It may have ended the release: its status index follows.
				if err := s.syncStatusIndex(ctx, all[i]); err != nil {
					return err
				}
			case 3:
				er.Sending++
			}
		}
		// After the live records (erasearchive.go says why in this order).
		n, err := s.eraseArchived(ctx, all, email)
		er.Redacted += n
		if err != nil {
			return err
		}
	}
	return nil
}

// LiftErasure forgets the erasure of email, so that it may be imported and
// mailed again, and returns when it was erased; dispatcher.ErrNotFound when
// it was not erased (or no key is set).
func (s *Store) LiftErasure(ctx context.Context, email string) (time.Time, error) {
	if s.erasureKey == nil {
		return time.Time{}, fmt.Errorf("erasure of the address: %w", dispatcher.ErrNotFound)
	}
	h := s.erasedHash(email)
	var at *redis.StringCmd
	var del *redis.IntCmd
	cmds, err := s.rdb.TxPipelined(ctx, func(p redis.Pipeliner) error { // one key: one slot
		at = p.HGet(ctx, erasedKey, h)
		del = p.HDel(ctx, erasedKey, h)
		return nil
	})
	if err != nil && !isNil(err) {
		return time.Time{}, fmt.Errorf("lift erasure: %w", txErr(cmds, err))
	}
	if del.Val() == 0 {
		return time.Time{}, fmt.Errorf("erasure of the address: %w", dispatcher.ErrNotFound)
	}
	return parseTime(at.Val()), nil
}

// SuppressionOf returns why email is never mailed: its erasure (reason
// erased, computed from the hash) or its suppression; dispatcher.ErrNotFound
// when it is neither.
func (s *Store) SuppressionOf(ctx context.Context, email string) (*dispatcher.Suppression, error) {
	at, erased, err := s.Erased(ctx, email)
	if err != nil {
		return nil, err
	}
	if erased {
		return &dispatcher.Suppression{Email: email, Reason: dispatcher.ReasonErased, At: at, Source: erasureSource}, nil
	}
	return s.Suppression(ctx, email)
}

// redacted reports whether a delivery's recipient is an erased address's
// hash rather than an address.
func redacted(recipient string) bool { return strings.HasPrefix(recipient, erasedPrefix) }

// undoIfErased runs undo's writes, which remove what the caller just wrote
// about email, when email has been erased, and reports whether it did: a
// write that names an address checks that it is not erased before it, and
// calls this after it (see the head of this file).
func (s *Store) undoIfErased(ctx context.Context, email string, undo func(redis.Pipeliner)) (bool, error) {
	if _, erased, err := s.Erased(ctx, email); err != nil || !erased {
		return false, err
	}
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		undo(p)
		return nil
	}); err != nil {
		return false, fmt.Errorf("undo a write about an erased address: %w", err)
	}
	return true, nil
}
