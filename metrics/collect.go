package metrics

import (
	"context"
	"fmt"
	"time"

	"github.com/hibiken/asynq"
	asynqmetrics "github.com/hibiken/asynq/x/metrics"
	"github.com/pregon/pregon/dispatcher"
	"github.com/prometheus/client_golang/prometheus"
)

// ScrapeTimeout bounds the store reads of one scrape.
const ScrapeTimeout = 5 * time.Second

// ReleaseCounter counts releases by status; *store.Store implements it.
type ReleaseCounter interface {
	ReleaseCounts(ctx context.Context) (map[dispatcher.ReleaseStatus]int64, error)
}

// WatchReleases serves pregon_releases{status}, read from src at each
// scrape. It returns an error if called twice.
func (m *Metrics) WatchReleases(src ReleaseCounter) error {
	return m.reg.Register(&releasesCollector{src: src})
}

// WatchQueue serves asynq's queue metrics (asynq_tasks_enqueued_total,
// asynq_queue_size, asynq_queue_latency_seconds, …), read through in at each
// scrape. It returns an error if called twice.
func (m *Metrics) WatchQueue(in *asynq.Inspector) error {
	return m.reg.Register(asynqmetrics.NewQueueMetricsCollector(in))
}

// WatchSMTPConns serves pregon_smtp_connections, read from conns at each
// scrape. It returns an error if called twice.
func (m *Metrics) WatchSMTPConns(conns func() int) error {
	return m.reg.Register(prometheus.NewGaugeFunc(prometheus.GaugeOpts{
		Name: "pregon_smtp_connections",
		Help: "SMTP connections this process holds, idle in the pool or in use.",
	}, func() float64 { return float64(conns()) }))
}

var releasesDesc = prometheus.NewDesc("pregon_releases",
	"Releases in each status, read from the store at scrape time.", []string{"status"}, nil)

type releasesCollector struct{ src ReleaseCounter }

func (c *releasesCollector) Describe(ch chan<- *prometheus.Desc) { ch <- releasesDesc }

func (c *releasesCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), ScrapeTimeout)
	defer cancel()
	counts, err := c.src.ReleaseCounts(ctx)
	if err != nil {
		ch <- prometheus.NewInvalidMetric(releasesDesc, fmt.Errorf("pregon_releases: %w", err))
		return
	}
	for st, n := range counts {
		ch <- prometheus.MustNewConstMetric(releasesDesc, prometheus.GaugeValue, float64(n), string(st))
	}
}
