package store

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Retention: the deliveries of a release that is final are compacted into
// its archive, pregon:{<rid>}:archive, a HASH of
//
//	b:<build>:<n>   block n of a build: up to archiveBlockSize deliveries in id order (archivecodec.go)
//	ix              one line per block, "<field> <first id> <last id> <count>", written when the archive is complete
//
// and the release hash's "arch" field says when. Archiving is done in three
// steps, each of which can be interrupted and taken up again by calling
// ArchiveRelease once more:
//
//  1. build: the deliveries are read a block at a time and written to the
//     archive under a new build id, and each block is read back and
//     compared with what was read. Two builds at once (the API and the
//     periodic archiver) write apart and only one commits;
//  2. commit: one script checks that the release did not change since the
//     build began (status, activity, updated_at, redactions by an erasure,
//     number of deliveries),
//     writes the index, deletes the blocks of other builds (interrupted
//     or concurrent) and sets "arch": from then on readers read the archive;
//  3. drop: the live delivery buckets (record.go) and their ZSET are deleted in batches.
//
// Nothing is deleted before the archive is complete and read back, and the
// counts and the failure log stay as they are.

const (
	archiveBlockSize   = 4096 // deliveries in one archive block
	archiveDeleteBatch = 64   // live buckets (record.go) deleted in one transaction
)

func archiveKey(rid string) string { return prefix + "{" + rid + "}:archive" }

// Archive steps at which a test hook may stop ArchiveRelease (export_test.go).
const (
	stepBlock  = "block"  // after a block was written and read back
	stepCommit = "commit" // before the commit
	stepDrop   = "drop"   // after a batch of live deliveries was deleted
)

// ArchiveRelease compacts the deliveries of a final release (sent,
// sent_with_failures or cancelled) into its archive and returns the
// release. It returns dispatcher.ErrNotFound, or a
// dispatcher.ErrConflict (wrapped, with the reason) when the release is not
// final or changed while it was being archived (try again). On an archived release it finishes an
// interrupted drop and returns it.
func (s *Store) ArchiveRelease(ctx context.Context, rid string) (*dispatcher.Release, error) {
	if !validID("rel", rid) {
		return nil, fmt.Errorf("release %q: %w", rid, dispatcher.ErrNotFound)
	}
	v, err := s.rdb.HMGet(ctx, releaseKey(rid), rStatus, rArchivedAt, rActivity, rUpdatedAt, rRedactions).Result()
	if err != nil {
		return nil, fmt.Errorf("archive %s: %w", rid, err)
	}
	status := dispatcher.ReleaseStatus(str(v, 0))
	if status == "" {
		return nil, fmt.Errorf("release %q: %w", rid, dispatcher.ErrNotFound)
	}
	if str(v, 1) == "" {
		if !finalRelease(status) {
			return nil, fmt.Errorf("release %s is %s: only a sent or cancelled release can be archived: %w",
				rid, status, dispatcher.ErrConflict)
		}
		if err := s.buildArchive(ctx, rid, status, str(v, 2), str(v, 3), str(v, 4)); err != nil {
			return nil, err
		}
	}
	if err := s.dropLive(ctx, rid); err != nil {
		return nil, err
	}
	return s.Release(ctx, rid)
}

func finalRelease(st dispatcher.ReleaseStatus) bool {
	return st == dispatcher.ReleaseSent || st == dispatcher.ReleaseSentWithFailures || st == dispatcher.ReleaseCancelled
}

func (s *Store) hook(step string) error {
	if s.archiveHook == nil {
		return nil
	}
	return s.archiveHook(step)
}

