package store

// Erasure in archived releases (erase.go, archive.go). An archived
// release's deliveries are in compressed blocks that no script can read,
// so Go rewrites the block that holds the erased address's delivery: it
// decodes the block, redacts the record as eraseDeliveryScript redacts a
// live one (the recipient becomes "hmac-sha256:<hex>", the name goes, the
// address in the last error becomes the hash), encodes it again under a
// new field name and swaps it in with redactArchiveScript, which also
// drops the delivery's entry in the release's failure log (kept when the
// release was archived).
//
// Races:
//   - two erasures (or one erasure run twice) rewriting the same archive:
//     the swap checks that the archive's index is still the one the block
//     was read through, else the rewrite is read and made again;
//   - an archive being built while an address is erased: eraseDeliveryScript
//     counts its redactions in the release hash (R.redactions) and the
//     archive's commit refuses a build that began before one (archive.go),
//     so a block read before the live record was redacted never becomes
//     the archive. Erase looks for the archive after the live redaction: an
//     archive committed in between was built from the redacted record.
//
// A block's new field name names a new build, so the decoded blocks that
// readers cache by field name (blockCache) never go stale.

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// redactArchiveScript swaps a redacted block into a release's archive, if
// its index did not change since the block was read, and drops a
// delivery's entries in the release's failure log.
//
// KEYS[1] -> pregon:{<rid>}:archive
// KEYS[2] -> pregon:{<rid>}:failures
// ARGV[1] -> the index the block was read through
// ARGV[2] -> the index naming the new block instead
// ARGV[3] -> the old block's field
// ARGV[4] -> the new block's field
// ARGV[5] -> the new block
// ARGV[6] -> the delivery's id
//
// Output: "ok", or "changed" (nothing done: read it again).
var redactArchiveScript = newScript(`
if redis.call('HGET', KEYS[1], 'ix') ~= ARGV[1] then return 'changed' end
redis.call('HSET', KEYS[1], ARGV[4], ARGV[5], 'ix', ARGV[2])
redis.call('HDEL', KEYS[1], ARGV[3])
for _, e in ipairs(redis.call('XRANGE', KEYS[2], '-', '+')) do
  local kv = e[2]
  for j = 1, #kv - 1, 2 do
    if kv[j] == FL.delivery and kv[j + 1] == ARGV[6] then redis.call('XDEL', KEYS[2], e[1]) end
  end
end
return 'ok'
`)

// redactTries bounds how often a rewrite of an archive is made again
// because another changed it meanwhile.
const redactTries = 10

// eraseArchived redacts the delivery to email in the archives of those of
// rids that are archived, and returns how many it redacted.
func (s *Store) eraseArchived(ctx context.Context, rids []string, email string) (int, error) {
	ats := make([]*redis.StringCmd, len(rids))
	if _, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for i, rid := range rids {
			ats[i] = p.HGet(ctx, releaseKey(rid), rArchivedAt)
		}
		return nil
	}); err != nil && !isNil(err) {
		return 0, fmt.Errorf("erase: archived releases: %w", err)
	}
	n := 0
	for i, rid := range rids {
		if ats[i].Val() == "" {
			continue
		}
		done, err := s.redactArchived(ctx, rid, dispatcher.DeliveryID(rid, dispatcher.ChannelEmail, email), email)
		if err != nil {
			return n, err
		}
		if done {
			n++
		}
	}
	return n, nil
}

