package store

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"time"

	"github.com/redis/go-redis/v9"

	"github.com/pregon/pregon/audit"
)

// Audit log keys (see the layout in store.go). They share the hash tag
// {audit}, so that one script can append to all of them in Redis Cluster.
const (
	auditHeadKey    = prefix + "{audit}:head"     // HASH seq, hash, at (Unix ms) of the last entry
	auditEntriesKey = prefix + "{audit}:entries"  // HASH seq → the entry as JSON
	auditTimesKey   = prefix + "{audit}:at"       // ZSET padded seq by at (Unix ms): finds the first entry since a time
	auditRelPrefix  = prefix + "{audit}:release:" // + release id: ZSET seq by seq, the release's entries
)

func auditReleaseKey(rid string) string { return auditRelPrefix + rid }

// padSeq writes a seq as a member of the times index: zero-padded, so that
// entries recorded in the same millisecond sort by number.
func padSeq(seq int64) string { return fmt.Sprintf("%020d", seq) }

// ErrAuditContention is returned when an entry could not be appended
// because other writers kept appending first until the context ended.
var ErrAuditContention = errors.New("audit log: too many writers at once")

// AppendAudit appends e to the audit log: it sets e.Seq, e.PrevHash and
// e.Hash, and e.At (now when it is zero; see audit.Next). It is safe to call
// from many processes at once.
//
// Redis's Lua has no SHA-256, so the hash is computed here, and the append
// is a compare-and-set: read the head (the last entry's seq, hash and
// time), seal the entry after it, and run appendAuditScript, which writes
// it only if the head is still the one read; otherwise it returns the head
// as it now is and the entry is sealed again after that. Each round one
// writer wins, so the chain never forks and its numbers have no gap; a
// writer that keeps losing waits a little, at random, between tries, and
// gives up (ErrAuditContention) when ctx ends. The appends of one process
// take turns, so only appends from other processes make it lose a round.
func (s *Store) AppendAudit(ctx context.Context, e *audit.Entry) error {
	if e.At.IsZero() {
		e.At = s.now()
	}
	// One append at a time in this process: fifty requests appending at
	// once would otherwise lose the compare-and-set to each other round
	// after round (a round trip each), and some would wait for seconds.
	// Other processes can still win a round; that is the loop below.
	select {
	case s.auditTurn <- struct{}{}:
		defer func() { <-s.auditTurn }()
	case <-ctx.Done():
		return fmt.Errorf("audit %s %s: %w: %w", e.Action, e.Target, ErrAuditContention, ctx.Err())
	}
	at := e.At
	// The head this process appended last is the head unless another
	// process has appended since: then the script says so, and gives it.
	head, known := s.auditHead, s.auditHeadKnown
	s.auditHeadKnown = false
	if !known {
		vals, err := s.rdb.HMGet(ctx, auditHeadKey, "seq", "hash", "at").Result()
		if err != nil {
			return fmt.Errorf("audit %s %s: read the head: %w", e.Action, e.Target, err)
		}
		head = parseAuditHead(vals)
	}
	keys := []string{auditHeadKey, auditEntriesKey, auditTimesKey}
	if rid := e.Release(); rid != "" {
		keys = append(keys, auditReleaseKey(rid))
	}
	for try := 0; ; try++ {
		e.At = at
		if err := audit.Next(head, e); err != nil {
			return err
		}
		data, err := json.Marshal(e)
		if err != nil {
			return fmt.Errorf("audit %s %s: encode: %w", e.Action, e.Target, err)
		}
		res, err := appendAuditScript.Run(ctx, s.rdb, keys,
			head.Seq, head.Hash, e.Hash, e.At.UnixMilli(), data, padSeq(e.Seq)).Slice()
		if err != nil {
			return fmt.Errorf("audit %s %s: append: %w", e.Action, e.Target, err)
		}
		if ok, _ := res[0].(int64); ok == 1 {
			s.auditHead, s.auditHeadKnown = audit.HeadOf(e), true
			return nil
		}
		head = parseAuditHead(res[1:])
		if try >= 2 {
			pause := time.Duration(rand.Int64N(int64(time.Duration(min(try, 20)) * time.Millisecond)))
			select {
			case <-ctx.Done():
				return fmt.Errorf("audit %s %s: %w: %w", e.Action, e.Target, ErrAuditContention, ctx.Err())
			case <-time.After(pause):
			}
		}
		if err := ctx.Err(); err != nil {
			return fmt.Errorf("audit %s %s: %w: %w", e.Action, e.Target, ErrAuditContention, err)
		}
	}
}

