package store

import (
	"context"
	"fmt"
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
// KEYS[3] -> pregon:{<rid>}:deliveries
// ARGV[1] -> delivery key prefix (pregon:{<rid>}:d:)
// ARGV[2] -> now (Unix ms)
// ARGV[3..] -> groups of seven: id, channel, recipient, name, language, status, error
//
// Output: the ids of the queued deliveries it created.
var createDeliveriesScript = newReleaseScript(`
redis.call('HSET', KEYS[1], R.activity, ARGV[2])
local cancelled = redis.call('HGET', KEYS[1], R.status) == RS.cancelled
local created = {}
for i = 3, #ARGV, 7 do
  local id, ch, st = ARGV[i], ARGV[i+1], ARGV[i+5]
  if cancelled and st == DS.queued then st = DS.cancelled end
  local key = ARGV[1] .. id
  if redis.call('EXISTS', key) == 0 then
    redis.call('HSET', key, F.channel, ch, F.recipient, ARGV[i+2], F.name, ARGV[i+3], F.language, ARGV[i+4],
      F.status, st, F.error, ARGV[i+6], F.attempts, 0, F.round_attempts, 0, F.created_at, ARGV[2], F.updated_at, ARGV[2])
    redis.call('ZADD', KEYS[3], 0, id)
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
	args = append(args, deliveryPrefix(rid), fmtTime(s.now()))
	dids := make([]string, len(ds))
	for i, d := range ds {
		args = append(args, d.ID, string(d.Channel), d.Recipient, d.Name, d.Language, string(d.Status), d.LastError)
		dids[i] = d.ID
	}
	keys := declared([]string{releaseKey(rid), countsKey(rid), deliveriesKey(rid)}, rid, dids...)
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
// ARGV[1] -> delivery key prefix (pregon:{<rid>}:d:)
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
  local key = ARGV[1] .. ARGV[i]
  local f = redis.call('HMGET', key, F.status, F.channel)
  if f[1] and from[f[1]] then
    local wasPending = f[1] == DS.queued or f[1] == DS.retrying
    local nowPending = to == DS.queued or to == DS.retrying
    redis.call('HSET', key, F.status, to, F.updated_at, ARGV[2])
    if nowPending then redis.call('HSET', key, F.round_attempts, 0, F.error, '') end
    move(f[2], f[1], to)
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
	args = append(args, deliveryPrefix(rid), fmtTime(s.now()), string(to), strings.Join(fs, ","))
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
	return s.pageLex(ctx, deliveriesKey(rid), cursor, limit, false)
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
		ids, next, err := s.pageLex(ctx, deliveriesKey(rid), cursor, chunk, false)
		if err != nil {
			return nil, "", err
		}
		ds, err := s.deliveries(ctx, rid, ids)
		if err != nil {
			return nil, "", err
		}
		if len(ds) < len(ids) { // some are gone: archived meanwhile? Then read the archive.
			if at, err := s.archivedAt(ctx, rid); err != nil {
				return nil, "", err
			} else if at != "" {
				return s.archivedDeliveries(ctx, rid, f, start, limit)
			}
		}
		for i, d := range ds {
			if (f.Status == "" || d.Status == f.Status) && (f.Channel == "" || d.Channel == f.Channel) {
				out = append(out, d)
				if len(out) == limit {
					if i == len(ds)-1 {
						return out, next, nil
					}
					return out, d.ID, nil
				}
			}
		}
		scanned += len(ids)
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
	ds, err := s.deliveries(ctx, rid, []string{id})
	if err != nil {
		return nil, err
	}
	if len(ds) == 0 {
		return s.archivedDelivery(ctx, rid, id)
	}
	return ds[0], nil
}

func (s *Store) deliveries(ctx context.Context, rid string, ids []string) ([]*dispatcher.Delivery, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	p := s.rdb.Pipeline()
	hs := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		hs[i] = p.HGetAll(ctx, deliveryPrefix(rid)+id)
	}
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return nil, fmt.Errorf("get deliveries of %s: %w", rid, err)
	}
	out := make([]*dispatcher.Delivery, 0, len(ids))
	for i, id := range ids {
		h := hs[i].Val()
		if h[dStatus] == "" {
			continue
		}
		d := deliveryFrom(rid, id, h)
		out = append(out, d)
	}
	return out, nil
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
// ARGV[1] -> delivery key prefix (pregon:{<rid>}:d:)
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
  local key = ARGV[1] .. ARGV[i]
  local f = redis.call('HMGET', key, F.status, F.channel)
  if f[1] == DS.failed then
    redis.call('HSET', key, F.status, DS.queued, F.updated_at, ARGV[2], F.round_attempts, 0, F.error, '')
    move(f[2], DS.failed, DS.queued)
    redis.call('HINCRBY', KEYS[2], C.pending, 1)
    out[#out + 1] = {ARGV[i], f[2]}
  end
end
if #out > 0 then
  redis.call('HSET', KEYS[1], R.status, RS.sending, R.updated_at, ARGV[2], R.activity, ARGV[2])
  reindex(relst, RS.sending)
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
	args = append(args, deliveryPrefix(rid), fmtTime(s.now()), rid)
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