// buildArchive writes the archive of a release and commits it.
func (s *Store) buildArchive(ctx context.Context, rid string, status dispatcher.ReleaseStatus, act, ut, red string) error {
	build := newID("b", s.now())[2:]
	var index strings.Builder
	cursor, walked := "", 0
	for n := 0; ; n++ {
		recs, next, err := s.scanLive(ctx, rid, cursor, archiveBlockSize, true)
		if err != nil {
			return fmt.Errorf("archive %s: %w", rid, err)
		}
		if len(recs) == 0 {
			break
		}
		walked += len(recs)
		if len(recs) > 0 {
			field := "b:" + build + ":" + strconv.Itoa(n)
			if err := s.writeBlock(ctx, rid, field, recs); err != nil {
				return err
			}
			fmt.Fprintf(&index, "%s %s %s %d\n", field, recs[0].ID, recs[len(recs)-1].ID, len(recs))
			if err := s.hook(stepBlock); err != nil {
				return err
			}
		}
		if next == "" {
			break
		}
		cursor = next
	}
	if err := s.hook(stepCommit); err != nil {
		return err
	}
	res, err := commitArchiveScript.Run(ctx, s.rdb, []string{releaseKey(rid), blocksKey(rid), archiveKey(rid)},
		fmtTime(s.now()), string(status), act, ut, walked, index.String(), "b:"+build+":", bucketPrefix(rid), red).Text()
	if err != nil {
		return fmt.Errorf("archive %s: commit: %w", rid, err)
	}
	switch res {
	case "ok", "archived":
		return nil
	default:
		return fmt.Errorf("release %s changed while it was being archived; try again: %w", rid, dispatcher.ErrConflict)
	}
}

// writeBlock writes a block of a release's archive and reads it back.
func (s *Store) writeBlock(ctx context.Context, rid, field string, recs []archived) error {
	b, err := encodeBlock(rid, recs)
	if err != nil {
		return fmt.Errorf("archive %s: %w", rid, err)
	}
	if err := s.rdb.HSet(ctx, archiveKey(rid), field, b).Err(); err != nil {
		return fmt.Errorf("archive %s: write block %s: %w", rid, field, err)
	}
	back, err := s.rdb.HGet(ctx, archiveKey(rid), field).Bytes()
	if err != nil {
		return fmt.Errorf("archive %s: read back block %s: %w", rid, field, err)
	}
	got, err := decodeBlock(rid, back)
	if err != nil {
		return fmt.Errorf("archive %s: read back block %s: %w", rid, field, err)
	}
	if !sameRecords(got, recs) {
		return fmt.Errorf("archive %s: block %s does not read back as written", rid, field)
	}
	return nil
}

func sameRecords(a, b []archived) bool {
	return slices.EqualFunc(a, b, func(x, y archived) bool { return x.ID == y.ID && maps.Equal(x.H, y.H) })
}

// commitArchiveScript makes a release's archive the record of its
// deliveries, unless the release changed since the archive was built.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:dblocks (record.go)
// KEYS[3] -> pregon:{<rid>}:archive
// ARGV[1] -> now (Unix ms)
// ARGV[2] -> the release's status when the build began
// ARGV[3] -> its activity then ("" for none)
// ARGV[4] -> its updated_at then ("" for none)
// ARGV[5] -> the number of delivery ids the build walked
// ARGV[6] -> the archive's index
// ARGV[7] -> the prefix of this build's block fields ("b:<build>:")
// ARGV[8] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[9] -> its redactions then ("" for none: an erasure that redacted a
// live record after the build read it changes them; erasearchive.go)
//
// Output: "ok", "archived" (it already was) or "changed". Unless "ok", the
// blocks of this build are deleted; with "ok", those of every other build.
var commitArchiveScript = newScript(`
local function dropBlocks(mine)
  for _, f in ipairs(redis.call('HKEYS', KEYS[3])) do
    if f ~= 'ix' and (string.sub(f, 1, #ARGV[7]) == ARGV[7]) == mine then redis.call('HDEL', KEYS[3], f) end
  end
end
local function live()
  local n = 0
  for _, b in ipairs(redis.call('ZRANGE', KEYS[2], 0, -1)) do n = n + redis.call('HLEN', ARGV[8] .. b) end
  return n
end
local v = redis.call('HMGET', KEYS[1], R.status, R.activity, R.updated_at, R.archived_at, R.redactions)
if v[4] then dropBlocks(true) return 'archived' end
if v[1] ~= ARGV[2] or (v[2] or '') ~= ARGV[3] or (v[3] or '') ~= ARGV[4] or (v[5] or '') ~= ARGV[9] or live() ~= tonumber(ARGV[5]) then
  dropBlocks(true)
  return 'changed'
end
dropBlocks(false)
redis.call('HSET', KEYS[3], 'ix', ARGV[6])
redis.call('HSET', KEYS[1], R.archived_at, ARGV[1])
return 'ok'
`)

