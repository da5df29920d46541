package queue

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"time"

	"github.com/hibiken/asynq"
	"github.com/pregon/pregon/dispatcher"
	"github.com/redis/go-redis/v9"
)

// Handler does the work of Pregón's tasks.
type Handler interface {
	// Dispatch plans a release into deliveries and enqueues them.
	Dispatch(ctx context.Context, releaseID string) error
	// Deliver sends one batch of deliveries.
	Deliver(ctx context.Context, b dispatcher.Batch) error
}

// Config sets up a Server. Zero values get the defaults documented here.
type Config struct {
	// Concurrency is how many tasks run at once (default 20).
	Concurrency int
	// RetryBase is the delay before a failed task's first retry (default
	// 10s); later ones double, with jitter, up to an hour.
	RetryBase time.Duration
	// ShutdownTimeout is how long a stop waits for running tasks before
	// handing them back to the queue (default 10s).
	ShutdownTimeout time.Duration
	// PollInterval is how often idle workers look for tasks, and scheduled
	// tasks are moved to their queue (default 100ms).
	PollInterval time.Duration
	Logger       *slog.Logger
}

// Server runs Pregón's tasks.
type Server struct {
	srv *asynq.Server
	mux *asynq.ServeMux
	// stop cuts the deliveries still running when a shutdown has waited
	// its timeout.
	stop context.CancelFunc
}

// NewServer returns a Server on an open Redis client that runs tasks with h.
func NewServer(rdb redis.UniversalClient, cfg Config, h Handler) *Server {
	if cfg.Concurrency <= 0 {
		cfg.Concurrency = 20
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 10 * time.Second
	}
	if cfg.ShutdownTimeout <= 0 {
		cfg.ShutdownTimeout = 10 * time.Second
	}
	if cfg.PollInterval <= 0 {
		cfg.PollInterval = 100 * time.Millisecond
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	log := cfg.Logger
	srv := asynq.NewServerFromRedisClient(rdb, asynq.Config{
		Concurrency:              cfg.Concurrency,
		Queues:                   map[string]int{QueueDispatch: 6, QueueTelegram: 3, QueueEmail: 3, QueueWebhooks: 1},
		RetryDelayFunc:           func(n int, _ error, _ *asynq.Task) time.Duration { return Backoff(cfg.RetryBase, n+1) },
		ShutdownTimeout:          cfg.ShutdownTimeout,
		TaskCheckInterval:        cfg.PollInterval,
		DelayedTaskCheckInterval: cfg.PollInterval,
		Logger:                   slogAdapter{log.With("component", "asynq")},
		LogLevel:                 asynq.WarnLevel,
		ErrorHandler: asynq.ErrorHandlerFunc(func(ctx context.Context, t *asynq.Task, err error) {
			log.Error("task failed", "task", t.Type(), "error", err)
		}),
	})
	mux := asynq.NewServeMux()
	mux.HandleFunc(TypeDispatch, func(ctx context.Context, t *asynq.Task) error {
		var p dispatchPayload
		if err := json.Unmarshal(t.Payload(), &p); err != nil || p.ReleaseID == "" {
			return fmt.Errorf("bad dispatch payload %q: %v: %w", t.Payload(), err, asynq.SkipRetry)
		}
		return classify(h.Dispatch(ctx, p.ReleaseID))
	})
	stopping, stop := context.WithCancel(context.Background())
	deliver := func(ctx context.Context, t *asynq.Task) error {
		var b dispatcher.Batch
		if err := json.Unmarshal(t.Payload(), &b); err != nil || b.ReleaseID == "" {
			return fmt.Errorf("bad delivery payload %q: %v: %w", t.Payload(), err, asynq.SkipRetry)
		}
		// asynq also cancels a task's context when it could not renew the
		// task's lease in Redis for 30 s (Redis frozen or unreachable), and
		// that, cutting a send after its data went out, made a delivery that
		// had been sent "uncertain". Only a shutdown stops a batch: the task
		// whose lease ran out is run again later, and finds done what this
		// run did.
		dctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
		defer cancel()
		defer context.AfterFunc(stopping, cancel)()
		return classify(h.Deliver(dctx, b))
	}
	mux.HandleFunc(TypeEmail, deliver)
	mux.HandleFunc(TypeTelegram, deliver)
	return &Server{srv: srv, mux: mux, stop: stop}
}

// classify maps a handler's error onto asynq's retry control: errors that
// retrying cannot mend are not retried.
func classify(err error) error {
	if err == nil {
		return nil
	}
	if errors.Is(err, dispatcher.ErrNotFound) || dispatcher.IsPermanent(err) {
		return fmt.Errorf("%w: %w", err, asynq.SkipRetry)
	}
	return err
}

// Start starts processing tasks in the background.
func (s *Server) Start() error {
	if err := s.srv.Start(s.mux); err != nil {
		return fmt.Errorf("start workers: %w", err)
	}
	return nil
}

// Shutdown stops taking tasks, waits for running ones up to the shutdown
// timeout, and hands back those still running, whose context it cancels.
func (s *Server) Shutdown() {
	s.srv.Shutdown()
	s.stop()
}

// Backoff returns the delay before attempt n+1 after n failed attempts:
// base·2^(n-1) with ±20% jitter, at most an hour.
func Backoff(base time.Duration, n int) time.Duration {
	if n < 1 {
		n = 1
	}
	d := base
	for i := 1; i < n && d < time.Hour; i++ {
		d *= 2
	}
	d = min(d, time.Hour)
	jitter := (rand.Float64()*0.4 - 0.2) * float64(d)
	return d + time.Duration(jitter)
}

type slogAdapter struct{ l *slog.Logger }

func (a slogAdapter) Debug(args ...any) { a.l.Debug(fmt.Sprint(args...)) }
func (a slogAdapter) Info(args ...any)  { a.l.Info(fmt.Sprint(args...)) }
func (a slogAdapter) Warn(args ...any)  { a.l.Warn(fmt.Sprint(args...)) }
func (a slogAdapter) Error(args ...any) { a.l.Error(fmt.Sprint(args...)) }
func (a slogAdapter) Fatal(args ...any) { a.l.Error(fmt.Sprint(args...)) }
