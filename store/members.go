package store

// Double opt-in: the members of a list who signed up through the public
// subscribe form, and where each stands. A list's members are all in its
// members ZSET; those that have not confirmed are also in its pending HASH,
// and releases skip them. A member in neither of the HASHes below is one a
// coordinator added, and counts as confirmed (the coordinator vouches for
// consent).
//
//	pregon:list:<id>:pending        HASH  email → Unix ms it signed up (pending members only)
//	pregon:list:<id>:optin          HASH  email → Unix ms it confirmed (members who confirmed by email)
//	pregon:optin-mails:<sha256>     STRING confirmation emails sent to one address in the current window (TTL)

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

func pendingKey(listID string) string { return prefix + "{" + listID + "}:pending" } // was pregon:list:<id>:pending
func optinKey(listID string) string   { return prefix + "{" + listID + "}:optin" }   // was pregon:list:<id>:optin

// optinMailsKey is keyed by a hash of the address, so that no address
// (which may hold braces, a Redis Cluster hash tag) builds a key.
func optinMailsKey(email string) string {
	sum := sha256.Sum256([]byte(email))
	return prefix + "optin-mails:" + hex.EncodeToString(sum[:])
}

// subscribeScript adds a pending member to a list, unless it is a member
// already (Subscribe keeps out suppressed and erased addresses, erase.go).
// The contact's name and language are set only where it has none: a
// sign-up, which anyone may make for any address, never changes what a
// coordinator recorded.
//
//	KEYS[1] -> pregon:{<id>}:list
//	KEYS[2] -> pregon:{<id>}:members
//	KEYS[3] -> pregon:{<id>}:pending
//	ARGV[1] -> email
//	ARGV[2] -> now (Unix ms)
//	Output: 0 no such list, else a dispatcher.SubscribeOutcome
//
// The suppressions and the contact's hash are in other hash slots (Redis
// Cluster): Subscribe checks the one before and fills the other after.
var subscribeScript = redis.NewScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
if redis.call('HEXISTS', KEYS[3], ARGV[1]) == 1 then return 2 end
if redis.call('ZSCORE', KEYS[2], ARGV[1]) then return 3 end
redis.call('ZADD', KEYS[2], 0, ARGV[1])
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
`)

// Subscribe signs c.Email (normalised) up to a list through the subscribe
// form: a new member joins as pending. It returns what it found and did,
// or dispatcher.ErrNotFound for an unknown list.
func (s *Store) Subscribe(ctx context.Context, listID string, c dispatcher.Contact) (dispatcher.SubscribeOutcome, error) {
	if !validID("lst", listID) {
		return 0, fmt.Errorf("list %q: %w", listID, dispatcher.ErrNotFound)
	}
	// A suppressed or erased address is never signed up. The check is
	// made before the script: the suppressions and the erasure hashes are
	// in other hash slots (and undoIfErased covers an erasure made
	// meanwhile).
	if ok, err := s.rdb.Exists(ctx, listKey(listID)).Result(); err != nil {
		return 0, fmt.Errorf("subscribe to %s: %w", listID, err)
	} else if ok == 0 {
		return 0, fmt.Errorf("list %q: %w", listID, dispatcher.ErrNotFound)
	}
	if sup, err := s.Suppressed(ctx, []string{c.Email}); err != nil {
		return 0, fmt.Errorf("subscribe to %s: %w", listID, err)
	} else if sup[0] {
		return dispatcher.SubscribeSuppressed, nil
	}
	keys := []string{listKey(listID), membersKey(listID), pendingKey(listID)}
	n, err := subscribeScript.Run(ctx, s.rdb, keys, c.Email, fmtTime(s.now())).Int()
	if err != nil {
		return 0, fmt.Errorf("subscribe to %s: %w", listID, err)
	}
	if n == 0 {
		return 0, fmt.Errorf("list %q: %w", listID, dispatcher.ErrNotFound)
	}
	if dispatcher.SubscribeOutcome(n) == dispatcher.SubscribeAdded {
		// The contact's hash gets the fields it lacks, never more: a
		// sign-up, which anyone may make for any address, never changes
		// what a coordinator recorded.
		p := s.rdb.Pipeline()
		p.HSetNX(ctx, contactKey(c.Email), "email", c.Email)
		if c.Name != "" {
			p.HSetNX(ctx, contactKey(c.Email), "name", c.Name)
		}
		if c.Language != "" {
			p.HSetNX(ctx, contactKey(c.Email), "language", c.Language)
		}
		if _, err := p.Exec(ctx); err != nil {
			return 0, fmt.Errorf("subscribe to %s: %w", listID, err)
		}
		// An erasure made since the check: see undoIfErased.
		if undone, err := s.undoIfErased(ctx, c.Email, func(p redis.Pipeliner) {
			p.ZRem(ctx, membersKey(listID), c.Email)
			p.HDel(ctx, pendingKey(listID), c.Email)
			p.Del(ctx, contactKey(c.Email))
		}); err != nil {
			return 0, fmt.Errorf("subscribe to %s: %w", listID, err)
		} else if undone {
			return dispatcher.SubscribeSuppressed, nil
		}
	}
	return dispatcher.SubscribeOutcome(n), nil
}

// confirmScript confirms a pending member.
//
//	KEYS[1] -> pregon:{<id>}:members
//	KEYS[2] -> pregon:{<id>}:pending
//	KEYS[3] -> pregon:{<id>}:optin
//	ARGV[1] -> email
//	ARGV[2] -> now (Unix ms)
//	Output: 0 not a member, 1 confirmed now, 2 confirmed already
var confirmScript = redis.NewScript(`
if not redis.call('ZSCORE', KEYS[1], ARGV[1]) then return 0 end
if redis.call('HDEL', KEYS[2], ARGV[1]) == 0 then return 2 end
redis.call('HSET', KEYS[3], ARGV[1], ARGV[2])
return 1
`)

// ConfirmMember makes a pending member of a list confirmed, recording the
// time. It reports whether it changed anything (false: the member was
// confirmed already), or returns dispatcher.ErrNotFound when email is not
// a member of the list (it was removed, or the list does not exist).
func (s *Store) ConfirmMember(ctx context.Context, listID, email string) (bool, error) {
	if !validID("lst", listID) {
		return false, fmt.Errorf("list %q: %w", listID, dispatcher.ErrNotFound)
	}
	keys := []string{membersKey(listID), pendingKey(listID), optinKey(listID)}
	n, err := confirmScript.Run(ctx, s.rdb, keys, email, fmtTime(s.now())).Int()
	if err != nil {
		return false, fmt.Errorf("confirm %s on %s: %w", email, listID, err)
	}
	if n == 0 {
		return false, fmt.Errorf("member %q of %s: %w", email, listID, dispatcher.ErrNotFound)
	}
	return n == 1, nil
}

// MemberPending reports whether email is a pending member of a list.
func (s *Store) MemberPending(ctx context.Context, listID, email string) (bool, error) {
	ok, err := s.rdb.HExists(ctx, pendingKey(listID), email).Result()
	if err != nil {
		return false, fmt.Errorf("pending member %s of %s: %w", email, listID, err)
	}
	return ok, nil
}

// countMailScript counts one email to an address in a window that starts
// with the first.
//
//	KEYS[1] -> pregon:optin-mails:<sha256 of email>
//	ARGV[1] -> window (ms)
//	Output: the emails counted in the window, this one included
var countMailScript = redis.NewScript(`
local n = redis.call('INCR', KEYS[1])
if n == 1 then redis.call('PEXPIRE', KEYS[1], ARGV[1]) end
return n
`)

// TakeConfirmationMail counts a confirmation email to email, and reports
// whether it is within max in the window that the first such email started
// (max of them per window: the rest are not to be sent).
func (s *Store) TakeConfirmationMail(ctx context.Context, email string, max int, window time.Duration) (bool, error) {
	n, err := countMailScript.Run(ctx, s.rdb, []string{optinMailsKey(email)}, window.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("count confirmation emails: %w", err)
	}
	return n <= max, nil
}

// maxMemberScan bounds the members ListMembers reads for one page when it
// filters by status: a page may then hold fewer than limit members (even
// none) with a next cursor, and the caller reads on.
const maxMemberScan = 5000

// ListMembers returns a page of a list's members in email order, each with
// its status and suppression, only those in status when it is not "", and
// the cursor of the next page ("" on the last). It returns
// dispatcher.ErrNotFound for an unknown list.
func (s *Store) ListMembers(ctx context.Context, listID string, status dispatcher.MemberStatus, cursor string, limit int) ([]dispatcher.ListMember, string, error) {
	if _, err := s.List(ctx, listID); err != nil {
		return nil, "", err
	}
	out := make([]dispatcher.ListMember, 0, limit)
	for read := 0; ; {
		emails, rawNext, err := s.pageLex(ctx, membersKey(listID), cursor, limit, false)
		if err != nil {
			return nil, "", err
		}
		ms, err := s.listMembers(ctx, listID, emails)
		if err != nil {
			return nil, "", err
		}
		for i, m := range ms {
			if status != "" && m.Status != status {
				continue
			}
			out = append(out, m)
			if len(out) == limit {
				if i == len(ms)-1 && rawNext == "" {
					return out, "", nil
				}
				return out, m.Email, nil
			}
		}
		read += len(emails)
		if rawNext == "" || read >= maxMemberScan {
			return out, rawNext, nil
		}
		cursor = rawNext
	}
}

// listMembers reads the members with emails of a list.
func (s *Store) listMembers(ctx context.Context, listID string, emails []string) ([]dispatcher.ListMember, error) {
	if len(emails) == 0 {
		return nil, nil
	}
	p := s.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(emails))
	for i, e := range emails {
		hs[i] = p.HGetAll(ctx, contactKey(e))
	}
	pending := p.HMGet(ctx, pendingKey(listID), emails...)
	confirmed := p.HMGet(ctx, optinKey(listID), emails...)
	suppressed := p.HMGet(ctx, suppressedKey, emails...)
	suppressedMeta := p.HMGet(ctx, suppressedMetaKey, emails...)
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return nil, fmt.Errorf("members of %s: %w", listID, err)
	}
	out := make([]dispatcher.ListMember, len(emails))
	for i, e := range emails {
		m := dispatcher.ListMember{Contact: contactFrom(e, hs[i].Val()), Status: dispatcher.MemberConfirmed}
		if at := str(confirmed.Val(), i); at != "" {
			m.ConfirmedAt = timePtr(at)
		}
		if at := str(pending.Val(), i); at != "" {
			m.Status, m.SubscribedAt = dispatcher.MemberPending, timePtr(at)
		}
		if r := str(suppressed.Val(), i); r != "" {
			m.Suppressed = suppressionMark(e, r, str(suppressedMeta.Val(), i))
			if m.Suppressed.Reason == "unsubscribed" {
				m.Status = dispatcher.MemberUnsubscribed
			}
		}
		out[i] = m
	}
	return out, nil
}

// suppressionMark is what a member's record says of its suppression: the
// reason (pregon:suppressed) and, when it was recorded (pregon:suppressed-meta;
// suppressions older than that key have none), the time.
func suppressionMark(email, reason, meta string) *dispatcher.SuppressionMark {
	sup := suppressionFrom(email, reason, meta)
	m := &dispatcher.SuppressionMark{Reason: reason}
	if !sup.At.IsZero() {
		m.At = &sup.At
	}
	return m
}

func timePtr(ms string) *time.Time {
	t := parseTime(ms)
	if t.IsZero() {
		return nil
	}
	return &t
}
