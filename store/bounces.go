package store

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// A suppression is kept in three places: pregon:suppressed maps the email to
// its reason (what the claim and the planning read), pregon:suppressed-meta
// to "<at> <source>", and pregon:suppressions lists the emails in order, for
// paging. Suppressions recorded before the last two existed have no meta
// (zero At, empty Source) and are put in the index the first time it is read.

// bounceArgs returns the finish script's arguments for a bounce: its kind,
// its source and the suppression reason it makes ("" for none).
func bounceArgs(b *dispatcher.Bounce) (kind, source, reason string) {
	if b == nil {
		return "", "", ""
	}
	r, _ := dispatcher.SuppressionFor(b.Kind)
	return string(b.Kind), oneWord(b.Source), string(r)
}

// oneWord returns s without spaces, so that it fits the meta's format.
func oneWord(s string) string { return strings.Join(strings.Fields(s), "_") }

// Suppress records that email must never be mailed again, and why, as the
// unsubscribe link does (source "unsubscribe"); it overwrites an earlier
// reason.
func (s *Store) Suppress(ctx context.Context, email, reason string) error {
	return s.AddSuppression(ctx, dispatcher.Suppression{Email: email, Reason: dispatcher.SuppressionReason(reason), Source: "unsubscribe"}, true)
}

// AddSuppression records sup (At zero: now). An address already suppressed
// keeps its first reason unless overwrite. An erased address is left as it
// is: it keeps no suppression in the clear.
func (s *Store) AddSuppression(ctx context.Context, sup dispatcher.Suppression, overwrite bool) error {
	at := sup.At
	if at.IsZero() {
		at = s.now()
	}
	if _, erased, err := s.Erased(ctx, sup.Email); err != nil {
		return fmt.Errorf("suppress %s: %w", sup.Email, err)
	} else if erased {
		return nil
	}
	_, err := s.tx(ctx, func(p redis.Pipeliner) error {
		if overwrite {
			p.HSet(ctx, suppressedKey, sup.Email, string(sup.Reason))
			p.HSet(ctx, suppressedMetaKey, sup.Email, fmtTime(at)+" "+oneWord(sup.Source))
		} else {
			p.HSetNX(ctx, suppressedKey, sup.Email, string(sup.Reason))
			p.HSetNX(ctx, suppressedMetaKey, sup.Email, fmtTime(at)+" "+oneWord(sup.Source))
		}
		p.ZAdd(ctx, suppressionsKey, redis.Z{Member: sup.Email})
		return nil
	})
	if err != nil {
		return fmt.Errorf("suppress %s: %w", sup.Email, err)
	}
	// An erasure made meanwhile: see undoIfErased.
	if _, err := s.undoIfErased(ctx, sup.Email, func(p redis.Pipeliner) {
		p.HDel(ctx, suppressedKey, sup.Email)
		p.HDel(ctx, suppressedMetaKey, sup.Email)
		p.ZRem(ctx, suppressionsKey, sup.Email)
	}); err != nil {
		return fmt.Errorf("suppress %s: %w", sup.Email, err)
	}
	return nil
}

// Suppressions returns a page of suppressions in email order, and the next
// cursor ("" on the last page).
func (s *Store) Suppressions(ctx context.Context, cursor string, limit int) ([]dispatcher.Suppression, string, error) {
	if err := s.indexSuppressions(ctx); err != nil {
		return nil, "", err
	}
	emails, next, err := s.pageLex(ctx, suppressionsKey, cursor, limit, false)
	if err != nil || len(emails) == 0 {
		return []dispatcher.Suppression{}, next, err
	}
	var reasons, metas *redis.SliceCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		reasons = p.HMGet(ctx, suppressedKey, emails...)
		metas = p.HMGet(ctx, suppressedMetaKey, emails...)
		return nil
	}); err != nil {
		return nil, "", fmt.Errorf("suppressions: %w", err)
	}
	out := make([]dispatcher.Suppression, 0, len(emails))
	for i, e := range emails {
		r := str(reasons.Val(), i)
		if r == "" { // lifted while the page was read
			continue
		}
		out = append(out, suppressionFrom(e, r, str(metas.Val(), i)))
	}
	return out, next, nil
}

// Suppression returns the suppression of email, or dispatcher.ErrNotFound.
func (s *Store) Suppression(ctx context.Context, email string) (*dispatcher.Suppression, error) {
	var reason, meta *redis.StringCmd
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		reason = p.HGet(ctx, suppressedKey, email)
		meta = p.HGet(ctx, suppressedMetaKey, email)
		return nil
	}); err != nil && !isNil(err) {
		return nil, fmt.Errorf("suppression of %s: %w", email, err)
	}
	if reason.Val() == "" {
		return nil, fmt.Errorf("suppression of %q: %w", email, dispatcher.ErrNotFound)
	}
	sup := suppressionFrom(email, reason.Val(), meta.Val())
	return &sup, nil
}