// redactArchived redacts delivery id to email in release rid's archive
// (see the head of this file), and reports whether there was one to
// redact.
func (s *Store) redactArchived(ctx context.Context, rid, id, email string) (bool, error) {
	to := erasedPrefix + s.erasedHash(email)
	for range redactTries {
		ix, err := s.rdb.HGet(ctx, archiveKey(rid), "ix").Result()
		if err != nil {
			return false, fmt.Errorf("erase: archive of %s: index: %w", rid, err)
		}
		refs, err := parseArchiveIndex(rid, ix)
		if err != nil {
			return false, err
		}
		bi := sort.Search(len(refs), func(i int) bool { return refs[i].last >= id })
		if bi == len(refs) || refs[bi].first > id {
			return false, nil
		}
		b, err := s.rdb.HGet(ctx, archiveKey(rid), refs[bi].field).Bytes()
		if isNil(err) {
			continue // another erasure replaced it since the index was read
		}
		if err != nil {
			return false, fmt.Errorf("erase: archive of %s: block %s: %w", rid, refs[bi].field, err)
		}
		recs, err := decodeBlock(rid, b)
		if err != nil {
			return false, fmt.Errorf("erase: archive of %s: block %s: %w", rid, refs[bi].field, err)
		}
		i, ok := slices.BinarySearchFunc(recs, id, func(r archived, id string) int { return strings.Compare(r.ID, id) })
		if !ok || recs[i].H[dRecipient] != email {
			return false, nil // none, or redacted already
		}
		h := maps.Clone(recs[i].H)
		h[dRecipient] = to
		delete(h, dName)
		if e, ok := h[dError]; ok {
			h[dError] = redactText(e, email, to)
		}
		recs[i] = archived{ID: id, H: h}

		field := "b:" + newID("b", s.now())[2:] + ":" + strconv.Itoa(bi)
		block, err := encodeBlock(rid, recs)
		if err != nil {
			return false, fmt.Errorf("erase: archive of %s: %w", rid, err)
		}
		if back, err := decodeBlock(rid, block); err != nil || !sameRecords(back, recs) {
			return false, fmt.Errorf("erase: archive of %s: the redacted block does not read back as written (%v)", rid, err)
		}
		old := refs[bi].field
		refs[bi].field = field
		res, err := redactArchiveScript.Run(ctx, s.rdb, []string{archiveKey(rid), failuresKey(rid)},
			ix, formatArchiveIndex(refs), old, field, block, id).Text()
		if err != nil {
			return false, fmt.Errorf("erase: archive of %s: %w", rid, err)
		}
		if res == "ok" {
			return true, nil
		}
	}
	return false, fmt.Errorf("erase: archive of %s keeps changing; erase the address again: %w", rid, dispatcher.ErrConflict)
}

// redactText replaces every occurrence of email (lower-case) in s, in any
// case, by to, as eraseDeliveryScript's redact does (ASCII case only, as
// Lua's string.lower).
func redactText(s, email, to string) string {
	low := asciiLower(s)
	var b strings.Builder
	i := 0
	for {
		j := strings.Index(low[i:], email)
		if j < 0 || email == "" {
			b.WriteString(s[i:])
			return b.String()
		}
		b.WriteString(s[i : i+j])
		b.WriteString(to)
		i += j + len(email)
	}
}

// asciiLower lower-cases the ASCII letters of s, byte for byte, so that
// offsets in the result are offsets in s.
func asciiLower(s string) string {
	b := []byte(s)
	for i, c := range b {
		if 'A' <= c && c <= 'Z' {
			b[i] = c + 'a' - 'A'
		}
	}
	return string(b)
}

// parseArchiveIndex reads an archive's index (archive.go).
func parseArchiveIndex(rid, ix string) ([]archiveBlockRef, error) {
	var out []archiveBlockRef
	for line := range strings.SplitSeq(ix, "\n") {
		if line == "" {
			continue
		}
		f := strings.Fields(line)
		if len(f) != 4 {
			return nil, fmt.Errorf("archive of %s: bad index line %q", rid, line)
		}
		c, _ := strconv.Atoi(f[3])
		out = append(out, archiveBlockRef{field: f[0], first: f[1], last: f[2], count: c})
	}
	return out, nil
}

// formatArchiveIndex writes an index as buildArchive does.
func formatArchiveIndex(refs []archiveBlockRef) string {
	var b strings.Builder
	for _, r := range refs {
		fmt.Fprintf(&b, "%s %s %s %d\n", r.field, r.first, r.last, r.count)
	}
	return b.String()
}