// dropLive deletes the live deliveries of an archived release, a batch at
// a time; it does nothing unless the archive is committed.
func (s *Store) dropLive(ctx context.Context, rid string) error {
	at, err := s.archivedAt(ctx, rid)
	if err != nil {
		return err
	}
	if at == "" {
		return fmt.Errorf("archive %s: not committed", rid)
	}
	for {
		buckets, err := s.rdb.ZRange(ctx, blocksKey(rid), 0, archiveDeleteBatch-1).Result()
		if err != nil {
			return fmt.Errorf("archive %s: drop live deliveries: %w", rid, err)
		}
		if len(buckets) == 0 {
			return nil
		}
		keys := make([]string, len(buckets))
		members := make([]any, len(buckets))
		for i, b := range buckets {
			keys[i], members[i] = bucketPrefix(rid)+b, b
		}
		if err := txErr(s.tx(ctx, func(p redis.Pipeliner) error {
			p.Unlink(ctx, keys...)
			p.ZRem(ctx, blocksKey(rid), members...)
			return nil
		})); err != nil {
			return fmt.Errorf("archive %s: drop live deliveries: %w", rid, err)
		}
		if err := s.hook(stepDrop); err != nil {
			return err
		}
	}
}

// archivedAt returns the release's "arch" field: "" while its deliveries
// are live.
func (s *Store) archivedAt(ctx context.Context, rid string) (string, error) {
	at, err := s.rdb.HGet(ctx, releaseKey(rid), rArchivedAt).Result()
	if err != nil && !isNil(err) {
		return "", fmt.Errorf("release %s: %w", rid, err)
	}
	return at, nil
}

// archiveBlockRef is one line of an archive's index.
type archiveBlockRef struct {
	field       string
	first, last string
	count       int
}

func (s *Store) archiveIndex(ctx context.Context, rid string) ([]archiveBlockRef, error) {
	ix, err := s.rdb.HGet(ctx, archiveKey(rid), "ix").Result()
	if err != nil {
		return nil, fmt.Errorf("archive of %s: index: %w", rid, err)
	}
	return parseArchiveIndex(rid, ix)
}

// archiveBlock returns a block of a release's archive, decoded (cached: a
// committed block never changes, and its field names its build). An
// erasure may have replaced the block (erasearchive.go) since its index
// was read: the block is then looked up again in the index, by the ids it
// spans, which a redaction does not change.
func (s *Store) archiveBlock(ctx context.Context, rid string, ref archiveBlockRef) ([]archived, error) {
	for range redactTries {
		recs, err := s.archiveBlockField(ctx, rid, ref.field)
		if err == nil || !isNil(err) {
			return recs, err
		}
		ix, err := s.archiveIndex(ctx, rid)
		if err != nil {
			return nil, err
		}
		i := slices.IndexFunc(ix, func(r archiveBlockRef) bool { return r.first == ref.first && r.last == ref.last })
		if i < 0 {
			return nil, fmt.Errorf("archive of %s: no block from %s to %s", rid, ref.first, ref.last)
		}
		ref = ix[i]
	}
	return nil, fmt.Errorf("archive of %s: block from %s to %s keeps changing: %w", rid, ref.first, ref.last, dispatcher.ErrConflict)
}

