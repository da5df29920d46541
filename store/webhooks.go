package store

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/webhooks"
	"github.com/redis/go-redis/v9"
)

// Keys of the outgoing webhooks, all in the {webhooks} hash slot:
//
//	pregon:{webhooks}:ids          ZSET  webhook ids (score 0, lexical = creation order)
//	pregon:{webhooks}:hook:<id>    HASH  the webhook (fields wXxx below)
//	pregon:{webhooks}:log:<id>     LIST  its last attempts, newest first, as JSON (bounded)
//
// A webhook's signing secret is not stored: it is derived from PREGON_SECRET
// and its id (webhooks.Service.Secret).
const (
	webhookIDsKey = "pregon:{webhooks}:ids"
	webhookKind   = "whk"
)

func webhookKey(id string) string    { return "pregon:{webhooks}:hook:" + id }
func webhookLogKey(id string) string { return "pregon:{webhooks}:log:" + id }

// Hash fields of a webhook.
const (
	wURL          = "url"
	wEvents       = "events" // JSON array
	wDescription  = "description"
	wStatus       = "status"
	wReason       = "disabled_reason"
	wDisabledAt   = "disabled_at"   // Unix ms
	wFailingSince = "failing_since" // Unix ms of the first failure since the last success
	wCreatedAt    = "created_at"    // Unix ms
	wCreatedBy    = "created_by"
)

var _ webhooks.Store = (*Store)(nil)

// newWebhookScript returns a script headed by W, a Lua table of the
// webhook hash fields above, so that no script spells a field.
func newWebhookScript(src string) *redis.Script {
	return redis.NewScript(fmt.Sprintf("-- webhook hash fields\nlocal W = {status = %q, reason = %q, disabled_at = %q, failing_since = %q}\n",
		wStatus, wReason, wDisabledAt, wFailingSince) + src)
}

// CreateWebhook stores w and sets its ID.
func (s *Store) CreateWebhook(ctx context.Context, w *webhooks.Webhook) error {
	w.ID = newID(webhookKind, s.now())
	events, _ := json.Marshal(w.Events)
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		p.HSet(ctx, webhookKey(w.ID), wURL, w.URL, wEvents, events, wDescription, w.Description,
			wStatus, w.Status, wCreatedAt, fmtTime(w.CreatedAt), wCreatedBy, w.CreatedBy)
		p.ZAdd(ctx, webhookIDsKey, redis.Z{Member: w.ID})
		return nil
	})
	if err := txErr(cmds, err); err != nil {
		return fmt.Errorf("create webhook: %w", err)
	}
	return nil
}

// Webhook returns one webhook, or dispatcher.ErrNotFound.
func (s *Store) Webhook(ctx context.Context, id string) (*webhooks.Webhook, error) {
	if !validID(webhookKind, id) {
		return nil, fmt.Errorf("webhook %q: %w", id, dispatcher.ErrNotFound)
	}
	h, err := s.rdb.HGetAll(ctx, webhookKey(id)).Result()
	if err != nil {
		return nil, fmt.Errorf("webhook %s: %w", id, err)
	}
	if len(h) == 0 {
		return nil, fmt.Errorf("webhook %q: %w", id, dispatcher.ErrNotFound)
	}
	return webhookFrom(id, h), nil
}

func webhookFrom(id string, h map[string]string) *webhooks.Webhook {
	w := &webhooks.Webhook{ID: id, URL: h[wURL], Description: h[wDescription], Status: h[wStatus],
		DisabledReason: h[wReason], CreatedAt: parseTime(h[wCreatedAt]), CreatedBy: h[wCreatedBy]}
	_ = json.Unmarshal([]byte(h[wEvents]), &w.Events)
	if t := parseTime(h[wDisabledAt]); !t.IsZero() {
		w.DisabledAt = &t
	}
	if t := parseTime(h[wFailingSince]); !t.IsZero() {
		w.FailingSince = &t
	}
	return w
}

