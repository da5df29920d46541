package store

import (
	"context"
	"errors"
	"fmt"
	"strconv"

	"github.com/pregon/pregon/dispatcher"
)

// flag is a boolean as the scripts read it.
func flag(b bool) string {
	if b {
		return "1"
	}
	return "0"
}

// overlayEdits sets r's version, author and approval from the release hash
// fields rVersion, rAuthor, rApprovedBy and rApprovedVersion (v, as read by
// HMGET in that order), which win over the release's JSON: an approval
// changes them alone. An absent field leaves the JSON's value.
func overlayEdits(r *dispatcher.Release, v []any) {
	if n, err := strconv.Atoi(str(v, 0)); err == nil {
		r.Version = n
	}
	if r.Version == 0 {
		r.Version = 1 // stored before releases had versions
	}
	if a := str(v, 1); a != "" {
		r.Author = a
	}
	if by := str(v, 2); by != "" {
		r.ApprovedBy = by
	}
	if n, err := strconv.Atoi(str(v, 3)); err == nil {
		r.ApprovedVersion = n
	}
}

// editScript stores a new version of a release's content, only while the
// release is a draft or scheduled and still at the version the edit was
// made from; once the early lists had the release under embargo, only an
// edit of its embargo alone. The approval is left as it is, and so no
// longer holds (it names the version before). With approval required, a
// scheduled release goes back to draft, unscheduled, since what was
// approved to go out is no longer what would go out; unless its early
// copies went out, when there is no going back.
//
// KEYS[1] -> pregon:{<rid>}:release
// ARGV[1] -> the version the edit was made from
// ARGV[2] -> the release as JSON (rData) at the new version
// ARGV[3] -> its summary (rSummary)
// ARGV[4] -> now (Unix ms)
// ARGV[5] -> "1" when the edit changes embargo_until alone
// ARGV[6] -> "1" when approval is required
// ARGV[7] -> "1" when the release as edited cannot be sent (no audience,
// or a version without a text): only a draft may take it
//
// Output: {outcome, status, version}: outcome is ok, or the
// dispatcher.ConflictReason that refused the edit; status and version are
// the release's after the call. nil when the release does not exist.
var editScript = newReleaseScript(`
local st = redis.call('HGET', KEYS[1], R.status)
if not st then return false end
local v = tonumber(redis.call('HGET', KEYS[1], R.version) or '1')
local early = redis.call('HGET', KEYS[1], R.early) == '1'
if st ~= RS.draft and st ~= RS.scheduled then return {'` + string(dispatcher.ConflictStatus) + `', st, v} end
if early and ARGV[5] ~= '1' then return {'` + string(dispatcher.ConflictEarly) + `', st, v} end
if v ~= tonumber(ARGV[1]) then return {'` + string(dispatcher.ConflictVersion) + `', st, v} end
if ARGV[7] == '1' and st ~= RS.draft then return {'` + string(dispatcher.ConflictIncomplete) + `', st, v} end
v = v + 1
redis.call('HSET', KEYS[1], R.data, ARGV[2], R.summary, ARGV[3], R.version, v, R.updated_at, ARGV[4])
if st == RS.scheduled and ARGV[6] == '1' and not early then
  redis.call('HSET', KEYS[1], R.status, RS.draft)
  redis.call('HDEL', KEYS[1], R.send_at)
  st = RS.draft
end
return {'ok', st, v}
`)