// appendAuditScript appends an entry if the log's head is still the one
// its hash was computed after. It refuses to overwrite an entry that
// exists, so that a head deleted by hand stops the log rather than letting
// new entries replace old ones.
//
//	KEYS[1] -> the head (HASH seq, hash, at)
//	KEYS[2] -> the entries (HASH seq → JSON)
//	KEYS[3] -> the times index (ZSET)
//	KEYS[4] -> the release's index (ZSET), when the entry is about a release
//	ARGV[1] -> the head's seq the entry follows ("0" for an empty log)
//	ARGV[2] -> the head's hash the entry follows
//	ARGV[3] -> the entry's hash
//	ARGV[4] -> the entry's time, Unix ms
//	ARGV[5] -> the entry as JSON
//	ARGV[6] -> the entry's seq, zero-padded (member of the times index)
//	Output: {1} when appended; {0, seq, hash, at} of the head as it is when
//	the head moved; an error when the entry's seq is already taken
var appendAuditScript = redis.NewScript(`
local head = redis.call('HMGET', KEYS[1], 'seq', 'hash', 'at')
local seq, hash = head[1] or '0', head[2] or ''
if seq ~= ARGV[1] or hash ~= ARGV[2] then
  return {0, seq, hash, head[3] or '0'}
end
local next = tostring(tonumber(seq) + 1)
if redis.call('HSETNX', KEYS[2], next, ARGV[5]) == 0 then
  return redis.error_reply('audit entry ' .. next .. ' exists but the head is at ' .. seq .. ': the head record was altered')
end
redis.call('ZADD', KEYS[3], ARGV[4], ARGV[6])
if KEYS[4] then
  redis.call('ZADD', KEYS[4], next, next)
end
redis.call('HSET', KEYS[1], 'seq', next, 'hash', ARGV[3], 'at', ARGV[4])
return {1}
`)

// parseAuditHead reads the head from seq, hash, at (Unix ms) values,
// missing ones being those of an empty log.
func parseAuditHead(vals []any) audit.Head {
	str := func(i int) string {
		if i < len(vals) {
			if s, ok := vals[i].(string); ok {
				return s
			}
		}
		return ""
	}
	seq, _ := strconv.ParseInt(str(0), 10, 64)
	return audit.Head{Seq: seq, Hash: str(1), At: parseTime(str(2))}
}