// Webhooks returns every webhook, oldest first.
func (s *Store) Webhooks(ctx context.Context) ([]*webhooks.Webhook, error) {
	ids, err := s.rdb.ZRange(ctx, webhookIDsKey, 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	cmds, err := s.rdb.Pipelined(ctx, func(p redis.Pipeliner) error {
		for _, id := range ids {
			p.HGetAll(ctx, webhookKey(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("webhooks: %w", err)
	}
	out := make([]*webhooks.Webhook, 0, len(ids))
	for i, c := range cmds {
		if h := c.(*redis.MapStringStringCmd).Val(); len(h) > 0 {
			out = append(out, webhookFrom(ids[i], h))
		}
	}
	return out, nil
}

// DeleteWebhook removes a webhook and its log; dispatcher.ErrNotFound if none.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	var zrem *redis.IntCmd
	cmds, err := s.tx(ctx, func(p redis.Pipeliner) error {
		zrem = p.ZRem(ctx, webhookIDsKey, id)
		p.Del(ctx, webhookKey(id), webhookLogKey(id))
		return nil
	})
	if err := txErr(cmds, err); err != nil {
		return fmt.Errorf("delete webhook %s: %w", id, err)
	}
	if zrem.Val() == 0 {
		return fmt.Errorf("webhook %q: %w", id, dispatcher.ErrNotFound)
	}
	return nil
}

// enableScript makes a webhook active and forgets its failures.
//
// KEYS[1] -> pregon:{webhooks}:hook:<id>
// ARGV[1] -> the active status
//
// Output: 1, or 0 when there is no such webhook.
var enableScript = newWebhookScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('HSET', KEYS[1], W.status, ARGV[1])
redis.call('HDEL', KEYS[1], W.reason, W.disabled_at, W.failing_since)
return 1
`)

// EnableWebhook makes a webhook active and forgets its failures;
// dispatcher.ErrNotFound if none.
func (s *Store) EnableWebhook(ctx context.Context, id string) (*webhooks.Webhook, error) {
	if !validID(webhookKind, id) {
		return nil, fmt.Errorf("webhook %q: %w", id, dispatcher.ErrNotFound)
	}
	n, err := enableScript.Run(ctx, s.rdb, []string{webhookKey(id)}, webhooks.StatusActive).Int()
	if err != nil {
		return nil, fmt.Errorf("enable webhook %s: %w", id, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("webhook %q: %w", id, dispatcher.ErrNotFound)
	}
	return s.Webhook(ctx, id)
}

// attemptScript logs an attempt at a webhook and keeps its failure state.
//
// KEYS[1] -> pregon:{webhooks}:hook:<id>
// KEYS[2] -> pregon:{webhooks}:log:<id>
// ARGV[1] -> the attempt as JSON
// ARGV[2] -> "1" when it succeeded, "0" when it failed
// ARGV[3] -> its time (Unix ms)
// ARGV[4] -> how long (ms) a webhook may fail without a success before it is disabled
// ARGV[5] -> the reason recorded when this failure disables it
// ARGV[6] -> how many attempts the log keeps
// ARGV[7] -> the active status, ARGV[8] the disabled status
//
// Output: 1, or 0 when there is no such webhook (nothing is written).
var attemptScript = newWebhookScript(`
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
redis.call('LPUSH', KEYS[2], ARGV[1])
redis.call('LTRIM', KEYS[2], 0, tonumber(ARGV[6]) - 1)
if ARGV[2] == '1' then
  redis.call('HDEL', KEYS[1], W.failing_since)
  return 1
end
redis.call('HSETNX', KEYS[1], W.failing_since, ARGV[3])
local since = tonumber(redis.call('HGET', KEYS[1], W.failing_since))
if redis.call('HGET', KEYS[1], W.status) == ARGV[7] and tonumber(ARGV[3]) - since >= tonumber(ARGV[4]) then
  redis.call('HSET', KEYS[1], W.status, ARGV[8], W.reason, ARGV[5], W.disabled_at, ARGV[3])
end
return 1
`)

// RecordAttempt appends a to webhook id's log and keeps its failure state;
// see webhooks.Store.
func (s *Store) RecordAttempt(ctx context.Context, id string, a webhooks.Attempt, logSize int, disableAfter time.Duration, reason string) (*webhooks.Webhook, error) {
	js, err := json.Marshal(a)
	if err != nil {
		return nil, err
	}
	ok := "0"
	if a.OK() {
		ok = "1"
	}
	n, err := attemptScript.Run(ctx, s.rdb, []string{webhookKey(id), webhookLogKey(id)}, js, ok, fmtTime(a.At),
		disableAfter.Milliseconds(), reason, logSize, webhooks.StatusActive, webhooks.StatusDisabled).Int()
	if err != nil {
		return nil, fmt.Errorf("record webhook attempt %s: %w", id, err)
	}
	if n == 0 {
		return nil, fmt.Errorf("webhook %q: %w", id, dispatcher.ErrNotFound)
	}
	return s.Webhook(ctx, id)
}

// Attempts returns a webhook's log, newest first.
func (s *Store) Attempts(ctx context.Context, id string) ([]webhooks.Attempt, error) {
	raw, err := s.rdb.LRange(ctx, webhookLogKey(id), 0, -1).Result()
	if err != nil {
		return nil, fmt.Errorf("webhook %s attempts: %w", id, err)
	}
	out := make([]webhooks.Attempt, 0, len(raw))
	for _, r := range raw {
		var a webhooks.Attempt
		if json.Unmarshal([]byte(r), &a) == nil {
			out = append(out, a)
		}
	}
	return out, nil
}