// EditRelease stores e.Release as the next version of the release it names,
// in one step, and returns the release as stored. It returns
// dispatcher.ErrNotFound for an unknown release, and a
// *dispatcher.ConflictError when the release is no longer a draft or
// scheduled (ConflictStatus), had its early copies sent and the edit
// changes more than the embargo (ConflictEarly), is no longer at
// version e.Base (ConflictVersion), or is not a draft and e.DraftOnly
// (ConflictIncomplete).
func (s *Store) EditRelease(ctx context.Context, e *dispatcher.Edit) (*dispatcher.Release, error) {
	id := e.Release.ID
	if !validID("rel", id) {
		return nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	now := s.now().UTC()
	r := *e.Release
	r.Version, r.UpdatedAt, r.Counts = e.Base+1, now.Truncate(1e6), nil
	fields, err := releaseFields(&r)
	if err != nil {
		return nil, fmt.Errorf("edit release %s: %w", id, err)
	}
	res, err := editScript.Run(ctx, s.rdb, []string{releaseKey(id)},
		e.Base, fields[1], fields[3], fmtTime(now), flag(e.OnlyEmbargo), flag(e.RequireApproval), flag(e.DraftOnly)).Slice()
	if err := outcome(id, res, err, "edit"); err != nil {
		return nil, err
	}
	if err := s.syncStatusIndex(ctx, id); err != nil { // Redis Cluster: cluster.go
		return nil, err
	}
	if err := s.IndexNews(ctx, id); err != nil { // newsroom (issue 15)
		return nil, err
	}
	return s.Release(ctx, id)
}

// approveScript records that a coordinator approved a version of a
// release, only while it is the release's current version, the release is
// a draft or scheduled, and the coordinator is not its author.
//
// KEYS[1] -> pregon:{<rid>}:release
// ARGV[1] -> the version approved
// ARGV[2] -> the approver's token name
// ARGV[3] -> now (Unix ms)
//
// Output: {outcome, status, version}, as editScript's. nil when the
// release does not exist.
var approveScript = newReleaseScript(`
local st = redis.call('HGET', KEYS[1], R.status)
if not st then return false end
local v = tonumber(redis.call('HGET', KEYS[1], R.version) or '1')
if redis.call('HGET', KEYS[1], R.author) == ARGV[2] then return {'` + string(dispatcher.ConflictOwnRelease) + `', st, v} end
if st ~= RS.draft and st ~= RS.scheduled then return {'` + string(dispatcher.ConflictStatus) + `', st, v} end
if v ~= tonumber(ARGV[1]) then return {'` + string(dispatcher.ConflictVersion) + `', st, v} end
redis.call('HSET', KEYS[1], R.approved_by, ARGV[2], R.approved_version, v, R.updated_at, ARGV[3])
return {'ok', st, v}
`)

// ApproveRelease records that approver approved version of release id, and
// returns the release. It returns dispatcher.ErrNotFound for an unknown
// release, and a *dispatcher.ConflictError when approver wrote the release
// (ConflictOwnRelease), the release is no longer a draft or scheduled
// (ConflictStatus), or version is not its current one (ConflictVersion).
func (s *Store) ApproveRelease(ctx context.Context, id string, version int, approver string) (*dispatcher.Release, error) {
	if !validID("rel", id) {
		return nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	res, err := approveScript.Run(ctx, s.rdb, []string{releaseKey(id)}, version, approver, fmtTime(s.now())).Slice()
	if err := outcome(id, res, err, "approve"); err != nil {
		var ce *dispatcher.ConflictError
		if errors.As(err, &ce) && ce.Reason == dispatcher.ConflictOwnRelease {
			ce.Author = approver
		}
		return nil, err
	}
	return s.Release(ctx, id)
}

// outcome turns the output of editScript or approveScript into an error:
// nil for ok, dispatcher.ErrNotFound, or a *dispatcher.ConflictError.
func outcome(id string, res []any, err error, what string) error {
	if isNil(err) {
		return fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("%s release %s: %w", what, id, err)
	}
	if len(res) != 3 {
		return fmt.Errorf("%s release %s: unexpected answer %v", what, id, res)
	}
	if res[0] == "ok" {
		return nil
	}
	v, _ := res[2].(int64)
	st, _ := res[1].(string)
	reason, _ := res[0].(string)
	return &dispatcher.ConflictError{ID: id, Reason: dispatcher.ConflictReason(reason),
		Status: dispatcher.ReleaseStatus(st), Version: int(v)}
}
