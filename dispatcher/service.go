package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"
)

// Queue enqueues the dispatcher's tasks.
type Queue interface {
	// EnqueueDispatch enqueues a release's dispatch at at; idempotent.
	EnqueueDispatch(ctx context.Context, releaseID string, at time.Time) error
	// EnqueueBatches enqueues one delivery task per batch, to run after delay.
	EnqueueBatches(ctx context.Context, bs []Batch, delay time.Duration) error
}

// Renderer renders a release for each channel.
type Renderer interface {
	// Email renders the email everyone gets: no embargo line.
	Email(rel *Release, lang string) (*EmailContent, error)
	// EmbargoedEmail renders the early lists' email: Email under the
	// release's embargo line.
	EmbargoedEmail(rel *Release, lang string) (*EmailContent, error)
	// Telegram renders the posts of a channel: no embargo line, ever.
	Telegram(rel *Release, lang string) ([]string, error)
}

// Config sets up a Service. Zero values get the defaults documented here.
type Config struct {
	Store    Store
	Queue    Queue
	Renderer Renderer
	Email    EmailSender
	Telegram TelegramSender
	Logger   *slog.Logger
	// Now is the clock (default time.Now).
	Now func() time.Time
	// MaxAttempts is how many times a delivery is tried before it fails (default 5).
	MaxAttempts int
	// RetryBase is the delay before a delivery's first retry (default 30s);
	// later ones double, with jitter.
	RetryBase time.Duration
	// Backoff computes the delay before attempt n+1 (default: RetryBase·2^(n-1)).
	Backoff func(base time.Duration, n int) time.Duration
	// BatchSize is how many email deliveries one task carries (default 100).
	BatchSize int
	// ClaimTimeout is how long a delivery may stay "sending" without its
	// claim being renewed before another worker may take it, on the grounds
	// that its worker lost it (default 2m). A worker whose liveness key has
	// gone (see LivenessTTL) loses its claims at once.
	ClaimTimeout time.Duration
	// ClaimAhead is how many email deliveries of a batch a worker claims in
	// one round trip (default 8; 1 claims each with the previous outcome).
	// They are still sent one at a time, each outcome recorded before the
	// next send, so that a crash leaves at most the delivery in flight
	// possibly sent and unrecorded; the others wait claimed (renewed, see
	// ClaimTimeout) and are handed back unsent on shutdown or when the
	// release is cancelled.
	ClaimAhead int
	// WorkerID names this process in the claims it makes (default
	// NewWorkerID()): unique per process start. The dispatcher does not add
	// it to its log lines: give it a Logger that carries it (serve adds
	// "worker" to every line of a worker process).
	WorkerID string
	// LivenessTTL is how long this worker's liveness key lives in Redis
	// without renewal (default 10s; it is renewed every third of it, see
	// StartHeartbeat). Once it has gone, the worker is taken for dead and its
	// deliveries in flight are taken over, whatever ClaimTimeout is; so a
	// live worker cut from Redis for longer than this may see a delivery it
	// was sending sent again by another.
	LivenessTTL time.Duration
	// MessageIDDomain is the right-hand side of generated Message-IDs (default "pregon.local").
	MessageIDDomain string
	// Links, when set, makes the one-click unsubscribe link of each email
	// (List-Unsubscribe and List-Unsubscribe-Post headers, RFC 8058).
	Links Links
	// Observer, when set, is told of deliveries' outcomes (for metrics).
	Observer Observer
	// RequireApproval makes Send refuse a release (a *ConflictError with
	// ConflictUnapproved) until a coordinator other than its author has
	// approved its current version (PREGON_REQUIRE_APPROVAL).
	RequireApproval bool
	// Tests keeps test sends and TestQueue enqueues them (see StartTest);
	// without them, test sends answer ErrNoTests.
	Tests     TestStore
	TestQueue TestQueue
	// Notifier, when set, is told of the events webhooks subscribe to:
	// release.scheduled, release.sent, release.sent_with_failures and
	// delivery.failed (see notify.go).
	Notifier Notifier
	// Permalink, when set, returns the link to the full text of a release
	// in a language that summary posts give (the newsroom's page of it);
	// "" (or a nil Permalink) means the release's source URL. See
	// FullTextLink.
	Permalink func(rel *Release, lang string) string
	// Channels, when set, keeps the health of Telegram channels: a post
	// to a channel that is not active is skipped, and one that finds the
	// bot gone (ErrChatUnavailable) marks its channel unavailable. Nil
	// means Store, when it implements TelegramChannels.
	Channels TelegramChannels
	// Followers lists the bot's followers, for releases whose audiences
	// include telegram_followers; nil means Store, when it implements
	// FollowerStore (followers.go).
	Followers FollowerStore
	// TelegramPacer, when set, paces the parts of Telegram posts: each
	// part takes its turn ahead of time and waits for it without holding a
	// worker, and the post goes on at that turn (see pace.go). Without it,
	// a post's parts are sent in one call to Telegram, whose own limiter,
	// if any, waits.
	TelegramPacer TelegramPacer
	// MaxWaiting caps the paced Telegram posts this process has on their
	// way at once (default DefaultMaxWaiting): each keeps its delivery
	// claimed, its claim renewed, until its last part goes. At the cap, the
	// rest of a task's deliveries stay queued, unclaimed, and come back
	// later (waiting.go).
	MaxWaiting int
}

