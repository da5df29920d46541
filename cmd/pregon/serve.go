package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/channels/outbox"
	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/links"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/ratelimit"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
	"github.com/redis/go-redis/v9"
)

type role int

const (
	roleAPI role = 1 << iota
	roleWorker
)

func newLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

func openStore(ctx context.Context, cfg *config) (*store.Store, func(), error) {
	rdb, err := redisClient(cfg.RedisURL)
	if err != nil {
		return nil, nil, fmt.Errorf("PREGON_REDIS_URL: %w", err)
	}
	st := store.New(rdb, nil)
	pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if err := st.Ping(pctx); err != nil {
		rdb.Close()
		return nil, nil, fmt.Errorf("cannot reach Redis at %s: %w", redact(cfg.RedisURL), err)
	}
	return st, func() { rdb.Close() }, nil
}

// redisClient returns a client for a redis:// or rediss:// URL: one Redis,
// or, when the URL names a master_name, the master that Redis Sentinel
// reports (the URL's host, and each addr=host:port, are the sentinels), so
// that a failover is followed without a restart.
func redisClient(raw string) (redis.UniversalClient, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Query().Has("master_name") {
		opt, err := redis.ParseFailoverURL(raw)
		if err != nil {
			return nil, err
		}
		return redis.NewFailoverClient(opt), nil
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	return redis.NewClient(opt), nil
}

// serve runs the API, the workers, or both, until ctx ends.
func serve(ctx context.Context, args []string, stderr io.Writer, getenv func(string) string, roles role) error {
	if len(args) > 0 {
		return fmt.Errorf("unexpected arguments %q: configuration comes from PREGON_* variables", args)
	}
	cfg, err := loadConfig(getenv)
	if err != nil {
		return fmt.Errorf("configuration:\n%w", err)
	}
	log := newLogger(stderr, cfg.LogLevel)
	st, closeRedis, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeRedis()
	if ws, err := st.Warnings(ctx); err != nil {
		log.Warn("cannot check Redis configuration", "error", err)
	} else {
		for _, w := range ws {
			log.Warn(w)
		}
	}
	rdb := st.Client()
	renderer, err := templates.New()
	if err != nil {
		return err
	}
	signer, err := openLinks(ctx, cfg, st, log)
	if err != nil {
		return err
	}
	qc := queue.NewClient(rdb)
	dcfg := dispatcher.Config{
		Store: st, Queue: qc, Renderer: renderer, Logger: log,
		MaxAttempts: cfg.MaxAttempts, RetryBase: cfg.RetryBase, Backoff: queue.Backoff,
		BatchSize: cfg.BatchSize, MessageIDDomain: domainOf(cfg.From.Address), ClaimTimeout: cfg.ClaimTimeout,
		Links: signer,
	}
	if roles&roleWorker != 0 {
		closeChannels, err := openChannels(cfg, log, ratelimit.New(rdb), &dcfg)
		if err != nil {
			return err
		}
		defer closeChannels()
	}
	svc, err := dispatcher.NewService(dcfg)
	if err != nil {
		return err
	}

	errc := make(chan error, 2)
	if cfg.PprofAddr != "" {
		srv := &http.Server{Addr: cfg.PprofAddr, Handler: pprofMux(), ReadHeaderTimeout: 10 * time.Second}
		log.Warn("pprof profiling endpoint enabled: keep it off public networks", "addr", cfg.PprofAddr)
		go func() {
			if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- fmt.Errorf("PREGON_PPROF_ADDR: %w", err)
			}
		}()
		defer srv.Close()
	}
	var httpSrv *http.Server
	if roles&roleAPI != 0 {
		h, err := api.New(api.Config{Store: st, Sender: svc, Previewer: renderer, Logger: log,
			Links: signer, Limiter: &ratelimit.PerClient{L: ratelimit.New(rdb), Burst: ratelimit.ClientBurst}, TrustedProxies: cfg.TrustedProxies})
		if err != nil {
			return err
		}
		ln, err := net.Listen("tcp", cfg.HTTPAddr)
		if err != nil {
			return fmt.Errorf("PREGON_HTTP_ADDR: %w", err)
		}
		httpSrv = api.NewHTTPServer(cfg.HTTPAddr, h)
		log.Info("api listening", "addr", ln.Addr().String(), "public_url", cfg.PublicURL)
		go func() {
			if err := httpSrv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
				errc <- err
			}
		}()
	}
	var workers *queue.Server
	stopBeat := func(bool) {}
	if roles&roleWorker != 0 {
		// Claims name this worker; its liveness key lets others take its
		// deliveries over within seconds if it dies.
		if stopBeat, err = svc.StartHeartbeat(ctx); err != nil {
			return err
		}
		workers = queue.NewServer(rdb, queue.Config{Concurrency: cfg.Concurrency, RetryBase: cfg.RetryBase, Logger: log}, svc)
		if err := workers.Start(); err != nil {
			return err
		}
		log.Info("workers started", "concurrency", cfg.Concurrency)
		go svc.RunSweeper(ctx, min(max(cfg.ClaimTimeout/4, time.Second), 30*time.Second))
	}

	select {
	case <-ctx.Done():
	case err = <-errc:
	}
	log.Info("shutting down")
	if httpSrv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		httpSrv.Shutdown(sctx)
		cancel()
	}
	if workers != nil {
		workers.Shutdown()
		// asynq hands back the tasks still running at its shutdown timeout;
		// give their handlers a moment to record what they sent.
		drained := svc.Drain(5 * time.Second)
		if !drained {
			log.Warn("some deliveries were still running at exit; they are taken over once this worker's liveness key expires")
		}
		stopBeat(drained)
	}
	log.Info("stopped")
	return err
}

