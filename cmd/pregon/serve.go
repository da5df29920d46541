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
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/bouncebox"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/logging"
	"github.com/pregon/pregon/linkcheck"
	"github.com/pregon/pregon/links"
	"github.com/pregon/pregon/metrics"
	"github.com/pregon/pregon/newsroom"
	"github.com/pregon/pregon/optin"
	"github.com/pregon/pregon/queue"
	"github.com/pregon/pregon/ratelimit"
	"github.com/pregon/pregon/retention"
	"github.com/pregon/pregon/store"
	"github.com/pregon/pregon/templates"
	"github.com/pregon/pregon/tgbot"
	"github.com/pregon/pregon/web"
	"github.com/pregon/pregon/webhooks"
	"github.com/redis/go-redis/v9"
)

type role int

const (
	roleAPI role = 1 << iota
	roleWorker
)

// newLogger returns the process's logger on w: JSON, or text on a terminal
// or as format says, with email addresses masked unless level is debug.
func newLogger(w io.Writer, level, format string) *slog.Logger {
	var l slog.Level
	_ = l.UnmarshalText([]byte(level))
	return logging.New(w, logging.Options{Level: l, Format: format, KeepEmails: l <= slog.LevelDebug})
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
	if isClusterURL(raw) { // Redis Cluster (rediscluster.go)
		opt, err := clusterOptions(raw)
		if err != nil {
			return nil, err
		}
		return redis.NewClusterClient(opt), nil
	}
	u, err := url.Parse(raw)
	if err != nil {
		return nil, err
	}
	if u.Query().Has("master_name") {
		opt, err := redis.ParseFailoverURL(raw)
		if err != nil {
			return nil, err
		}
		opt.ContextTimeoutEnabled = true // every call honours its context's deadline
		return redis.NewFailoverClient(opt), nil
	}
	opt, err := redis.ParseURL(raw)
	if err != nil {
		return nil, err
	}
	opt.ContextTimeoutEnabled = true // every call honours its context's deadline (a frozen Redis fails fast)
	return redis.NewClient(opt), nil
}