// Links makes signed links to Pregón's public pages.
type Links interface {
	// UnsubscribeURL returns the link that unsubscribes email from
	// everything Pregón sends, for a message of release releaseID.
	UnsubscribeURL(email, releaseID string) string
}

// Service plans releases into deliveries and delivers them.
type Service struct {
	cfg      Config
	log      *slog.Logger
	content  *contentCache
	inflight sync.WaitGroup // Deliver calls running
	held     holding        // deliveries claimed by this process, not yet recorded
	channels TelegramChannels
	// stopping is closed by Drain: posts waiting for their next part's
	// turn are handed back.
	stopping chan struct{}
	stopOnce sync.Once
	waiting  waitingPosts // paced posts on their way (waiting.go)
}

// NewService returns a Service, or an error when a required part is missing.
func NewService(cfg Config) (*Service, error) {
	if cfg.Store == nil || cfg.Queue == nil {
		return nil, errors.New("dispatcher: Store and Queue are required")
	}
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.MaxAttempts <= 0 {
		cfg.MaxAttempts = 5
	}
	if cfg.RetryBase <= 0 {
		cfg.RetryBase = 30 * time.Second
	}
	if cfg.Backoff == nil {
		cfg.Backoff = func(base time.Duration, n int) time.Duration { return base << min(n-1, 16) }
	}
	if cfg.BatchSize <= 0 {
		cfg.BatchSize = 100
	}
	if cfg.ClaimTimeout <= 0 {
		cfg.ClaimTimeout = 2 * time.Minute
	}
	if cfg.ClaimAhead <= 0 {
		cfg.ClaimAhead = 8
	}
	if cfg.WorkerID == "" {
		cfg.WorkerID = NewWorkerID()
	}
	if cfg.LivenessTTL <= 0 {
		cfg.LivenessTTL = 10 * time.Second
	}
	if cfg.MessageIDDomain == "" {
		cfg.MessageIDDomain = "pregon.local"
	}
	if cfg.Channels == nil {
		cfg.Channels, _ = cfg.Store.(TelegramChannels)
	}
	if cfg.MaxWaiting <= 0 {
		cfg.MaxWaiting = DefaultMaxWaiting
	}
	s := &Service{cfg: cfg, log: cfg.Logger, content: newContentCache(64), channels: cfg.Channels,
		stopping: make(chan struct{})}
	s.waiting.max = cfg.MaxWaiting
	if s.waiting.obs, _ = cfg.Observer.(WaitingObserver); s.waiting.obs != nil {
		s.waiting.obs.PostsWaiting(0, s.waiting.max)
	}
	return s, nil
}

