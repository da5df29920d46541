package store

import (
	"context"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// CreateDeliveries records the deliveries of a release that do not exist yet
// (ids are deterministic, so a recipient planned twice is recorded once) and
// counts them. It returns the ids of the queued deliveries it created.
func (s *Store) CreateDeliveries(ctx context.Context, rid string, ds []*dispatcher.Delivery) ([]string, error) {
	if len(ds) == 0 {
		return nil, nil
	}
	args := make([]any, 0, 2+6*len(ds))
	args = append(args, deliveryPrefix(rid), fmtTime(s.now()))
	for _, d := range ds {
		args = append(args, d.ID, string(d.Channel), d.Recipient, d.Name, d.Language, string(d.Status))
	}
	ids, err := createDeliveriesScript.Run(ctx, s.rdb, []string{releaseKey(rid), countsKey(rid), deliveriesKey(rid)}, args...).StringSlice()
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("create deliveries of %s: %w", rid, err)
	}
	return ids, nil
}

// ClaimDeliveries marks the given deliveries as sending and returns those it
// took: queued and retrying ones, and sending ones claimed before staleBefore
// (their worker died). It also returns the deliveries another worker holds.
// Deliveries in other states are left alone, the pending ones of a
// cancelled release become cancelled, and the email ones whose address is
// suppressed become suppressed. The claims name no worker: see
// FinishAndClaimBy.
func (s *Store) ClaimDeliveries(ctx context.Context, rid string, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	return s.FinishAndClaimBy(ctx, rid, "", nil, ids, staleBefore)
}

// FinishAndClaim is FinishAndClaimBy for claims that name no worker.
func (s *Store) FinishAndClaim(ctx context.Context, rid string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	return s.FinishAndClaimBy(ctx, rid, "", outs, ids, staleBefore)
}

// FinishAndClaimBy records outcomes and claims deliveries for worker (see
// ClaimDeliveries) in one round trip, so that a worker can hold one delivery
// at a time at no extra cost. A delivery held by another worker whose
// liveness key is gone (see Heartbeat) is taken too, at the cost of two more
// round trips, which only happens after a worker died.
func (s *Store) FinishAndClaimBy(ctx context.Context, rid, worker string, outs []dispatcher.Outcome, ids []string, staleBefore time.Time) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	keys := []string{releaseKey(rid), countsKey(rid), suppressedKey}
	now := fmtTime(s.now())
	cmds, err := s.pipelineScripts(ctx, func(p redis.Pipeliner, run func(*redis.Script, ...any) *redis.Cmd) {
		for _, o := range outs {
			due := ""
			if !o.RetryAt.IsZero() {
				due = fmtTime(o.RetryAt)
			}
			claim := ""
			if !o.ClaimedAt.IsZero() {
				claim = fmtTime(o.ClaimedAt)
			}
			run(finishScript, deliveryPrefix(rid)+o.ID, string(o.Status), o.Error, strings.Join(o.MessageIDs, " "), now, due, claim)
		}
		if len(ids) > 0 {
			run(claimScript, claimArgs(rid, now, staleBefore, worker, nil, ids)...)
		}
	}, keys)
	if err != nil {
		return nil, nil, fmt.Errorf("record %d outcomes and claim %d deliveries of %s: %w", len(outs), len(ids), rid, err)
	}
	if len(ids) == 0 {
		return nil, nil, nil
	}
	claimed, busy, err := parseClaim(rid, cmds[len(cmds)-1].(*redis.Cmd))
	if err != nil || len(busy) == 0 {
		return claimed, busy, err
	}
	dead, err := s.deadAmong(ctx, worker, busy)
	if err != nil || len(dead) == 0 {
		return claimed, busy, err
	}
	// Take over the deliveries of the dead workers. The script checks again
	// that each is still held by the worker found dead.
	var still []dispatcher.Busy
	deadSet := map[string]bool{}
	for _, w := range dead {
		deadSet[w] = true
	}
	var again []string
	for _, b := range busy {
		if deadSet[b.Worker] {
			again = append(again, b.ID)
		} else {
			still = append(still, b)
		}
	}
	cmd := claimScript.Run(ctx, s.rdb, keys, claimArgs(rid, fmtTime(s.now()), staleBefore, worker, dead, again)...)
	more, busy2, err := parseClaim(rid, cmd)
	if err != nil {
		return nil, nil, err
	}
	return append(claimed, more...), append(still, busy2...), nil
}

func claimArgs(rid, now string, staleBefore time.Time, worker string, dead, ids []string) []any {
	args := make([]any, 0, 5+len(ids))
	args = append(args, deliveryPrefix(rid), now, fmtTime(staleBefore), worker, strings.Join(dead, " "))
	for _, id := range ids {
		args = append(args, id)
	}
	return args
}

// deadAmong returns the workers holding busy whose liveness key is gone,
// leaving out worker itself (a worker is never dead to itself) and claims
// that name no worker.
func (s *Store) deadAmong(ctx context.Context, worker string, busy []dispatcher.Busy) ([]string, error) {
	var ws []string
	seen := map[string]bool{worker: true, "": true}
	for _, b := range busy {
		if !seen[b.Worker] {
			seen[b.Worker] = true
			ws = append(ws, b.Worker)
		}
	}
	return s.deadWorkers(ctx, ws)
}