// archiveBlockField returns the block in field of a release's archive,
// decoded; redis.Nil (wrapped) when there is none.
func (s *Store) archiveBlockField(ctx context.Context, rid, field string) ([]archived, error) {
	key := rid + "/" + field
	if recs, ok := s.blocks.get(key); ok {
		return recs, nil
	}
	b, err := s.rdb.HGet(ctx, archiveKey(rid), field).Bytes()
	if err != nil {
		return nil, fmt.Errorf("archive of %s: block %s: %w", rid, field, err)
	}
	recs, err := decodeBlock(rid, b)
	if err != nil {
		return nil, fmt.Errorf("archive of %s: block %s: %w", rid, field, err)
	}
	s.blocks.put(key, recs)
	return recs, nil
}

// archivedScan calls fn with each archived delivery whose id is after
// cursor, in id order, until fn returns false.
func (s *Store) archivedScan(ctx context.Context, rid, cursor string, fn func(r archived, last bool) bool) error {
	ix, err := s.archiveIndex(ctx, rid)
	if err != nil {
		return err
	}
	start := sort.Search(len(ix), func(i int) bool { return ix[i].last > cursor })
	for bi := start; bi < len(ix); bi++ {
		recs, err := s.archiveBlock(ctx, rid, ix[bi])
		if err != nil {
			return err
		}
		i := sort.Search(len(recs), func(i int) bool { return recs[i].ID > cursor })
		for ; i < len(recs); i++ {
			if !fn(recs[i], bi == len(ix)-1 && i == len(recs)-1) {
				return nil
			}
		}
	}
	return nil
}