// Send schedules a draft release for dispatch at at (now when at is nil or
// in the past). A release under embargo is dispatched at the lift, except
// that one with early lists sends their members the embargoed copy first:
// at at when that is before the embargo, at once when at is nil. It is
// idempotent: a release already scheduled, sending or sent is returned as
// it is, and nothing is sent again. A cancelled release gives ErrConflict,
// and so does an at before the embargo of a release without early lists,
// and a draft with no audience;
// with Config.RequireApproval, a draft whose current version is not
// approved gives a *ConflictError.
func (s *Service) Send(ctx context.Context, id string, at *time.Time) (*Release, error) {
	return s.SendVersion(ctx, id, at, 0)
}

// SendVersion is Send for a draft that must still be at version (0: any),
// such as the version whose pre-send checks passed: a draft edited since
// is not scheduled, and gives a *ConflictError with ConflictVersion. The
// version is compared in the step that schedules, so no edit can come in
// between.
func (s *Service) SendVersion(ctx context.Context, id string, at *time.Time, version int) (*Release, error) {
	return s.send(ctx, id, at, version, s.cfg.RequireApproval)
}

// send is SendVersion, asking for approval when requireApproval.
func (s *Service) send(ctx context.Context, id string, at *time.Time, version int, requireApproval bool) (*Release, error) {
	rel, err := s.cfg.Store.Release(ctx, id)
	if err != nil {
		return nil, err
	}
	if rel.Status == ReleaseCancelled {
		return nil, fmt.Errorf("release %s is cancelled: %w", id, ErrConflict)
	}
	// A draft may be saved before its audience is chosen; it goes nowhere
	// until it has one. (A correction has none of its own: it goes to
	// those who got the release.)
	if rel.Status == ReleaseDraft && rel.CorrectionOf == nil && rel.Audiences.None() {
		return nil, fmt.Errorf("release %s has no audience: add a list or a Telegram channel (or the bot's followers) before sending it: %w", id, ErrConflict)
	}
	// No at may give an embargoed release to its public audiences before
	// the embargo; with early lists, an at before it is the early tier's.
	if at != nil && rel.EmbargoUntil != nil && at.Before(*rel.EmbargoUntil) && len(rel.Audiences.EarlyLists) == 0 {
		return nil, fmt.Errorf("release %s is under embargo until %s: at (%s) must be at or after it, or omitted: %w",
			id, rel.EmbargoUntil.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339), ErrConflict)
	}
	var asked time.Time
	if at != nil {
		asked = *at
	}
	rel, when, err := s.cfg.Store.ScheduleSend(ctx, id, dueTime(rel, asked, false, s.cfg.Now()), asked, requireApproval, version)
	if err != nil {
		return nil, err
	}
	if rel.Status != ReleaseScheduled {
		return rel, nil
	}
	// Scheduled, by this call or an earlier one whose enqueue may have been
	// lost: enqueue again. The queue drops a second copy of a waiting dispatch.
	if err := s.cfg.Queue.EnqueueDispatch(ctx, id, when); err != nil {
		return nil, err
	}
	s.log.Info("release scheduled", "release_id", id, "at", when)
	s.notifyScheduled(ctx, rel, when)
	return rel, nil
}

// Reschedule works out again when the dispatch of a scheduled release is
// due (from the at it was sent with, its embargo, and whether its early
// tier is out; see dueTime), records it as the release's scheduled_at and
// enqueues the dispatch then. Call it after changing the embargo of a
// scheduled release: a dispatch enqueued for the old time finds the
// release not due and enqueues itself for the new one, or finds it gone
// and does nothing; nothing already sent is sent again. A release in
// another status is returned as it is.
func (s *Service) Reschedule(ctx context.Context, id string) (*Release, error) {
	rel, err := s.cfg.Store.Release(ctx, id)
	if err != nil {
		return nil, err
	}
	if rel.Status != ReleaseScheduled {
		return rel, nil
	}
	a, err := s.cfg.Store.Activity(ctx, id)
	if err != nil {
		return nil, err
	}
	due := dueTime(rel, a.Asked, a.Early, s.cfg.Now())
	st, err := s.cfg.Store.SetSchedule(ctx, id, due, false)
	if err != nil {
		return nil, err
	}
	if st == ReleaseScheduled {
		if err := s.cfg.Queue.EnqueueDispatch(ctx, id, due); err != nil {
			return nil, err
		}
		s.log.Info("release rescheduled", "release_id", id, "at", due, "early_out", a.Early)
	}
	return s.cfg.Store.Release(ctx, id)
}

