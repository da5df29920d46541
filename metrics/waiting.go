package metrics

import (
	"github.com/prometheus/client_golang/prometheus"

	"github.com/pregon/pregon/dispatcher"
)

var _ dispatcher.WaitingObserver = (*Metrics)(nil)

// waitingMetrics are the paced Telegram posts' (dispatcher.WaitingObserver).
type waitingMetrics struct {
	waiting    prometheus.Gauge
	waitingMax prometheus.Gauge
	deferred   prometheus.Counter
}

func newWaitingMetrics() waitingMetrics {
	return waitingMetrics{
		waiting: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pregon_telegram_posts_waiting",
			Help: "Paced Telegram posts this process has on their way: claimed, their parts waiting for their turns.",
		}),
		waitingMax: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "pregon_telegram_posts_waiting_max",
			Help: "The most paced Telegram posts this process has on their way at once (PREGON_TELEGRAM_MAX_WAITING).",
		}),
		deferred: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pregon_telegram_posts_deferred_total",
			Help: "Telegram deliveries left queued, unclaimed, to be tried later, because as many posts as PREGON_TELEGRAM_MAX_WAITING were on their way.",
		}),
	}
}

func (w waitingMetrics) collectors() []prometheus.Collector {
	return []prometheus.Collector{w.waiting, w.waitingMax, w.deferred}
}

// PostsWaiting sets the number of paced posts on their way, and the cap.
func (m *Metrics) PostsWaiting(n, max int) {
	m.tgWaiting.waiting.Set(float64(n))
	m.tgWaiting.waitingMax.Set(float64(max))
}

// PostsDeferred counts n deliveries put off at the cap.
func (m *Metrics) PostsDeferred(n int) { m.tgWaiting.deferred.Add(float64(n)) }
