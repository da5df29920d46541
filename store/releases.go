package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// CreateRelease stores a new draft release, setting ID, Status, CreatedAt and
// UpdatedAt, and Version to 1 when it is 0.
func (s *Store) CreateRelease(ctx context.Context, r *dispatcher.Release) error {
	now := s.now().UTC()
	r.ID, r.Status = newID("rel", now), dispatcher.ReleaseDraft
	r.CreatedAt, r.UpdatedAt = now.Truncate(1e6), now.Truncate(1e6)
	r.Version = max(r.Version, 1)
	fields, err := releaseFields(r)
	if err != nil {
		return fmt.Errorf("create release: %w", err)
	}
	fields = append(fields, rStatus, string(r.Status), rUpdatedAt, fmtTime(now), rVersion, r.Version, rAuthor, r.Author)
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, releaseKey(r.ID), fields...)
		p.ZAdd(ctx, releasesKey, redis.Z{Member: r.ID})
		p.ZAdd(ctx, statusIndexKey(r.Status), redis.Z{Member: r.ID})
		return nil
	})
	if err := txErr(cmds, err); err != nil {
		return fmt.Errorf("create release: %w", err)
	}
	return nil
}

// releaseFields returns the hash fields that hold a release's text: rData,
// the whole release as JSON, and rSummary, its summary (no body, no
// translation bodies) that collections read. Whatever writes rData must
// write rSummary with it.
func releaseFields(r *dispatcher.Release) ([]any, error) {
	data, err := json.Marshal(r)
	if err != nil {
		return nil, err
	}
	sum, err := json.Marshal(summaryOf(r))
	if err != nil {
		return nil, err
	}
	return []any{rData, data, rSummary, sum}, nil
}

// summaryOf returns a copy of r without its body and its translations' bodies.
func summaryOf(r *dispatcher.Release) *dispatcher.Release {
	c := *r
	c.Body, c.Counts = "", nil
	c.Translations = make([]dispatcher.Translation, len(r.Translations))
	for i, t := range r.Translations {
		t.Body = ""
		c.Translations[i] = t
	}
	return &c
}

