package store

import (
	"context"
	"fmt"

	"github.com/pregon/pregon/dispatcher"
)

// resumeScript moves a Telegram delivery whose post stopped part way
// (uncertain or failed, with parts not posted) back to queued, so that its
// missing parts are posted, and sets the release sending and active again,
// in one step. The parts posted stay recorded: they are not posted again.
// An uncertain post's next part (the one that may have been posted) is
// posted again: its number is kept as F.reposted, so that the delivery
// says so.
//
// KEYS[1] -> pregon:{<rid>}:release
// KEYS[2] -> pregon:{<rid>}:counts
// ARGV[1] -> bucket key prefix (pregon:{<rid>}:db:)
// ARGV[2] -> now (Unix ms)
// ARGV[3] -> release id
// ARGV[4] -> the delivery's id
//
// Output: "" when it moved the delivery; otherwise why not: "missing" (no
// such delivery), "channel", "status:<status>", "complete" (every part is
// posted) or "release:<status>".
var resumeScript = newReleaseScript(`
local d = getd(ARGV[1], ARGV[4])
if not d or not d[F.status] then return 'missing' end
local f = {d[F.status], d[F.channel], d[F.message_ids], d[F.parts]}
if f[2] ~= CH.telegram then return 'channel' end
if f[1] ~= DS.uncertain and f[1] ~= DS.failed then return 'status:' .. f[1] end
local posted = 0
for _ in string.gmatch(f[3] or '', '%S+') do posted = posted + 1 end
if f[4] and tonumber(f[4]) and posted >= tonumber(f[4]) then return 'complete' end
local relst = redis.call('HGET', KEYS[1], R.status)
if relst ~= RS.sending and relst ~= RS.sent and relst ~= RS.sent_with_failures then return 'release:' .. (relst or '') end
d[F.status], d[F.updated_at], d[F.round_attempts], d[F.error] = DS.queued, ARGV[2], '0', nil
if f[1] == DS.uncertain then d[F.reposted] = posted + 1 end
putd(ARGV[1], ARGV[4], d)
move(f[2], f[1], DS.queued)
redis.call('HINCRBY', KEYS[2], C.pending, 1)
if relst ~= RS.sending then
  redis.call('HSET', KEYS[1], R.status, RS.sending, R.updated_at, ARGV[2])
end
redis.call('HSET', KEYS[1], R.activity, ARGV[2])
return ''
`)

// ResumeDelivery moves a Telegram delivery of a release whose post stopped
// part way (uncertain or failed, with parts not posted) back to queued,
// and the release back to sending (see resumeScript). It returns
// dispatcher.ErrNotFound for an unknown delivery, and an error wrapping
// dispatcher.ErrConflict, saying why, for one that cannot be resumed.
func (s *Store) ResumeDelivery(ctx context.Context, rid, id string) error {
	// Marked active before it may become sending again, so that the
	// sweeper always watches it (Redis Cluster: cluster.go).
	if err := s.MarkActive(ctx, rid); err != nil {
		return err
	}
	why, err := resumeScript.Run(ctx, s.rdb, declared([]string{releaseKey(rid), countsKey(rid)}, rid, id),
		bucketPrefix(rid), fmtTime(s.now()), rid, id).Text()
	if err != nil {
		return fmt.Errorf("resume delivery %s of %s: %w", id, rid, err)
	}
	if err := s.syncStatusIndex(ctx, rid); err != nil {
		return err
	}
	switch {
	case why == "":
		return nil
	case why == "missing":
		return fmt.Errorf("delivery %s: %w", id, dispatcher.ErrNotFound)
	case why == "channel":
		return fmt.Errorf("delivery %s is not a Telegram post: %w", id, dispatcher.ErrConflict)
	case why == "complete":
		return fmt.Errorf("every part of delivery %s is posted: %w", id, dispatcher.ErrConflict)
	default:
		return fmt.Errorf("delivery %s cannot be resumed (%s; only an uncertain or failed post of a sent release can): %w", id, why, dispatcher.ErrConflict)
	}
}