// LiftSuppression removes the suppression of email, so that it may be
// mailed again, and returns it as it was; dispatcher.ErrNotFound when the
// address was not suppressed. An erased address has its erasure lifted
// (reason erased): it may then be imported and mailed again.
func (s *Store) LiftSuppression(ctx context.Context, email string) (*dispatcher.Suppression, error) {
	if at, err := s.LiftErasure(ctx, email); err == nil {
		return &dispatcher.Suppression{Email: email, Reason: dispatcher.ReasonErased, At: at, Source: erasureSource}, nil
	} else if !errors.Is(err, dispatcher.ErrNotFound) {
		return nil, err
	}
	var reason, meta *redis.StringCmd
	_, err := s.tx(ctx, func(p redis.Pipeliner) error {
		reason = p.HGet(ctx, suppressedKey, email)
		meta = p.HGet(ctx, suppressedMetaKey, email)
		p.HDel(ctx, suppressedKey, email)
		p.HDel(ctx, suppressedMetaKey, email)
		p.ZRem(ctx, suppressionsKey, email)
		return nil
	})
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("lift suppression of %s: %w", email, err)
	}
	if reason.Val() == "" {
		return nil, fmt.Errorf("suppression of %q: %w", email, dispatcher.ErrNotFound)
	}
	sup := suppressionFrom(email, reason.Val(), meta.Val())
	return &sup, nil
}

func suppressionFrom(email, reason, meta string) dispatcher.Suppression {
	at, source, _ := strings.Cut(meta, " ")
	return dispatcher.Suppression{Email: email, Reason: dispatcher.SuppressionReason(reason), At: parseTime(at), Source: source}
}

// indexSuppressions adds to the index the suppressions recorded before it
// existed, once.
func (s *Store) indexSuppressions(ctx context.Context) error {
	done, err := s.rdb.Get(ctx, suppressionsIdxKey).Result()
	if err != nil && !isNil(err) {
		return fmt.Errorf("suppressions index: %w", err)
	}
	if done == "1" {
		return nil
	}
	var cursor uint64
	for {
		keys, next, err := s.rdb.HScan(ctx, suppressedKey, cursor, "*", 1000).Result()
		if err != nil {
			return fmt.Errorf("index suppressions: %w", err)
		}
		if len(keys) > 0 {
			zs := make([]redis.Z, 0, len(keys)/2)
			for i := 0; i < len(keys); i += 2 {
				zs = append(zs, redis.Z{Member: keys[i]})
			}
			if err := s.rdb.ZAdd(ctx, suppressionsKey, zs...).Err(); err != nil {
				return fmt.Errorf("index suppressions: %w", err)
			}
		}
		if cursor = next; cursor == 0 {
			break
		}
	}
	if err := s.rdb.Set(ctx, suppressionsIdxKey, "1", 0).Err(); err != nil {
		return fmt.Errorf("index suppressions: %w", err)
	}
	return nil
}

// markBounceScript records a bounce reported later (a provider's webhook)
// on a delivery, when the delivery exists and is to that address.
//
// KEYS[1] -> the delivery's bucket, pregon:{<rid>}:db:<bucket>
// ARGV[1] -> the address the report is about
// ARGV[2] -> bounce kind
// ARGV[3] -> when (Unix ms)
// ARGV[4] -> source
// ARGV[5] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[6] -> the delivery's id
//
// Output: 1 when it marked the delivery, 0 when it is not that address's.
var markBounceScript = newScript(`
local d = getd(ARGV[5], ARGV[6])
if not d or d[F.recipient] ~= ARGV[1] then return 0 end
d[F.bounce], d[F.bounce_at], d[F.bounce_source] = ARGV[2], ARGV[3], ARGV[4]
putd(ARGV[5], ARGV[6], d)
return 1
`)

// RecordBounce acts on a bounce or complaint reported after the fact: it
// marks the delivery that ev.MessageID names, when it is one of Pregón's
// Message-IDs (<delivery id>.<release id>@domain) for ev.Email; a hard
// bounce or a complaint suppresses the address (an earlier reason stays),
// and a soft bounce is counted against it (pregon:soft-bounces). It
// reports whether a delivery was marked.
func (s *Store) RecordBounce(ctx context.Context, ev dispatcher.BounceEvent) (bool, error) {
	at := ev.At
	if at.IsZero() {
		at = s.now()
	}
	matched := false
	if rid, did, ok := parseMessageID(ev.MessageID); ok {
		bucket, _ := bucketOf(did)
		n, err := markBounceScript.Run(ctx, s.rdb, []string{bucketPrefix(rid) + bucket}, ev.Email, string(ev.Kind), fmtTime(at), oneWord(ev.Source),
			bucketPrefix(rid), did).Int()
		if err != nil {
			return false, fmt.Errorf("record bounce of %s: %w", did, err)
		}
		matched = n == 1
	}
	if reason, ok := dispatcher.SuppressionFor(ev.Kind); ok {
		return matched, s.AddSuppression(ctx, dispatcher.Suppression{Email: ev.Email, Reason: reason, At: at, Source: ev.Source}, false)
	}
	// An erased address's soft bounces are not counted (see undoIfErased).
	if _, erased, err := s.Erased(ctx, ev.Email); err != nil || erased {
		return matched, err
	}
	if err := s.rdb.HIncrBy(ctx, softBouncesKey, ev.Email, 1).Err(); err != nil {
		return matched, fmt.Errorf("count soft bounce of %s: %w", ev.Email, err)
	}
	if _, err := s.undoIfErased(ctx, ev.Email, func(p redis.Pipeliner) { p.HDel(ctx, softBouncesKey, ev.Email) }); err != nil {
		return matched, fmt.Errorf("count soft bounce of %s: %w", ev.Email, err)
	}
	return matched, nil
}

// parseMessageID returns the release and delivery ids of one of Pregón's
// Message-IDs, <delivery id>.<release id>@domain (dispatcher's
// emailMessage), with or without angle brackets.
func parseMessageID(id string) (rid, did string, ok bool) {
	rid, did, ok = dispatcher.ParseMessageID(id)
	if !ok || !validID("rel", rid) {
		return "", "", false
	}
	return rid, did, true
}