// archivedDeliveries is Deliveries for an archived release, with the same
// paging: a page may hold fewer than limit when many do not match.
func (s *Store) archivedDeliveries(ctx context.Context, rid string, f dispatcher.DeliveryFilter, cursor string, limit int) ([]*dispatcher.Delivery, string, error) {
	var out []*dispatcher.Delivery
	next, scanned := "", 0
	err := s.archivedScan(ctx, rid, cursor, func(r archived, last bool) bool {
		scanned++
		d := deliveryFrom(rid, r.ID, r.H)
		if (f.Status == "" || d.Status == f.Status) && (f.Channel == "" || d.Channel == f.Channel) {
			out = append(out, d)
			if len(out) == limit {
				if !last {
					next = d.ID
				}
				return false
			}
		}
		if !last && scanned >= 20*limit && scanned >= 10000 {
			next = r.ID
			return false
		}
		return true
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// archivedIDs is DeliveryIDs for an archived release.
func (s *Store) archivedIDs(ctx context.Context, rid, cursor string, limit int) ([]string, string, error) {
	var out []string
	next := ""
	err := s.archivedScan(ctx, rid, cursor, func(r archived, last bool) bool {
		out = append(out, r.ID)
		if len(out) == limit {
			if !last {
				next = r.ID
			}
			return false
		}
		return true
	})
	if err != nil {
		return nil, "", err
	}
	return out, next, nil
}

// archivedDelivery returns one delivery of an archived release, or
// dispatcher.ErrNotFound (also for a release that is not archived).
func (s *Store) archivedDelivery(ctx context.Context, rid, id string) (*dispatcher.Delivery, error) {
	at, err := s.archivedAt(ctx, rid)
	if err != nil {
		return nil, err
	}
	if at == "" {
		return nil, fmt.Errorf("delivery %s: %w", id, dispatcher.ErrNotFound)
	}
	ix, err := s.archiveIndex(ctx, rid)
	if err != nil {
		return nil, err
	}
	bi := sort.Search(len(ix), func(i int) bool { return ix[i].last >= id })
	if bi < len(ix) && ix[bi].first <= id {
		recs, err := s.archiveBlock(ctx, rid, ix[bi])
		if err != nil {
			return nil, err
		}
		if i, ok := slices.BinarySearchFunc(recs, id, func(r archived, id string) int { return strings.Compare(r.ID, id) }); ok {
			return deliveryFrom(rid, id, recs[i].H), nil
		}
	}
	return nil, fmt.Errorf("delivery %s: %w", id, dispatcher.ErrNotFound)
}

// ArchiveSize returns the bytes an archived release's archive holds (its
// blocks and index, as stored) and how many deliveries it holds.
func (s *Store) ArchiveSize(ctx context.Context, rid string) (bytes, deliveries int64, err error) {
	h, err := s.rdb.HGetAll(ctx, archiveKey(rid)).Result()
	if err != nil {
		return 0, 0, fmt.Errorf("archive of %s: %w", rid, err)
	}
	for k, v := range h {
		bytes += int64(len(k) + len(v))
	}
	ix, err := s.archiveIndex(ctx, rid)
	if err != nil {
		return 0, 0, err
	}
	for _, b := range ix {
		deliveries += int64(b.count)
	}
	return bytes, deliveries, nil
}

// ArchiveDue returns up to limit releases, final and not archived, last
// changed at or before before: those whose retention is over. Corrections,
// which are in no status index, are found through the releases they
// correct.
func (s *Store) ArchiveDue(ctx context.Context, before time.Time, limit int) ([]string, error) {
	var out []string
	due := func(v []any) bool {
		ut := parseTime(str(v, 1))
		return finalRelease(dispatcher.ReleaseStatus(str(v, 0))) && str(v, 2) == "" && !ut.IsZero() && !ut.After(before)
	}
	for _, st := range []dispatcher.ReleaseStatus{dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures, dispatcher.ReleaseCancelled} {
		cursor := ""
		for {
			ids, next, err := s.pageLex(ctx, statusIndexKey(st), cursor, 200, false)
			if err != nil {
				return nil, err
			}
			vs, err := s.archiveState(ctx, ids)
			if err != nil {
				return nil, err
			}
			fixes := make([]*redis.StringSliceCmd, len(ids))
			p := s.rdb.Pipeline()
			for i, id := range ids {
				if ut := parseTime(str(vs[i], 1)); !ut.IsZero() && !ut.After(before) {
					fixes[i] = p.LRange(ctx, correctionsKey(id), 0, -1)
				}
			}
			if _, err := p.Exec(ctx); err != nil && !isNil(err) {
				return nil, fmt.Errorf("releases due for archiving: %w", err)
			}
			for i, id := range ids {
				cands := []string{}
				if due(vs[i]) {
					out = append(out, id)
				}
				if fixes[i] != nil {
					cands = fixes[i].Val()
				}
				cvs, err := s.archiveState(ctx, cands)
				if err != nil {
					return nil, err
				}
				for j, c := range cands {
					if due(cvs[j]) {
						out = append(out, c)
					}
				}
				if len(out) >= limit {
					return out[:limit], nil
				}
			}
			if next == "" {
				break
			}
			cursor = next
		}
	}
	return out, nil
}

// archiveState reads status, updated_at and archived_at of releases.
func (s *Store) archiveState(ctx context.Context, ids []string) ([][]any, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	p := s.rdb.Pipeline()
	cmds := make([]*redis.SliceCmd, len(ids))
	for i, id := range ids {
		cmds[i] = p.HMGet(ctx, releaseKey(id), rStatus, rUpdatedAt, rArchivedAt)
	}
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return nil, fmt.Errorf("releases due for archiving: %w", err)
	}
	out := make([][]any, len(ids))
	for i, c := range cmds {
		out[i] = c.Val()
	}
	return out, nil
}

// blockCache keeps the last few archive blocks read, decoded, so that
// paging through an archived release decodes each block once.
type blockCache struct {
	mu   sync.Mutex
	keys []string
	recs map[string][]archived
}

const blockCacheSize = 4

func (c *blockCache) get(key string) ([]archived, bool) {
	c.mu.Lock()
	defer c.mu.Unlock()
	r, ok := c.recs[key]
	return r, ok
}

func (c *blockCache) put(key string, recs []archived) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.recs == nil {
		c.recs = map[string][]archived{}
	}
	if _, ok := c.recs[key]; ok {
		return
	}
	if len(c.keys) == blockCacheSize {
		delete(c.recs, c.keys[0])
		c.keys = c.keys[1:]
	}
	c.keys = append(c.keys, key)
	c.recs[key] = recs
}
