package metrics

import (
	"context"
	"errors"
	"os"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/ratelimit"
)

var _ dispatcher.Observer = (*Metrics)(nil)

// DeliveryRecorded counts a delivery that reached status on channel ch.
func (m *Metrics) DeliveryRecorded(ch dispatcher.ChannelKind, status dispatcher.DeliveryStatus) {
	m.deliveries.WithLabelValues(string(ch), string(status)).Inc()
}

// DeliveryRetrying counts a retry on channel ch, by the reason err gives.
func (m *Metrics) DeliveryRetrying(ch dispatcher.ChannelKind, err error) {
	m.retries.WithLabelValues(string(ch), RetryReason(err)).Inc()
}

// RetryReason names why a send that failed with err is retried:
// "rate_limit" when Pregón's own rate limit was further away than a worker
// waits, "retry_after" when the provider asked to wait (Telegram's 429),
// "timeout" when the send timed out, "transient" otherwise.
func RetryReason(err error) string {
	_, after := dispatcher.RetryAfter(err)
	switch {
	case errors.Is(err, ratelimit.ErrRateLimited):
		return "rate_limit"
	case after:
		return "retry_after"
	case errors.Is(err, context.DeadlineExceeded), errors.Is(err, os.ErrDeadlineExceeded):
		return "timeout"
	default:
		return "transient"
	}
}

// RateLimitWait counts a wait for a turn under rule; it has the signature of
// ratelimit.Limiter.OnWait. The channel is the first part of the rule's key
// ("email", "telegram:chat:…" and "telegram:bot").
func (m *Metrics) RateLimitWait(rule ratelimit.Rule, _ time.Duration) {
	ch, _, _ := strings.Cut(rule.Key, ":")
	m.rateWaits.WithLabelValues(ch).Inc()
}