// parts are what serve builds once, at start, and shares between the API
// and the workers: one Redis client (inside the store), one clock, one queue
// client, one rate limiter, one renderer, one links signer, one dispatcher
// service.
type parts struct {
	cfg      *config
	log      *slog.Logger
	now      func() time.Time
	store    *store.Store
	queue    *queue.Client
	limiter  *ratelimit.Limiter
	renderer *templates.Renderer
	links    *links.Signer
	service  *dispatcher.Service
	metrics  *metrics.Metrics
	optin    *optin.Mailer // double opt-in confirmation emails (workers only)
	webhooks *webhooks.Service
	bot      *tgbot.Bot // the bot's updates: followers, channels found (tgbot.go)
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
	log := newLogger(stderr, cfg.LogLevel, cfg.LogFormat)
	var workerID string // the id in this worker's claims, on each of its log lines
	if roles&roleWorker != 0 {
		workerID = dispatcher.NewWorkerID()
		log = log.With("worker", workerID)
	}
	log.Info("pregon starting", readVersion().attrs()...)
	st, closeRedis, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer closeRedis()
	migrateKeys(ctx, st, log)                  // Redis Cluster: renamed keys (rediscluster.go)
	if n, err := st.Upgrade(ctx); err != nil { // delivery records (issue 12)
		return err
	} else if n > 0 {
		log.Info("moved deliveries kept by an earlier version into records", "deliveries", n)
	}
	if ws, err := st.Warnings(ctx); err != nil {
		log.Warn("cannot check Redis configuration", "error", err)
	} else {
		for _, w := range ws {
			log.Warn(w)
		}
	}
	p := &parts{cfg: cfg, log: log, now: time.Now, store: st,
		queue: queue.NewClient(st.Client()), limiter: ratelimit.New(st.Client())}
	if p.renderer, err = newRenderer(getenv); err != nil {
		return err
	}
	if p.links, err = openLinks(ctx, cfg, st, log, p.now); err != nil {
		return err
	}
	if p.metrics, err = newMetrics(st, p.now); err != nil {
		return err
	}
	p.limiter.OnWait = p.metrics.RateLimitWait
	if p.webhooks, err = newWebhooks(ctx, cfg, st, p.queue, log, p.now); err != nil { // outgoing webhooks
		return err
	}
	var senders channels
	if roles&roleWorker != 0 {
		var closeChannels func()
		if senders, closeChannels, err = openChannels(cfg, log, p.limiter, p.now, p.metrics); err != nil {
			return err
		}
		defer closeChannels()
	}
	p.service, err = dispatcher.NewService(dispatcher.Config{
		Store: st, Queue: p.queue, Renderer: p.renderer, Email: senders.email, Telegram: senders.telegram,
		Logger: log, Now: p.now, Links: p.links,
		MaxAttempts: cfg.MaxAttempts, RetryBase: cfg.RetryBase, Backoff: queue.Backoff, BatchSize: cfg.BatchSize,
		MessageIDDomain: domainOf(cfg.From.Address), ClaimTimeout: cfg.ClaimTimeout,
		Observer: p.metrics, WorkerID: workerID, RequireApproval: cfg.RequireApproval, Tests: st, TestQueue: p.queue,
		Notifier: p.webhooks,
		// Telegram summary posts link the newsroom's page of the release
		// when the newsroom has a section in its language.
		Permalink: func(rel *dispatcher.Release, lang string) string {
			if cfg.PublicURL == "" || !slices.Contains(cfg.Newsroom.Languages, lang) {
				return ""
			}
			return newsroom.Permalink(cfg.PublicURL, rel, lang)
		},
		// Telegram pacing (issue 11): each part of a post takes its turn ahead
		// and waits for it off the queue's workers.
		TelegramPacer: senders.telegramPacer,
		MaxWaiting:    cfg.TelegramMaxWaiting, // PREGON_TELEGRAM_MAX_WAITING
	})
	if err != nil {
		return err
	}
	if roles&roleWorker != 0 { // double opt-in: the workers send the confirmation emails (optin)
		if p.optin, err = optin.New(optin.Config{Store: st, Email: senders.email, Links: p.links,
			MessageIDDomain: domainOf(cfg.From.Address), Now: p.now, Logger: log}); err != nil {
			return err
		}
	}

	errc := make(chan error, 4)
	if cfg.PprofAddr != "" {
		srv := startPprof(cfg.PprofAddr, log, errc)
		defer srv.Close()
	}
	if cfg.MetricsAddr != "" {
		srv := startMetrics(cfg.MetricsAddr, p.metrics, log, errc)
		defer srv.Close()
	} else if roles&roleAPI == 0 {
		log.Info("metrics are not served: set PREGON_METRICS_ADDR to serve this worker's /metrics")
	}
	var httpSrv *http.Server
	if roles&roleAPI != 0 {
		// Followers via the bot: one updates consumer, run by the API
		// processes (one polls at a time), never by workers (tgbot.go).
		if p.bot, err = p.telegramBot(); err != nil {
			return err
		}
		if httpSrv, err = p.startAPI(errc); err != nil {
			return err
		}
		p.runTelegramBot(ctx, p.bot)
	}
	var workers *queue.Server
	stopBeat := func(bool) {}
	if roles&roleWorker != 0 {
		// Claims name this worker; its liveness key lets others take its
		// deliveries over within seconds if it dies.
		if stopBeat, err = p.service.StartHeartbeat(ctx); err != nil {
			return err
		}
		if workers, err = p.startWorkers(ctx); err != nil {
			stopBeat(true) // it took no task: leave at once
			return err
		}
		// Bounce mailbox (IMAP): one worker of the deployment polls it, by a lease.
		if bc := cfg.BounceBox; bc.Mailbox != nil {
			box, err := bouncebox.New(bouncebox.Config{Mailbox: bc.Mailbox, VERP: bc.VERP, Store: st, Notifier: p.webhooks,
				Interval: bc.Interval, Holder: workerID, Logger: log, Now: p.now})
			if err != nil {
				workers.Shutdown()
				stopBeat(true)
				return err
			}
			go box.Run(ctx)
		}
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
		drained := p.service.Drain(5 * time.Second)
		if !drained {
			log.Warn("some deliveries were still running at exit; they are taken over once this worker's liveness key expires")
		}
		stopBeat(drained)
	}
	log.Info("stopped")
	return err
}

