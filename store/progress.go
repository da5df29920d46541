package store

import (
	"context"
	"fmt"
	"strconv"

	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Progress returns a release's status and delivery counts, or
// dispatcher.ErrNotFound: the part of a release that changes while it goes
// out, read in one round trip without decoding the release's text, so that
// following a release costs little however long it is.
func (s *Store) Progress(ctx context.Context, id string) (dispatcher.ReleaseStatus, *dispatcher.Counts, error) {
	if !validID("rel", id) {
		return "", nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	p := s.rdb.Pipeline()
	st := p.HGet(ctx, releaseKey(id), rStatus)
	cs := p.HGetAll(ctx, countsKey(id))
	if _, err := p.Exec(ctx); err != nil && !isNil(err) {
		return "", nil, fmt.Errorf("progress of release %s: %w", id, err)
	}
	if st.Val() == "" {
		return "", nil, fmt.Errorf("release %q: %w", id, dispatcher.ErrNotFound)
	}
	return dispatcher.ReleaseStatus(st.Val()), countsFrom(cs.Val()), nil
}

// FailureLog returns up to limit entries of a release's failure log after
// the entry after ("" for the first), oldest first: the deliveries that
// ended failed or uncertain, as they were then (see dispatcher.Failure). The
// log keeps the first dispatcher.FailureLogMax failures and then one entry
// with More set. An unknown release has an empty log. after must be a Seq
// (a Redis stream id, like 1767225600000-0): anything else is an error.
func (s *Store) FailureLog(ctx context.Context, rid, after string, limit int) ([]dispatcher.Failure, error) {
	if !validID("rel", rid) {
		return nil, nil
	}
	start := "-"
	if after != "" {
		start = "(" + after
	}
	msgs, err := s.rdb.XRangeN(ctx, failuresKey(rid), start, "+", int64(limit)).Result()
	if err != nil && !isNil(err) {
		return nil, fmt.Errorf("failure log of release %s: %w", rid, err)
	}
	out := make([]dispatcher.Failure, 0, len(msgs))
	for _, m := range msgs {
		out = append(out, failureFrom(rid, m))
	}
	return out, nil
}

func failureFrom(rid string, m redis.XMessage) dispatcher.Failure {
	f := dispatcher.Failure{Seq: m.ID}
	if m.Values[flMore] != nil {
		f.More = true
		return f
	}
	v := func(k string) string {
		s, _ := m.Values[k].(string)
		return s
	}
	a, _ := strconv.Atoi(v(dAttempts))
	f.Delivery = &dispatcher.Delivery{
		ID: v(flDelivery), ReleaseID: rid, Channel: dispatcher.ChannelKind(v(dChannel)), Recipient: v(dRecipient),
		Language: v(dLanguage), Status: dispatcher.DeliveryStatus(v(dStatus)), Attempts: a, LastError: v(dError),
		MessageIDs: []string{}, UpdatedAt: parseTime(v(dUpdatedAt)),
	}
	return f
}