// openChannels sets the email and Telegram senders in dcfg: the real ones
// when configured, the outbox otherwise.
func openChannels(cfg *config, log *slog.Logger, lim *ratelimit.Limiter, dcfg *dispatcher.Config) (func(), error) {
	closers := []func(){}
	from := dispatcher.Address{Name: cfg.From.Name, Email: cfg.From.Address}
	var box *outbox.Outbox
	useOutbox := func() (*outbox.Outbox, error) {
		if box != nil {
			return box, nil
		}
		b, err := outbox.New(cfg.OutboxDir, log, outbox.From(from))
		box = b
		return b, err
	}
	if cfg.SMTPURL != "" {
		ecfg := email.Config{URL: cfg.SMTPURL, From: from, PoolSize: cfg.Concurrency, Logger: log}
		if cfg.EmailRate > 0 {
			ecfg.Limiter = &ratelimit.Email{L: lim, PerSecond: cfg.EmailRate}
		}
		ch, err := email.New(ecfg)
		if err != nil {
			return nil, fmt.Errorf("PREGON_SMTP_URL: %w", err)
		}
		closers = append(closers, func() { ch.Close() })
		dcfg.Email = ch
		log.Info("email channel: SMTP", "smtp", redact(cfg.SMTPURL))
	} else {
		b, err := useOutbox()
		if err != nil {
			return nil, err
		}
		dcfg.Email = b
		log.Warn("email channel: PREGON_SMTP_URL is not set, so emails are NOT sent: they are written to the outbox", "dir", cfg.OutboxDir)
	}
	if cfg.TelegramToken != "" {
		ch, err := telegram.New(telegram.Config{
			Token: cfg.TelegramToken, APIURL: cfg.TelegramAPIURL, Logger: log,
			Limiter: &ratelimit.Telegram{L: lim, PerSecond: cfg.TelegramRate, PerChatPerMinute: cfg.TelegramChatRate},
		})
		if err != nil {
			return nil, fmt.Errorf("PREGON_TELEGRAM_TOKEN: %w", err)
		}
		dcfg.Telegram = ch
		log.Info("telegram channel: Bot API", "api_url", cfg.TelegramAPIURL)
	} else {
		b, err := useOutbox()
		if err != nil {
			return nil, err
		}
		dcfg.Telegram = b
		log.Warn("telegram channel: PREGON_TELEGRAM_TOKEN is not set, so posts are NOT sent: they are written to the outbox", "dir", cfg.OutboxDir)
	}
	return func() {
		for _, c := range closers {
			c()
		}
	}, nil
}

// openLinks returns the signer of the links in messages (one-click
// unsubscribe), keyed with PREGON_SECRET, or when it is not set with a
// random secret shared through Redis, with a warning: links then work only
// as long as that Redis key does.
func openLinks(ctx context.Context, cfg *config, st *store.Store, log *slog.Logger) (*links.Signer, error) {
	secret := []byte(cfg.Secret)
	if len(secret) == 0 {
		s, created, err := st.SharedSecret(ctx)
		if err != nil {
			return nil, err
		}
		secret = s
		log.Warn("PREGON_SECRET is not set: unsubscribe links are signed with a random secret kept in Redis under pregon:secret, "+
			"and stop working if that key is lost; set PREGON_SECRET to keep them valid", "created", created)
	}
	return links.New(secret, cfg.PublicURL, nil, 0)
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "pregon.local"
}