// AuditEntries returns a page of the audit log: q.Limit entries at most
// (those a hand deleted are left out, so a page may hold fewer), newest
// first unless q.Oldest, and the cursor of the next page. An entry whose
// stored JSON cannot be read is returned with its seq and nothing else, so
// that a check of the chain reports it.
func (s *Store) AuditEntries(ctx context.Context, q audit.Query) (*audit.Page, error) {
	vals, err := s.rdb.HMGet(ctx, auditHeadKey, "seq", "hash", "at").Result()
	if err != nil {
		return nil, fmt.Errorf("audit entries: read the head: %w", err)
	}
	page := &audit.Page{Head: parseAuditHead(vals), Entries: []*audit.Entry{}}
	// The highest seq stored: the head's, unless the head was deleted or
	// moved back by hand, in which case the times index still knows.
	top := page.Head.Seq
	if last, err := s.rdb.ZRevRange(ctx, auditTimesKey, 0, 0).Result(); err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	} else if len(last) == 1 {
		if n, _ := strconv.ParseInt(last[0], 10, 64); n > top {
			top = n
		}
	}
	lo, hi := int64(1), top
	if !q.Since.IsZero() {
		first, err := s.rdb.ZRangeArgs(ctx, redis.ZRangeArgs{Key: auditTimesKey, ByScore: true,
			Start: fmtTime(q.Since), Stop: "+inf", Count: 1}).Result()
		if err != nil {
			return nil, fmt.Errorf("audit entries since %s: %w", q.Since, err)
		}
		if len(first) == 0 {
			return page, nil
		}
		lo, _ = strconv.ParseInt(first[0], 10, 64)
	}
	if q.Cursor > 0 {
		if q.Oldest {
			lo = max(lo, q.Cursor)
		} else {
			hi = min(hi, q.Cursor)
		}
	}
	if lo > hi || q.Limit <= 0 {
		return page, nil
	}
	seqs, next, err := s.auditSeqs(ctx, q, lo, hi)
	if err != nil {
		return nil, err
	}
	page.Next = next
	if len(seqs) == 0 {
		return page, nil
	}
	fields := make([]string, len(seqs))
	for i, n := range seqs {
		fields[i] = strconv.FormatInt(n, 10)
	}
	raw, err := s.rdb.HMGet(ctx, auditEntriesKey, fields...).Result()
	if err != nil {
		return nil, fmt.Errorf("audit entries: %w", err)
	}
	for i, v := range raw {
		data, ok := v.(string)
		if !ok {
			continue // deleted by hand: the gap shows in the numbers
		}
		e := &audit.Entry{}
		if err := json.Unmarshal([]byte(data), e); err != nil {
			e = &audit.Entry{Seq: seqs[i], Detail: map[string]any{"unreadable": "the stored entry is not valid JSON"}}
		}
		page.Entries = append(page.Entries, e)
	}
	return page, nil
}

// auditSeqs returns the seqs of a page between lo and hi (both included),
// in the page's order, and the cursor of the next page (0: none).
func (s *Store) auditSeqs(ctx context.Context, q audit.Query, lo, hi int64) ([]int64, int64, error) {
	if q.Release == "" {
		// Every number from lo to hi: the chain has no gaps.
		var seqs []int64
		if q.Oldest {
			for n := lo; n <= hi && len(seqs) < q.Limit; n++ {
				seqs = append(seqs, n)
			}
			if end := seqs[len(seqs)-1]; end < hi {
				return seqs, end + 1, nil
			}
			return seqs, 0, nil
		}
		for n := hi; n >= lo && len(seqs) < q.Limit; n-- {
			seqs = append(seqs, n)
		}
		if end := seqs[len(seqs)-1]; end > lo {
			return seqs, end - 1, nil
		}
		return seqs, 0, nil
	}
	args := redis.ZRangeArgs{Key: auditReleaseKey(q.Release), ByScore: true, Rev: !q.Oldest,
		Start: lo, Stop: hi, Count: int64(q.Limit) + 1}
	if !q.Oldest {
		args.Start, args.Stop = hi, lo // ZRANGE ... BYSCORE REV takes max then min
	}
	members, err := s.rdb.ZRangeArgs(ctx, args).Result()
	if err != nil {
		return nil, 0, fmt.Errorf("audit entries of release %s: %w", q.Release, err)
	}
	seqs := make([]int64, 0, len(members))
	for _, m := range members {
		n, err := strconv.ParseInt(m, 10, 64)
		if err != nil {
			return nil, 0, fmt.Errorf("audit entries of release %s: member %q is not a number", q.Release, m)
		}
		seqs = append(seqs, n)
	}
	if len(seqs) > q.Limit {
		return seqs[:q.Limit], seqs[q.Limit], nil
	}
	return seqs, 0, nil
}