// startAPI starts the HTTP API on PREGON_HTTP_ADDR; a failure to serve is
// sent on errc.
func (p *parts) startAPI(errc chan<- error) (*http.Server, error) {
	// Newsroom (issue 15): /news/ and /robots.txt under PREGON_PUBLIC_URL.
	news, err := newsroom.New(p.cfg.Newsroom, p.cfg.PublicURL, p.store, p.renderer, p.now, p.log.With("part", "newsroom"))
	if err != nil {
		return nil, err
	}
	// Telegram (issue 11): /readyz and enabling a channel check the bot.
	tg, err := telegramChecker(p.cfg, p.log)
	if err != nil {
		return nil, err
	}
	h, err := api.New(api.Config{Newsroom: news, Telegram: tg, Store: p.store, Sender: p.service, Previewer: p.renderer, Audit: p.store, Logger: p.log, Now: p.now,
		Links: p.links, Limiter: &ratelimit.PerClient{L: p.limiter, Burst: ratelimit.ClientBurst}, TrustedProxies: p.cfg.TrustedProxies,
		Metrics: p.apiMetrics(), Monitoring: monitoringHandler(p.store.Client(), p.cfg.MonitoringWrite),
		RequireApproval: p.cfg.RequireApproval, Tester: p.service, Timezone: p.renderer.Location().String(),
		LinkChecker: linkcheck.New(p.cfg.Checks.Links), Idempotency: p.store, Progress: p.store,
		Optin:    &api.Optin{Store: p.store, Queue: p.queue, MaxMailsPerAddress: p.cfg.ConfirmMailsPerDay},
		Webhooks: p.webhooks, Notifier: p.webhooks,
		Suppressions: p.store, Bounces: p.store, BounceProviders: p.cfg.BounceProviders, // bounces and complaints
		// lifecycle: audit entries name addresses by a keyed hash; the
		// checklist's dns check.
		EmailHasher: p.links, DNS: dnsChecker(p.cfg),
		TelegramWebhook: p.telegramWebhook(), // followers via the bot
		Attachments:     p.cfg.Attachments,   // attachments (issue 10 item 5)
		// erasure on request (issue 14 item 5)
		Erasure: erasure{p.store, p.queue, p.log}, ErasureUnavailable: func(err error) bool { return errors.Is(err, store.ErrNoErasureKey) },
	})
	if err != nil {
		return nil, err
	}
	ln, err := net.Listen("tcp", p.cfg.HTTPAddr)
	if err != nil {
		return nil, fmt.Errorf("PREGON_HTTP_ADDR: %w", err)
	}
	// Web app for coordinators (issue 14): GET / and /app/ (package web);
	// people act through the API in process, under their own names.
	app, err := web.New(web.Config{Store: p.store, API: h.People(), Limiter: &ratelimit.PerClient{L: p.limiter, Burst: ratelimit.ClientBurst},
		PublicURL: p.cfg.PublicURL, TrustedProxies: p.cfg.TrustedProxies, RequireApproval: p.cfg.RequireApproval,
		Logger: p.log.With("part", "web"), Now: p.now, Renderer: p.renderer})
	if err != nil {
		return nil, err
	}
	srv := api.NewHTTPServer(p.cfg.HTTPAddr, app.Mount(h))
	p.log.Info("api listening", "addr", ln.Addr().String(), "public_url", p.cfg.PublicURL)
	go func() {
		if err := srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- err
		}
	}()
	return srv, nil
}

// apiMetrics is /metrics on the API address, for admin tokens, unless
// PREGON_METRICS_ADDR serves it.
func (p *parts) apiMetrics() http.Handler {
	if p.cfg.MetricsAddr != "" {
		return nil
	}
	return p.metrics.Handler()
}

// startWorkers starts the queue's workers and the sweeper, which runs until
// ctx ends.
func (p *parts) startWorkers(ctx context.Context) (*queue.Server, error) {
	workers := queue.NewServer(p.store.Client(), queue.Config{Concurrency: p.cfg.Concurrency, RetryBase: p.cfg.RetryBase, Logger: p.log}, p.service)
	workers.HandleTests(p.service)
	if p.optin != nil {
		workers.HandleConfirmations(p.optin) // optin
	}
	workers.HandleWebhooks(p.webhooks)
	if err := workers.Start(); err != nil {
		return nil, err
	}
	p.log.Info("workers started", "concurrency", p.cfg.Concurrency)
	go p.service.RunSweeper(ctx, min(max(p.cfg.ClaimTimeout/4, time.Second), 30*time.Second))
	// Retention: archive the deliveries of releases final for PREGON_RETENTION,
	// one process at a time (a lease in Redis).
	if p.cfg.Retention > 0 {
		arch, err := retention.New(retention.Config{Store: p.store, Retention: p.cfg.Retention,
			Owner: dispatcher.NewWorkerID(), Logger: p.log})
		if err != nil {
			return nil, err
		}
		go arch.Run(ctx)
	}
	return workers, nil
}

// startPprof serves Go's profiles on addr; a failure to serve is sent on errc.
func startPprof(addr string, log *slog.Logger, errc chan<- error) *http.Server {
	srv := &http.Server{Addr: addr, Handler: pprofMux(), ReadHeaderTimeout: 10 * time.Second}
	log.Warn("pprof profiling endpoint enabled: keep it off public networks", "addr", addr)
	go func() {
		if err := srv.ListenAndServe(); err != nil && !errors.Is(err, http.ErrServerClosed) {
			errc <- fmt.Errorf("PREGON_PPROF_ADDR: %w", err)
		}
	}()
	return srv
}

// openLinks returns the signer of the links in messages (one-click
// unsubscribe), keyed with PREGON_SECRET, or when it is not set with a
// random secret shared through Redis, with a warning: links then work only
// as long as that Redis key does.
func openLinks(ctx context.Context, cfg *config, st *store.Store, log *slog.Logger, now func() time.Time) (*links.Signer, error) {
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
	// Erasure on request: the same secret keys the hashes that stand for
	// erased addresses; another secret would no longer recognise them.
	st.SetErasureSecret(secret)
	if err := st.CheckErasureKey(ctx); err != nil {
		log.Error("erased addresses are not recognised: they could be mailed again", "error", err)
	}
	return links.New(secret, cfg.PublicURL, now, 0)
}

func domainOf(addr string) string {
	if i := strings.LastIndexByte(addr, '@'); i >= 0 && i < len(addr)-1 {
		return addr[i+1:]
	}
	return "pregon.local"
}
