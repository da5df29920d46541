package store

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// createDeliveriesScript creates the deliveries that do not exist yet and
// counts them. In a release cancelled while it was being planned, those that
// would be queued are created cancelled, so that it never shows queued
// deliveries that nothing will send.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// KEYS[3] -> pregon:{<rid>}:dblocks (record.go)
// ARGV[1] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[2] -> now (Unix ms)
// ARGV[3..] -> groups of seven: id, channel, recipient, name, language, status, error
//
// Output: the ids of the queued deliveries it created.
var createDeliveriesScript = newReleaseScript(`
redis.call('HSET', KEYS[1], R.activity, ARGV[2])
local cancelled = redis.call('HGET', KEYS[1], R.status) == RS.cancelled
local created = {}
local buckets = {}
for i = 3, #ARGV, 7 do
  local id, ch, st = ARGV[i], ARGV[i+1], ARGV[i+5]
  if cancelled and st == DS.queued then st = DS.cancelled end
  local key, field, bucket = dslot(ARGV[1], id)
  if redis.call('HEXISTS', key, field) == 0 then
    local d = {}
    d[F.channel], d[F.recipient], d[F.name], d[F.language], d[F.status], d[F.error] = ch, ARGV[i+2], ARGV[i+3], ARGV[i+4], st, ARGV[i+6]
    d[F.attempts], d[F.round_attempts], d[F.created_at], d[F.updated_at] = '0', '0', ARGV[2], ARGV[2]
    redis.call('HSET', key, field, encodeRec(d))
    if not buckets[bucket] then
      buckets[bucket] = true
      redis.call('ZADD', KEYS[3], 0, bucket)
    end
    redis.call('HINCRBY', KEYS[2], ch .. C.sep .. st, 1)
    if st == DS.queued then
      redis.call('HINCRBY', KEYS[2], C.pending, 1)
      created[#created + 1] = id
    end
  end
end
return created
`)

// CreateDeliveries records the deliveries of a release that do not exist yet
// (ids are deterministic, so a recipient planned twice is recorded once) and
// counts them. It returns the ids of the queued deliveries it created.
func (s *Store) CreateDeliveries(ctx context.Context, rid string, ds []*dispatcher.Delivery) ([]string, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2+7*len(ds))
	args = append(args, bucketPrefix(rid), fmtTime(s.now()))
	dids := make([]string, len(ds))
	for i, d := range ds {
		args = append(args, d.ID, string(d.Channel), d.Recipient, d.Name, d.Language, string(d.Status), d.LastError)
		dids[i] = d.ID
	}
	keys := declared([]string{releaseKey(rid), countsKey(rid), blocksKey(rid)}, rid, dids...)
	ids, err := createDeliveriesScript.Run(ctx, s.rdb, keys, args...).StringSlice()
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("create deliveries of %s: %w", rid, err)
	}
	return ids, nil
}

// transitionScript moves deliveries from one status to another, for cancel
// (queued|retrying → cancelled) and retry (failed → queued), keeping the
// counts and the pending count right. A delivery moved to a pending status
// starts a new round: no round attempts, no error.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// ARGV[1] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[2] -> now (Unix ms)
// ARGV[3] -> the status to move to
// ARGV[4] -> the statuses to move from, joined by ","
// ARGV[5..] -> delivery ids
//
// Output: the ids it moved.
var transitionScript = newReleaseScript(`
local from = {}
for s in string.gmatch(ARGV[4], '[^,]+') do from[s] = true end
local to = ARGV[3]
local out = {}
for i = 5, #ARGV do
  local d = getd(ARGV[1], ARGV[i])
  local st = d and d[F.status]
  if st and from[st] then
    local wasPending = st == DS.queued or st == DS.retrying
    local nowPending = to == DS.queued or to == DS.retrying
    d[F.status], d[F.updated_at] = to, ARGV[2]
    if nowPending then d[F.round_attempts], d[F.error] = '0', nil end
    putd(ARGV[1], ARGV[i], d)
    move(d[F.channel], st, to)
    if wasPending and not nowPending then redis.call('HINCRBY', KEYS[2], C.pending, -1) end
    if nowPending and not wasPending then redis.call('HINCRBY', KEYS[2], C.pending, 1) end
    out[#out + 1] = ARGV[i]
  end
end
return out
`)

// Transition moves the given deliveries of a release from any of from to to,
// and returns the ids it moved.
func (s *Store) Transition(ctx context.Context, rid string, ids []string, to dispatcher.DeliveryStatus, from ...dispatcher.DeliveryStatus) ([]string, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	fs := make([]string, len(from))
	for i, f := range from {
		fs[i] = string(f)
	}
	args := make([]any, 0, 4+len(ids))
	args = append(args, bucketPrefix(rid), fmtTime(s.now()), string(to), strings.Join(fs, ","))
	for _, id := range ids {
		args = append(args, id)
	}
	moved, err := transitionScript.Run(ctx, s.rdb, declared([]string{releaseKey(rid), countsKey(rid)}, rid, ids...), args...).StringSlice()
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("move deliveries of %s to %s: %w", rid, to, err)
	}
	if len(moved) > 0 {
		if err := s.syncStatusIndex(ctx, rid); err != nil { // Redis Cluster: cluster.go
			return nil, err
		}
	}
	return moved, nil
}