// Cancel stops a release: a scheduled one is never dispatched (nor, when its
// early tier is out, lifted: its early deliveries still pending are
// cancelled), and a sending one sends nothing more (deliveries already
// handed to a provider finish).
// It returns ErrConflict for a release that has been sent.
func (s *Service) Cancel(ctx context.Context, id string) (*Release, error) {
	st, err := s.cfg.Store.SetReleaseStatus(ctx, id, ReleaseCancelled, ReleaseDraft, ReleaseScheduled, ReleaseSending)
	if err != nil {
		return nil, err
	}
	if st != ReleaseCancelled {
		return nil, fmt.Errorf("release %s is %s: %w", id, st, ErrConflict)
	}
	n := 0
	err = s.eachDeliveryPage(ctx, id, func(ids []string) error {
		moved, err := s.cfg.Store.Transition(ctx, id, ids, DeliveryCancelled, DeliveryQueued, DeliveryRetrying)
		n += len(moved)
		return err
	})
	if err != nil {
		return nil, err
	}
	s.log.Info("release cancelled", "release_id", id, "deliveries_cancelled", n)
	return s.cfg.Store.Release(ctx, id)
}

// Retry queues the failed deliveries of a release again and returns how
// many. Each page of deliveries is moved and the release set sending again
// in one step, only when something moved: two calls that interleave cannot
// leave a release sending with nothing pending.
func (s *Service) Retry(ctx context.Context, id string) (int, error) {
	rel, err := s.cfg.Store.Release(ctx, id)
	if err != nil {
		return 0, err
	}
	if rel.Status == ReleaseCancelled || rel.Status == ReleaseDraft || rel.Status == ReleaseScheduled {
		return 0, fmt.Errorf("release %s is %s: %w", id, rel.Status, ErrConflict)
	}
	if rel.Counts == nil || rel.Counts.ByStatus[DeliveryFailed] == 0 {
		return 0, nil
	}
	n := 0
	err = s.eachDeliveryPage(ctx, id, func(ids []string) error {
		moved, err := s.cfg.Store.RequeueFailed(ctx, id, ids)
		if err != nil {
			return err
		}
		n += len(moved)
		return s.enqueueRefs(ctx, id, moved, 0)
	})
	if err != nil {
		return n, err
	}
	s.log.Info("failed deliveries requeued", "release_id", id, "count", n)
	return n, nil
}

// eachDeliveryPage calls fn with each page of a release's delivery ids.
func (s *Service) eachDeliveryPage(ctx context.Context, rid string, fn func(ids []string) error) error {
	return eachPage(func(cursor string) ([]string, string, error) {
		return s.cfg.Store.DeliveryIDs(ctx, rid, cursor, 1000)
	}, fn)
}

// eachPage calls fn with each page that page answers for a cursor ("" for
// the first), following the next cursor until it is "", and stops at the
// first error of either.
func eachPage[T any](page func(cursor string) ([]T, string, error), fn func([]T) error) error {
	cursor := ""
	for {
		items, next, err := page(cursor)
		if err != nil {
			return err
		}
		if err := fn(items); err != nil {
			return err
		}
		if next == "" {
			return nil
		}
		cursor = next
	}
}

// enqueueRefs enqueues deliveries of a release in batches of one channel
// each, to run after delay.
func (s *Service) enqueueRefs(ctx context.Context, rid string, refs []Ref, delay time.Duration) error {
	if len(refs) == 0 {
		return nil
	}
	var bs []Batch
	byCh := map[ChannelKind]int{} // index in bs of the channel's open batch
	for _, r := range refs {
		i, ok := byCh[r.Channel]
		if !ok || len(bs[i].IDs) >= s.cfg.BatchSize {
			bs = append(bs, Batch{ReleaseID: rid, Channel: r.Channel})
			i = len(bs) - 1
			byCh[r.Channel] = i
		}
		bs[i].IDs = append(bs[i].IDs, r.ID)
	}
	return s.cfg.Queue.EnqueueBatches(ctx, bs, delay)
}