// Release returns the release with id and its delivery counts, or dispatcher.ErrNotFound.
func (s *Store) Release(ctx context.Context, id string) (*dispatcher.Release, error) {
	if !validID("rel", id) {
		return nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	rs, _, err := s.releases(ctx, []string{id}, true)
	if err != nil {
		return nil, err
	}
	if len(rs) == 0 {
		return nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	return rs[0], nil
}

// Releases returns a page of releases with their counts, newest first,
// optionally only those in one status, and the next cursor ("" on the last
// page). Without full, each release is its summary: no body, and no body in
// its translations. The page ends after limit releases, or after the one
// whose stored JSON brings the page to maxBytes (0: no bound); it holds at
// least one release when there is any. A status filter reads the status's
// index: only the releases it returns.
func (s *Store) Releases(ctx context.Context, status dispatcher.ReleaseStatus, cursor string, limit int, full bool, maxBytes int) ([]*dispatcher.Release, string, error) {
	if err := s.ensureStatusIndex(ctx); err != nil {
		return nil, "", err
	}
	key := releasesKey
	if status != "" {
		key = statusIndexKey(status)
	}
	chunk := 100 // summaries are small: read many at a time
	if full {
		chunk = 16
	}
	var out []*dispatcher.Release
	size := 0
	for {
		ids, next, err := s.pageLex(ctx, key, cursor, min(chunk, limit-len(out)), true)
		if err != nil {
			return nil, "", err
		}
		rs, sizes, err := s.releases(ctx, ids, full)
		if err != nil {
			return nil, "", err
		}
		for i, r := range rs {
			out = append(out, r)
			size += sizes[i]
			if len(out) == limit || (maxBytes > 0 && size >= maxBytes) {
				if i == len(rs)-1 && next == "" {
					return out, "", nil
				}
				return out, r.ID, nil
			}
		}
		if next == "" {
			return out, "", nil
		}
		cursor = next
	}
}

// releases reads releases with their counts, skipping unknown ids, and the
// size in bytes of the JSON read for each. Without full it reads summaries
// (falling back to the whole release for one stored without a summary).
func (s *Store) releases(ctx context.Context, ids []string, full bool) ([]*dispatcher.Release, []int, error) {
	text := rSummary
	if full {
		text = rData
	}
	p := s.rdb.Pipeline()
	hs := make([]*redis.SliceCmd, len(ids))
	cs := make([]*redis.MapStringStringCmd, len(ids))
	for i, id := range ids {
		hs[i] = p.HMGet(ctx, releaseKey(id), text, rStatus, rUpdatedAt, rSendAt, rVersion, rAuthor, rApprovedBy, rApprovedVersion, rArchivedAt)
		cs[i] = p.HGetAll(ctx, countsKey(id))
	}
	if len(ids) > 0 {
		if _, err := p.Exec(ctx); err != nil && !isNil(err) {
			return nil, nil, fmt.Errorf("get releases: %w", err)
		}
	}
	out := make([]*dispatcher.Release, 0, len(ids))
	sizes := make([]int, 0, len(ids))
	for i := range ids {
		v := hs[i].Val()
		data := str(v, 0)
		if data == "" && str(v, 1) != "" && !full {
			// Stored before summaries existed: read the whole release.
			d, err := s.rdb.HGet(ctx, releaseKey(ids[i]), rData).Result()
			if err != nil && !isNil(err) {
				return nil, nil, fmt.Errorf("get release %s: %w", ids[i], err)
			}
			data = d
		}
		if data == "" {
			continue
		}
		r := new(dispatcher.Release)
		if err := json.Unmarshal([]byte(data), r); err != nil {
			return nil, nil, fmt.Errorf("decode release %s: %w", ids[i], err)
		}
		if !full {
			r = summaryOf(r)
		}
		r.Status = dispatcher.ReleaseStatus(str(v, 1))
		if ut := parseTime(str(v, 2)); !ut.IsZero() {
			r.UpdatedAt = ut
		}
		r.ScheduledAt = nil
		if at := parseTime(str(v, 3)); !at.IsZero() {
			r.ScheduledAt = &at
		}
		overlayEdits(r, v[4:8])
		r.ArchivedAt = nil
		if at := parseTime(str(v, 8)); !at.IsZero() {
			r.ArchivedAt = &at
		}
		r.Counts = countsFrom(cs[i].Val())
		out = append(out, r)
		sizes = append(sizes, len(data))
	}
	return out, sizes, nil
}

func countsFrom(h map[string]string) *dispatcher.Counts {
	c := dispatcher.NewCounts()
	for _, ch := range dispatcher.Channels {
		for _, st := range dispatcher.DeliveryStatuses {
			n, _ := strconv.ParseInt(h[countField(ch, st)], 10, 64)
			c.Add(ch, st, n)
		}
	}
	return c
}

// scheduleScript moves a draft release to scheduled at a time, and to the
// scheduled index; a release in another status is left alone. When asked,
// it schedules a draft only if its current version is approved, and only
// if it is at the version the caller checked.
//
// KEYS[1] -> pregon:{<rid>}:release
// ARGV[1] -> the send time (Unix ms)
// ARGV[2] -> now (Unix ms)
// ARGV[3] -> the "at" asked for (Unix ms), or "" for none
// ARGV[4] -> "1" when approval is required
// ARGV[5] -> the version the draft must be at, or "" for any
//
// Output: the release's send time ("" when it has none), moved when the
// draft is at another version than ARGV[5], unapproved when approval was
// required and is missing, or nil when the release does not exist.
var scheduleScript = newReleaseScript(`
local cur = redis.call('HGET', KEYS[1], R.status)
if not cur then return false end
if cur == RS.draft and ARGV[5] ~= '' and (redis.call('HGET', KEYS[1], R.version) or '1') ~= ARGV[5] then
  return '` + versionMoved + `'
end
if cur == RS.draft and ARGV[4] == '1' then
  local v = redis.call('HGET', KEYS[1], R.version) or '1'
  if redis.call('HGET', KEYS[1], R.approved_version) ~= v then return '` + unapproved + `' end
end
if cur == RS.draft then
  redis.call('HSET', KEYS[1], R.status, RS.scheduled, R.send_at, ARGV[1], R.updated_at, ARGV[2], R.asked, ARGV[3])
end
return redis.call('HGET', KEYS[1], R.send_at) or ''
`)

// unapproved is scheduleScript's answer for a draft whose current version
// is not approved, when approval is required; versionMoved for a draft no
// longer at the version asked for.
const (
	unapproved   = "unapproved"
	versionMoved = "moved"
)

// ScheduleSend moves a draft release to scheduled, to be dispatched at at,
// in one step, and keeps asked, the time Send was asked to send it at (zero
// for none), from which a new embargo's due time is worked out. It returns
// the release as it is after the call and the time it is to be dispatched
// (set by this call or an earlier one; zero for a release that was never
// scheduled); a release in another status than draft is returned
// unchanged. It returns dispatcher.ErrNotFound for an unknown id; with
// requireApproval, a *dispatcher.ConflictError (ConflictUnapproved) for a
// draft whose current version is not approved; and with a version (0:
// any), a *dispatcher.ConflictError (ConflictVersion) for a draft at
// another version, such as one edited after the caller checked it.
func (s *Store) ScheduleSend(ctx context.Context, id string, at, asked time.Time, requireApproval bool, version int) (*dispatcher.Release, time.Time, error) {
	if !validID("rel", id) {
		return nil, time.Time{}, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	ask := ""
	if !asked.IsZero() {
		ask = fmtTime(asked)
	}
	ver := ""
	if version > 0 {
		ver = strconv.Itoa(version)
	}
	when, err := scheduleScript.Run(ctx, s.rdb, []string{releaseKey(id)}, fmtTime(at), fmtTime(s.now()), ask, flag(requireApproval), ver).Text()
	if isNil(err) {
		return nil, time.Time{}, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, time.Time{}, fmt.Errorf("schedule release %s: %w", id, err)
	}
	if err := s.syncStatusIndex(ctx, id); err != nil { // Redis Cluster: cluster.go
		return nil, time.Time{}, err
	}
	if when != unapproved {
		if err := s.IndexNews(ctx, id); err != nil { // newsroom (issue 15)
			return nil, time.Time{}, err
		}
	}
	r, err := s.Release(ctx, id)
	if err == nil && when == unapproved {
		return nil, time.Time{}, &dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictUnapproved,
			Status: r.Status, Version: r.Version, Author: r.Author}
	}
	if err == nil && when == versionMoved {
		return nil, time.Time{}, &dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictVersion, Status: r.Status, Version: r.Version}
	}
	return r, parseTime(when), err
}

// setScheduleScript moves the send time of a scheduled release and, with
// ARGV[3] "1", marks its early tier out; a release in another status is
// left alone.
//
// KEYS[1] -> pregon:{<rid>}:release
// ARGV[1] -> the send time (Unix ms)
// ARGV[2] -> now (Unix ms)
// ARGV[3] -> "1" to mark the early tier out, "" to leave that as it is
//
// Output: the release's status, or nil when the release does not exist.
var setScheduleScript = newReleaseScript(`
local cur = redis.call('HGET', KEYS[1], R.status)
if not cur then return false end
if cur == RS.scheduled then
  redis.call('HSET', KEYS[1], R.send_at, ARGV[1], R.updated_at, ARGV[2])
  if ARGV[3] == '1' then redis.call('HSET', KEYS[1], R.early, '1') end
end
return cur
`)

// SetSchedule sets when a scheduled release's dispatch is due and, with
// early, marks its early tier out (the mark is never taken back), in one
// step that does nothing to a release in another status. It returns the
// release's status.
func (s *Store) SetSchedule(ctx context.Context, id string, at time.Time, early bool) (dispatcher.ReleaseStatus, error) {
	if !validID("rel", id) {
		return "", fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	mark := ""
	if early {
		mark = "1"
	}
	st, err := setScheduleScript.Run(ctx, s.rdb, []string{releaseKey(id)}, fmtTime(at), fmtTime(s.now()), mark).Text()
	if isNil(err) {
		return "", fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("set the schedule of release %s: %w", id, err)
	}
	if err := s.syncStatusIndex(ctx, id); err != nil { // Redis Cluster: cluster.go
		return "", err
	}
	if err := s.IndexNews(ctx, id); err != nil { // newsroom (issue 15)
		return "", err
	}
	return dispatcher.ReleaseStatus(st), nil
}

// EarlyPlanned records that every member of a release's early lists has a
// delivery.
func (s *Store) EarlyPlanned(ctx context.Context, id string) error {
	if err := s.rdb.HSet(ctx, releaseKey(id), rEarlySnap, "1").Err(); err != nil {
		return fmt.Errorf("early tier of %s planned: %w", id, err)
	}
	return nil
}

// setStatusScript changes a release's status when it is one of the given
// ones, and moves it to that status's index.
//
// KEYS[1] -> pregon:{<rid>}:release
// ARGV[1] -> the status to set
// ARGV[2] -> now (Unix ms)
// ARGV[3..] -> the statuses it may be changed from
//
// Output: the release's status after the call, or nil when the release does
// not exist.
var setStatusScript = newReleaseScript(`
local cur = redis.call('HGET', KEYS[1], R.status)
if not cur then return false end
for i = 3, #ARGV do
  if cur == ARGV[i] then
    redis.call('HSET', KEYS[1], R.status, ARGV[1], R.updated_at, ARGV[2])
    return ARGV[1]
  end
end
return cur
`)

// SetReleaseStatus moves a release to status to when it is in one of from,
// and returns the status after the call.
func (s *Store) SetReleaseStatus(ctx context.Context, id string, to dispatcher.ReleaseStatus, from ...dispatcher.ReleaseStatus) (dispatcher.ReleaseStatus, error) {
	args := []any{string(to), fmtTime(s.now())}
	for _, f := range from {
		args = append(args, string(f))
	}
	st, err := setStatusScript.Run(ctx, s.rdb, []string{releaseKey(id)}, args...).Text()
	if isNil(err) {
		return "", fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return "", fmt.Errorf("set status of release %s: %w", id, err)
	}
	if err := s.syncStatusIndex(ctx, id); err != nil { // Redis Cluster: cluster.go
		return "", err
	}
	if err := s.IndexNews(ctx, id); err != nil { // newsroom (issue 15)
		return "", err
	}
	return dispatcher.ReleaseStatus(st), nil
}

// snapshotDoneScript marks a release's recipients as all planned, and ends
// it when nothing is pending (finalize).
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// ARGV[1] -> now (Unix ms)
//
// Output: the release's status after the call.
var snapshotDoneScript = newReleaseScript(`
redis.call('HSET', KEYS[1], R.snapshot, '1')
finalize(ARGV[1])
return redis.call('HGET', KEYS[1], R.status)
`)

// SnapshotDone records that every recipient of a release has a delivery, and
// ends the release when none is pending. It returns the release's status.
func (s *Store) SnapshotDone(ctx context.Context, id string) (dispatcher.ReleaseStatus, error) {
	st, err := snapshotDoneScript.Run(ctx, s.rdb, []string{releaseKey(id), countsKey(id)}, fmtTime(s.now())).Text()
	if err != nil {
		return "", fmt.Errorf("snapshot of %s done: %w", id, err)
	}
	if err := s.syncStatusIndex(ctx, id); err != nil { // Redis Cluster: cluster.go
		return "", err
	}
	return dispatcher.ReleaseStatus(st), nil
}

// SnapshotComplete reports whether a release's recipients were all planned.
func (s *Store) SnapshotComplete(ctx context.Context, id string) (bool, error) {
	v, err := s.rdb.HGet(ctx, releaseKey(id), rSnapshot).Result()
	if err != nil && !isNil(err) {
		return false, fmt.Errorf("snapshot of %s: %w", id, err)
	}
	return v == "1", nil
}
