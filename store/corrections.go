package store

import (
	"context"
	"encoding/json"
	"fmt"
	"strconv"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// A correction is a release of its own (its keys in its own hash slot),
// with R.correction_of naming the release it corrects; it is in neither
// pregon:releases nor a status index, so no listing shows it. The release
// corrected keeps, in its own slot, the list of its corrections, each as
// first recorded (so that a correction whose release was not created yet,
// because the process died in between, can be created again from it), and
// the text of each version a correction replaced.

func correctionsKey(rid string) string    { return prefix + "{" + rid + "}:corrections" }
func correctionDocsKey(rid string) string { return prefix + "{" + rid + "}:correction-docs" }
func versionsKey(rid string) string       { return prefix + "{" + rid + "}:versions" }

// correctScript records a correction of a sent release: it keeps the
// release's current text under its version, replaces it with the corrected
// text (the next version), and records the correction, in one step. The
// same correction again (the latest correction's key) is answered with that
// correction's id and changes nothing.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:corrections
// KEYS[3] -> pregon:{<rid>}:correction-docs
// KEYS[4] -> pregon:{<rid>}:versions
// ARGV[1] -> the correction's key
// ARGV[2] -> the correction's id
// ARGV[3] -> the correction release (JSON)
// ARGV[4] -> the corrected release (JSON)
// ARGV[5] -> the corrected release's summary (JSON)
// ARGV[6] -> the version the correction was made from
// ARGV[7] -> now (Unix ms)
//
// Output: {"created", id}, {"exists", id} (the same correction, recorded
// before), {"status", status} (the release is not sent), {"version",
// version} (the release is at another version), or nil when the release
// does not exist.
var correctScript = newScript(`
local cur = redis.call('HGET', KEYS[1], R.status)
if not cur then return false end
local last = redis.call('HGET', KEYS[1], R.last_correction)
if last then
  local key, id = string.match(last, '^(%S+) (%S+)$')
  if key == ARGV[1] then return {'exists', id} end
end
if cur ~= RS.sent and cur ~= RS.sent_with_failures then return {'status', cur} end
local data = redis.call('HGET', KEYS[1], R.data)
-- The version field beside the JSON wins (edits keep it there); a release
-- stored before it had one holds it in its JSON only.
local v = redis.call('HGET', KEYS[1], R.version)
if not v then
  v = cjson.decode(data).version
  if type(v) ~= 'number' then v = 1 end
  v = string.format('%d', v)
end
if v ~= ARGV[6] then return {'version', v} end
redis.call('HSET', KEYS[4], v, data)
redis.call('HSET', KEYS[1], R.data, ARGV[4], R.summary, ARGV[5], R.updated_at, ARGV[7],
  R.version, string.format('%d', tonumber(v) + 1), R.last_correction, ARGV[1] .. ' ' .. ARGV[2])
redis.call('RPUSH', KEYS[2], ARGV[2])
redis.call('HSET', KEYS[3], ARGV[2], ARGV[3])
return {'created', ARGV[2]}
`)

// CorrectRelease records a correction of release rid, made from its version
// base: the release's text becomes corrected's (whose Version is the next
// one), the text it had is kept under version base, and child, the release
// that carries the correction, is recorded (and given its ID) to be created
// with CreateCorrection. All in one step. When child's key is that of the
// release's latest correction, it records nothing and returns that
// correction's id with created false. It returns dispatcher.ErrNotFound for
// an unknown release, and an error wrapping dispatcher.ErrConflict when the
// release is not sent or not at version base.
func (s *Store) CorrectRelease(ctx context.Context, rid string, base int, corrected, child *dispatcher.Release) (id string, created bool, err error) {
	if !validID("rel", rid) {
		return "", false, fmt.Errorf("release %q: %w", rid, dispatcher.ErrNotFound)
	}
	if child.CorrectionOf == nil {
		return "", false, fmt.Errorf("correct release %s: the correction names no release", rid)
	}
	now := s.now().UTC()
	child.ID = newID("rel", now)
	doc, err := json.Marshal(child)
	if err != nil {
		return "", false, fmt.Errorf("correct release %s: %w", rid, err)
	}
	fields, err := releaseFields(corrected)
	if err != nil {
		return "", false, fmt.Errorf("correct release %s: %w", rid, err)
	}
	keys := []string{releaseKey(rid), correctionsKey(rid), correctionDocsKey(rid), versionsKey(rid)}
	res, err := correctScript.Run(ctx, s.rdb, keys, child.CorrectionOf.Key, child.ID, doc, fields[1], fields[3],
		strconv.Itoa(base), fmtTime(now)).StringSlice()
	if isNil(err) {
		return "", false, fmt.Errorf("release %q: %w", rid, dispatcher.ErrNotFound)
	}
	if err != nil {
		return "", false, fmt.Errorf("correct release %s: %w", rid, err)
	}
	if len(res) != 2 {
		return "", false, fmt.Errorf("correct release %s: unexpected reply %q", rid, res)
	}
	switch res[0] {
	case "created":
		if err := s.IndexNews(ctx, rid); err != nil { // newsroom (issue 15)
			return "", false, err
		}
		return res[1], true, nil
	case "exists":
		if err := s.IndexNews(ctx, rid); err != nil { // newsroom (issue 15)
			return "", false, err
		}
		return res[1], false, nil
	case "status":
		return "", false, fmt.Errorf("release %s is %s: %w", rid, res[1], dispatcher.ErrConflict)
	default:
		return "", false, fmt.Errorf("release %s is at version %s, not %d, since it was read: %w", rid, res[1], base, dispatcher.ErrConflict)
	}
}

// createCorrectionScript creates a correction's release, as a draft that
// no listing shows, unless it exists.
//
// KEYS[1] -> pregon:{<id>}:release
// ARGV[1] -> the release (JSON)
// ARGV[2] -> its summary (JSON)
// ARGV[3] -> the id of the release it corrects
// ARGV[4] -> now (Unix ms)
//
// Output: 1 when it created the release, 0 when it existed.
var createCorrectionScript = newScript(`
if redis.call('EXISTS', KEYS[1]) == 1 then return 0 end
redis.call('HSET', KEYS[1], R.data, ARGV[1], R.summary, ARGV[2], R.status, RS.draft,
  R.updated_at, ARGV[4], R.correction_of, ARGV[3])
return 1
`)

// CreateCorrection creates the release of correction id of release rid,
// as CorrectRelease recorded it, in status draft, unless it exists. It
// returns dispatcher.ErrNotFound when rid has no such correction.
func (s *Store) CreateCorrection(ctx context.Context, rid, id string) error {
	if !validID("rel", rid) || !validID("rel", id) {
		return fmt.Errorf("correction %q of %q: %w", id, rid, dispatcher.ErrNotFound)
	}
	doc, err := s.rdb.HGet(ctx, correctionDocsKey(rid), id).Result()
	if isNil(err) {
		return fmt.Errorf("correction %q of %q: %w", id, rid, dispatcher.ErrNotFound)
	}
	if err != nil {
		return fmt.Errorf("correction %s of %s: %w", id, rid, err)
	}
	r := new(dispatcher.Release)
	if err := json.Unmarshal([]byte(doc), r); err != nil {
		return fmt.Errorf("decode correction %s of %s: %w", id, rid, err)
	}
	fields, err := releaseFields(r)
	if err != nil {
		return fmt.Errorf("correction %s of %s: %w", id, rid, err)
	}
	err = createCorrectionScript.Run(ctx, s.rdb, []string{releaseKey(id)}, fields[1], fields[3], rid, fmtTime(s.now())).Err()
	if err != nil {
		return fmt.Errorf("create correction %s of %s: %w", id, rid, err)
	}
	return nil
}

// LastCorrection returns the key and id of release rid's latest correction,
// or "", "" when it has none.
func (s *Store) LastCorrection(ctx context.Context, rid string) (key, id string, err error) {
	if !validID("rel", rid) {
		return "", "", nil
	}
	v, err := s.rdb.HGet(ctx, releaseKey(rid), rLastCorrection).Result()
	if err != nil && !isNil(err) {
		return "", "", fmt.Errorf("latest correction of %s: %w", rid, err)
	}
	key, id, _ = strings.Cut(v, " ")
	return key, id, nil
}

// Corrections returns the corrections of release rid, oldest first, each
// as the release that carries it, with its counts (no body). A correction
// whose release was not created yet is returned as recorded, a draft with
// no deliveries. It returns dispatcher.ErrNotFound for an unknown release.
func (s *Store) Corrections(ctx context.Context, rid string) ([]*dispatcher.Release, error) {
	if _, err := s.Release(ctx, rid); err != nil {
		return nil, err
	}
	ids, err := s.rdb.LRange(ctx, correctionsKey(rid), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("corrections of %s: %w", rid, err)
	}
	rs, _, err := s.releases(ctx, ids, false)
	if err != nil {
		return nil, err
	}
	have := map[string]*dispatcher.Release{}
	for _, r := range rs {
		have[r.ID] = r
	}
	out := make([]*dispatcher.Release, 0, len(ids))
	for _, id := range ids {
		if r := have[id]; r != nil {
			out = append(out, r)
			continue
		}
		doc, err := s.rdb.HGet(ctx, correctionDocsKey(rid), id).Result()
		if err != nil {
			return nil, fmt.Errorf("correction %s of %s: %w", id, rid, err)
		}
		r := new(dispatcher.Release)
		if err := json.Unmarshal([]byte(doc), r); err != nil {
			return nil, fmt.Errorf("decode correction %s of %s: %w", id, rid, err)
		}
		r = summaryOf(r)
		r.Status, r.Counts = dispatcher.ReleaseDraft, dispatcher.NewCounts()
		out = append(out, r)
	}
	return out, nil
}

// ReleaseVersion returns release rid as it was at version v, before a
// correction replaced its text, or dispatcher.ErrNotFound when no such
// version was kept (the current version is not: read it with Release).
func (s *Store) ReleaseVersion(ctx context.Context, rid string, v int) (*dispatcher.Release, error) {
	if !validID("rel", rid) {
		return nil, fmt.Errorf("release %q: %w", rid, dispatcher.ErrNotFound)
	}
	doc, err := s.rdb.HGet(ctx, versionsKey(rid), strconv.Itoa(v)).Result()
	if isNil(err) {
		return nil, fmt.Errorf("version %d of release %s: %w", v, rid, dispatcher.ErrNotFound)
	}
	if err != nil {
		return nil, fmt.Errorf("version %d of release %s: %w", v, rid, err)
	}
	r := new(dispatcher.Release)
	if err := json.Unmarshal([]byte(doc), r); err != nil {
		return nil, fmt.Errorf("decode version %d of release %s: %w", v, rid, err)
	}
	r.Counts = nil
	return r, nil
}