func parseClaim(rid string, cmd *redis.Cmd) ([]*dispatcher.Claimed, []dispatcher.Busy, error) {
	res, err := cmd.Slice()
	if err != nil && !isNil(err) {
		return nil, nil, fmt.Errorf("claim deliveries of %s: %w", rid, err)
	}
	var out []*dispatcher.Claimed
	var busy []dispatcher.Busy
	for _, r := range res {
		f, ok := r.([]any)
		switch {
		case ok && len(f) == 4:
			busy = append(busy, dispatcher.Busy{ID: f[0].(string), ClaimedAt: parseTime(f[1].(string)),
				Worker: f[2].(string), Channel: dispatcher.ChannelKind(f[3].(string))})
			continue
		case !ok || len(f) != 9:
			return nil, nil, fmt.Errorf("claim deliveries of %s: unexpected reply %v", rid, r)
		}
		c := &dispatcher.Claimed{Delivery: dispatcher.Delivery{
			ID: f[0].(string), ReleaseID: rid, Channel: dispatcher.ChannelKind(f[1].(string)),
			Recipient: f[2].(string), Name: f[3].(string), Language: f[4].(string),
			Status: dispatcher.DeliverySending, Attempts: int(f[5].(int64)),
		}, RoundAttempts: int(f[6].(int64)), ClaimedAt: parseTime(f[8].(string))}
		if m := f[7].(string); m != "" {
			c.MessageIDs = strings.Fields(m)
		}
		out = append(out, c)
	}
	return out, busy, nil
}

// pipelineScripts runs the scripts that fill queues in one pipeline of
// EVALSHA calls. A call that Redis answers NOSCRIPT (a new or restarted
// server) had no effect, so it alone is run again, with the script's source.
func (s *Store) pipelineScripts(ctx context.Context, fill func(p redis.Pipeliner, run func(*redis.Script, ...any) *redis.Cmd), keys []string) ([]redis.Cmder, error) {
	type call struct {
		sc   *redis.Script
		args []any
	}
	var calls []call
	p := s.rdb.Pipeline()
	fill(p, func(sc *redis.Script, args ...any) *redis.Cmd {
		calls = append(calls, call{sc, args})
		return sc.EvalSha(ctx, p, keys, args...)
	})
	cmds, err := p.Exec(ctx)
	if err == nil || isNil(err) {
		return cmds, nil
	}
	if !redis.HasErrorPrefix(err, "NOSCRIPT") {
		return nil, err
	}
	for i, c := range cmds {
		if cerr := c.Err(); cerr != nil && redis.HasErrorPrefix(cerr, "NOSCRIPT") {
			cmds[i] = calls[i].sc.Run(ctx, s.rdb, keys, calls[i].args...)
		}
		if cerr := cmds[i].Err(); cerr != nil && !isNil(cerr) {
			return nil, cerr
		}
	}
	return cmds, nil
}

// RenewClaim moves the claim of a delivery this worker is sending from
// claimedAt to now, and returns the new claim time; it returns ok false when
// the delivery is no longer this claim's (finished, or taken by another).
func (s *Store) RenewClaim(ctx context.Context, rid, id string, claimedAt time.Time) (time.Time, bool, error) {
	now := s.now()
	n, err := renewScript.Run(ctx, s.rdb, []string{deliveryPrefix(rid) + id}, deliveryPrefix(rid)+id, fmtTime(claimedAt), fmtTime(now)).Int()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("renew claim of %s: %w", id, err)
	}
	return now.Truncate(time.Millisecond), n == 1, nil
}

// FinishDeliveries records outcomes of claimed deliveries in one round trip.
// An outcome for a delivery that is no longer sending is ignored.
func (s *Store) FinishDeliveries(ctx context.Context, rid string, outs []dispatcher.Outcome) error {
	if len(outs) == 0 {
		return nil
	}
	_, _, err := s.FinishAndClaim(ctx, rid, outs, nil, time.Time{})
	return err
}

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
	moved, err := transitionScript.Run(ctx, s.rdb, []string{releaseKey(rid), countsKey(rid)}, args...).StringSlice()
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("move deliveries of %s to %s: %w", rid, to, err)
	}
	return moved, nil
}

// DeliveryIDs returns a page of a release's delivery ids in id order, and the
// next cursor ("" on the last page).
func (s *Store) DeliveryIDs(ctx context.Context, rid, cursor string, limit int) ([]string, string, error) {
	return s.pageLex(ctx, deliveriesKey(rid), cursor, limit, false)
}

// Deliveries returns a page of a release's deliveries that match f, in id
// order, and the next cursor ("" on the last page). A page may hold fewer
// than limit items when many deliveries do not match; follow next_cursor.
func (s *Store) Deliveries(ctx context.Context, rid string, f dispatcher.DeliveryFilter, cursor string, limit int) ([]*dispatcher.Delivery, string, error) {
	if _, err := s.Release(ctx, rid); err != nil {
		return nil, "", err
	}
	var out []*dispatcher.Delivery
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
		return nil, fmt.Errorf("delivery %s: %w", id, dispatcher.ErrNotFound)
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
		if h["s"] == "" {
			continue
		}
		a, _ := strconv.Atoi(h["a"])
		d := &dispatcher.Delivery{
			ID: id, ReleaseID: rid, Channel: dispatcher.ChannelKind(h["c"]), Recipient: h["to"], Name: h["n"],
			Language: h["l"], Status: dispatcher.DeliveryStatus(h["s"]), Attempts: a, LastError: h["e"],
			MessageIDs: strings.Fields(h["m"]), CreatedAt: parseTime(h["ct"]), UpdatedAt: parseTime(h["ut"]),
		}
		if d.MessageIDs == nil {
			d.MessageIDs = []string{}
		}
		out = append(out, d)
	}
	return out, nil
}

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
	res, err := requeueFailedScript.Run(ctx, s.rdb, []string{releaseKey(rid), countsKey(rid), activeKey}, args...).Slice()
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("requeue failed deliveries of %s: %w", rid, err)
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