// DeliveryIDs returns a page of a release's delivery ids in id order, and the
// next cursor ("" on the last page).
func (s *Store) DeliveryIDs(ctx context.Context, rid, cursor string, limit int) ([]string, string, error) {
	if at, err := s.archivedAt(ctx, rid); err != nil {
		return nil, "", err
	} else if at != "" {
		return s.archivedIDs(ctx, rid, cursor, limit)
	}
	recs, next, err := s.scanLive(ctx, rid, cursor, limit, false)
	if err != nil {
		return nil, "", err
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return ids, next, nil
}

// Deliveries returns a page of a release's deliveries that match f, in id
// order, and the next cursor ("" on the last page). A page may hold fewer
// than limit items when many deliveries do not match; follow next_cursor.
func (s *Store) Deliveries(ctx context.Context, rid string, f dispatcher.DeliveryFilter, cursor string, limit int) ([]*dispatcher.Delivery, string, error) {
	rel, err := s.Release(ctx, rid)
	if err != nil {
		return nil, "", err
	}
	if rel.ArchivedAt != nil {
		return s.archivedDeliveries(ctx, rid, f, cursor, limit)
	}
	var out []*dispatcher.Delivery
	start := cursor
	scanned, chunk := 0, limit
	if f != (dispatcher.DeliveryFilter{}) {
		chunk = max(limit, 200) // a filter may skip many: read more at a time
	}
	for {
		recs, next, err := s.scanLive(ctx, rid, cursor, chunk, true)
		if err != nil {
			return nil, "", err
		}
		// Archived meanwhile? Its live deliveries may be going: read the archive.
		if at, err := s.archivedAt(ctx, rid); err != nil {
			return nil, "", err
		} else if at != "" {
			return s.archivedDeliveries(ctx, rid, f, start, limit)
		}
		for i, r := range recs {
			d := deliveryFrom(rid, r.ID, r.H)
			if (f.Status == "" || d.Status == f.Status) && (f.Channel == "" || d.Channel == f.Channel) {
				out = append(out, d)
				if len(out) == limit {
					if i == len(recs)-1 {
						return out, next, nil
					}
					return out, d.ID, nil
				}
			}
		}
		scanned += len(recs)
		if next == "" {
			return out, "", nil
		}
		cursor = next
		if scanned >= 20*limit && scanned >= 10000 {
			return out, cursor, nil
		}
	}
}

// Delivery returns one delivery of a release, or dispatcher.ErrNotFound.
func (s *Store) Delivery(ctx context.Context, rid, id string) (*dispatcher.Delivery, error) {
	bucket, field := bucketOf(id)
	v, err := s.rdb.HGet(ctx, bucketPrefix(rid)+bucket, field).Result()
	if isNil(err) {
		return s.archivedDelivery(ctx, rid, id)
	}
	if err != nil {
		return nil, fmt.Errorf("get delivery %s of %s: %w", id, rid, err)
	}
	return deliveryFrom(rid, id, decodeRecord(v)), nil
}

// scanLive returns up to limit live deliveries of release rid after cursor
// (a delivery id, "" for the first), in id order, with their fields when
// withFields, and the next cursor ("" when there are no more). It reads
// the buckets in order (record.go), a few more at a time.
func (s *Store) scanLive(ctx context.Context, rid, cursor string, limit int, withFields bool) ([]archived, string, error) {
	from := "-"
	if cursor != "" {
		b, _ := bucketOf(cursor)
		from = "[" + b
	}
	var out []archived
	batch := min(max(limit/16, 4), 512)
	for {
		buckets, err := s.rdb.ZRangeByLex(ctx, blocksKey(rid), &redis.ZRangeBy{Min: from, Max: "+", Count: int64(batch)}).Result()
		if err != nil {
			return nil, "", fmt.Errorf("deliveries of %s: %w", rid, err)
		}
		if len(buckets) == 0 {
			return out, "", nil
		}
		p := s.rdb.Pipeline()
		all := make([]*redis.MapStringStringCmd, len(buckets))
		keys := make([]*redis.StringSliceCmd, len(buckets))
		for i, b := range buckets {
			if withFields {
				all[i] = p.HGetAll(ctx, bucketPrefix(rid)+b)
			} else {
				keys[i] = p.HKeys(ctx, bucketPrefix(rid)+b)
			}
		}
		if _, err := p.Exec(ctx); err != nil && !isNil(err) {
			return nil, "", fmt.Errorf("deliveries of %s: %w", rid, err)
		}
		for i, b := range buckets {
			var recs []archived
			if withFields {
				for f, v := range all[i].Val() {
					recs = append(recs, archived{ID: b + f, H: decodeRecord(v)})
				}
			} else {
				for _, f := range keys[i].Val() {
					recs = append(recs, archived{ID: b + f})
				}
			}
			slices.SortFunc(recs, func(x, y archived) int { return strings.Compare(x.ID, y.ID) })
			for _, r := range recs {
				if cursor == "" || r.ID > cursor {
					out = append(out, r)
				}
			}
			if len(out) > limit {
				return out[:limit], out[limit-1].ID, nil
			}
		}
		if len(buckets) < batch {
			return out, "", nil
		}
		from = "(" + buckets[len(buckets)-1]
		batch = min(batch*2, 512)
	}
}

// deliveryFrom returns the delivery whose hash is h.
func deliveryFrom(rid, id string, h map[string]string) *dispatcher.Delivery {
	a, _ := strconv.Atoi(h[dAttempts])
	d := &dispatcher.Delivery{
		ID: id, ReleaseID: rid, Channel: dispatcher.ChannelKind(h[dChannel]), Recipient: h[dRecipient], Name: h[dName],
		Language: h[dLanguage], Status: dispatcher.DeliveryStatus(h[dStatus]), Attempts: a, LastError: h[dError],
		MessageIDs: unpackMessageIDs(rid, id, h[dMessageIDs]), CreatedAt: parseTime(h[dCreatedAt]), UpdatedAt: parseTime(h[dUpdatedAt]),
	}
	if d.MessageIDs == nil {
		d.MessageIDs = []string{}
	}
	if k := h[dBounce]; k != "" {
		d.Bounce = &dispatcher.Bounce{Kind: dispatcher.BounceKind(k), At: parseTime(h[dBounceAt]), Source: h[dBounceSource]}
	}
	if np, _ := strconv.Atoi(h[dParts]); np > 0 {
		d.Parts = dispatcher.PartsOf(np, d.MessageIDs, d.Status)
		if rp, _ := strconv.Atoi(h[dReposted]); rp > 0 && rp <= len(d.Parts) {
			d.Parts[rp-1].Reposted = true
		}
	}
	return d
}

// requeueFailedScript moves failed deliveries back to queued for a retry
// and, when it moved any, sets the release sending again, all in one step:
// two retries that interleave cannot set a release sending with nothing
// pending. It moves nothing unless the release is
// sending or was sent. (RequeueFailed marks it active before: pregon:active
// is in another hash slot.)
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// ARGV[1] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[2] -> now (Unix ms)
// ARGV[3] -> release id
// ARGV[4..] -> delivery ids
//
// Output: one {id, channel} per delivery it moved.
var requeueFailedScript = newReleaseScript(`
local relst = redis.call('HGET', KEYS[1], R.status)
if relst ~= RS.sending and relst ~= RS.sent and relst ~= RS.sent_with_failures then return {} end
local out = {}
for i = 4, #ARGV do
  local d = getd(ARGV[1], ARGV[i])
  if d and d[F.status] == DS.failed then
    d[F.status], d[F.updated_at], d[F.round_attempts], d[F.error] = DS.queued, ARGV[2], '0', nil
    putd(ARGV[1], ARGV[i], d)
    move(d[F.channel], DS.failed, DS.queued)
    redis.call('HINCRBY', KEYS[2], C.pending, 1)
    out[#out + 1] = {ARGV[i], d[F.channel]}
  end
end
if #out > 0 then
  redis.call('HSET', KEYS[1], R.status, RS.sending, R.updated_at, ARGV[2], R.activity, ARGV[2])
end
return out
`)

// RequeueFailed moves the failed ones of the given deliveries of a release
// back to queued and, when it moved any, sets the release sending and
// active again, in one step (see requeueFailedScript). It moves nothing in
// a release that is not sending or sent. It returns the deliveries it moved.
func (s *Store) RequeueFailed(ctx context.Context, rid string, ids []string) ([]dispatcher.Ref, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 3+len(ids))
	args = append(args, bucketPrefix(rid), fmtTime(s.now()), rid)
	for _, id := range ids {
		args = append(args, id)
	}
	// Marked active before it may become sending again, so that the
	// sweeper always watches it (Redis Cluster: cluster.go).
	if err := s.MarkActive(ctx, rid); err != nil {
		return nil, err
	}
	res, err := requeueFailedScript.Run(ctx, s.rdb, declared([]string{releaseKey(rid), countsKey(rid)}, rid, ids...), args...).Slice()
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("requeue failed deliveries of %s: %w", rid, err)
	}
	if err := s.syncStatusIndex(ctx, rid); err != nil {
		return nil, err
	}
	out := make([]dispatcher.Ref, 0, len(res))
	for _, r := range res {
		f, ok := r.([]any)
		if !ok || len(f) != 2 {
			return nil, fmt.Errorf("requeue failed deliveries of %s: unexpected reply %v", rid, r)
		}
		out = append(out, dispatcher.Ref{ID: f[0].(string), Channel: dispatcher.ChannelKind(f[1].(string))})
	}
	return out, nil
}
