// Package metrics gives Pregón's Prometheus metrics: a registry built once
// per process (never the global one), the counters the workers feed through
// dispatcher.Observer and the sender decorators of this package, and
// collectors that read the store and the queue when scraped.
package metrics

import (
	"net/http"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
)

// Metrics holds one process's registry and the metrics its workers update.
// It is safe for concurrent use.
type Metrics struct {
	reg          *prometheus.Registry
	now          func() time.Time
	deliveries   *prometheus.CounterVec
	sendDuration *prometheus.HistogramVec
	retries      *prometheus.CounterVec
	rateWaits    *prometheus.CounterVec
	telegram429  prometheus.Counter
	tgWaiting    waitingMetrics // waiting.go
}

// New returns Metrics on a new registry holding Pregón's counters, the Go
// runtime's and the process's metrics, and the build info. now is the clock
// that times sends (nil: time.Now).
func New(now func() time.Time) *Metrics {
	if now == nil {
		now = time.Now
	}
	m := &Metrics{
		reg: prometheus.NewRegistry(),
		now: now,
		deliveries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pregon_deliveries_total",
			Help: "Deliveries that reached a status (sent, failed, uncertain, retrying), by channel, counted when the outcome is recorded.",
		}, []string{"channel", "status"}),
		sendDuration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Name:    "pregon_send_duration_seconds",
			Help:    "Time one send took through a channel (email: one message; telegram: one post), rate-limit waits included.",
			Buckets: []float64{.005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5, 10, 30},
		}, []string{"channel"}),
		retries: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pregon_retries_total",
			Help: "Sends that failed and will be retried, by channel and reason (rate_limit, retry_after, timeout, transient).",
		}, []string{"channel", "reason"}),
		rateWaits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "pregon_rate_limit_waits_total",
			Help: "Times a send had to wait for a turn under a shared rate limit, by channel.",
		}, []string{"channel"}),
		telegram429: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "pregon_telegram_429_total",
			Help: "Telegram Bot API answers 429 Too Many Requests.",
		}),
	}
	m.tgWaiting = newWaitingMetrics()
	m.reg.MustRegister(m.tgWaiting.collectors()...)
	m.reg.MustRegister(m.deliveries, m.sendDuration, m.retries, m.rateWaits, m.telegram429,
		collectors.NewBuildInfoCollector(),
		collectors.NewGoCollector(),
		collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	return m
}

// Registry returns the registry, to register more collectors on.
func (m *Metrics) Registry() *prometheus.Registry { return m.reg }

// Handler serves the registry in Prometheus's text (or OpenMetrics) format.
// A collector that fails is reported in the scrape's errors and logged by
// Prometheus; the other metrics are still served.
func (m *Metrics) Handler() http.Handler {
	return promhttp.HandlerFor(m.reg, promhttp.HandlerOpts{Registry: m.reg, ErrorHandling: promhttp.ContinueOnError})
}
