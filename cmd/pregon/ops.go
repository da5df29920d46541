package main

import (
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"time"

	"github.com/hibiken/asynq"
	"github.com/hibiken/asynqmon"
	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/metrics"
	"github.com/pregon/pregon/store"
	"github.com/redis/go-redis/v9"
)

// newMetrics returns this process's metrics: the registry, with the release
// counts read from st and asynq's queue metrics read through Redis at each
// scrape, and the rate-limit waits of lim's users counted.
func newMetrics(st *store.Store, now func() time.Time) (*metrics.Metrics, error) {
	m := metrics.New(now)
	if err := m.WatchReleases(st); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	if err := m.WatchQueue(asynq.NewInspectorFromRedisClient(st.Client())); err != nil {
		return nil, fmt.Errorf("metrics: %w", err)
	}
	return m, nil
}

// startMetrics serves /metrics, without a token, on PREGON_METRICS_ADDR; a
// failure to serve is sent on errc.
func startMetrics(addr string, m *metrics.Metrics, log *slog.Logger, errc chan<- error) *http.Server {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", m.Handler())
	srv := &http.Server{Addr: addr, Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	log.Info("metrics listening: keep this address on a private network", "addr", addr)
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("PREGON_METRICS_ADDR: %w", err)
		}
	}()
	return srv
}

// sharedRedis hands asynqmon the process's Redis client instead of letting
// it open its own.
type sharedRedis struct{ c redis.UniversalClient }

// MakeRedisClient returns the shared client.
func (s sharedRedis) MakeRedisClient() any { return s.c }

// monitoringHandler returns asynqmon, the queue dashboard, mounted at
// api.MonitoringPath, read-only unless write. It is never closed: closing
// it would close the shared Redis client.
func monitoringHandler(rdb redis.UniversalClient, write bool) http.Handler {
	return asynqmon.New(asynqmon.Options{RootPath: api.MonitoringPath, RedisConnOpt: sharedRedis{rdb}, ReadOnly: !write})
}
