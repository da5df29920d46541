package dispatcher

// What the dispatcher needs from storage: the Store interface and the types
// that travel through it (claims, outcomes, references to deliveries, the
// sweeper's rules and readings). They are the storage protocol, not the
// domain, which is in domain.go.

import (
	"context"
	"time"
)

// Store is what the dispatcher needs from storage: releases and their
// deliveries, the claims that let one worker at a time send a delivery, and
// what the sweeper reads to find deliveries no task will move on. The Redis
// implementation is store.Store; mock.Store and mock.MemStore fake it.
type Store interface {
	Release(ctx context.Context, id string) (*Release, error)
	Channel(ctx context.Context, id string) (*TelegramChannel, error)
	ScheduleSend(ctx context.Context, id string, at, asked time.Time, requireApproval bool, version int) (*Release, time.Time, error)
	SetSchedule(ctx context.Context, id string, at time.Time, early bool) (ReleaseStatus, error)
	EarlyPlanned(ctx context.Context, id string) error
	SetReleaseStatus(ctx context.Context, id string, to ReleaseStatus, from ...ReleaseStatus) (ReleaseStatus, error)
	SnapshotComplete(ctx context.Context, id string) (bool, error)
	SnapshotDone(ctx context.Context, id string) (ReleaseStatus, error)
	Members(ctx context.Context, listID, cursor string, limit int) ([]Member, string, error)
	Suppressed(ctx context.Context, emails []string) ([]bool, error)
	CreateDeliveries(ctx context.Context, rid string, ds []*Delivery) ([]string, error)
	DeliveryIDs(ctx context.Context, rid, cursor string, limit int) ([]string, string, error)
	FinishAndClaimBy(ctx context.Context, rid, worker string, outs []Outcome, ids []string, staleBefore time.Time) ([]*Claimed, []Busy, error)
	// FinishBy records outcomes as FinishAndClaimBy does, and returns the
	// release's status after them.
	FinishBy(ctx context.Context, rid, worker string, outs []Outcome) (ReleaseStatus, error)
	RenewClaim(ctx context.Context, rid, id string, claimedAt time.Time) (time.Time, bool, error)
	Transition(ctx context.Context, rid string, ids []string, to DeliveryStatus, from ...DeliveryStatus) ([]string, error)
	RequeueFailed(ctx context.Context, rid string, ids []string) ([]Ref, error)
	MarkActive(ctx context.Context, rid string) error
	UnmarkActive(ctx context.Context, rid string) error
	ActiveReleases(ctx context.Context) ([]string, error)
	Activity(ctx context.Context, rid string) (Activity, error)
	Stalled(ctx context.Context, rid, cursor string, limit int, rule StallRule) ([]Ref, string, error)
	TryLock(ctx context.Context, name string, ttl time.Duration) (bool, error)
	Heartbeat(ctx context.Context, worker string, ttl time.Duration) error
	Leave(ctx context.Context, worker string) error
	DeadWorkers(ctx context.Context, self string) ([]string, time.Time, error)
	ForgetWorkers(ctx context.Context, workers []string) error
}

// Member is a list member as planning a release needs it.
type Member struct {
	Email    string
	Name     string
	Language string
}

// Claimed is a delivery taken for sending by one worker.
type Claimed struct {
	Delivery
	// RoundAttempts counts attempts since the delivery was last (re)queued.
	RoundAttempts int
	// ClaimedAt is the time of this claim, which identifies it.
	ClaimedAt time.Time
}

// Busy is a delivery that another worker holds: it is sending, its claim
// is not stale yet, and its worker is alive.
type Busy struct {
	ID        string
	Channel   ChannelKind
	ClaimedAt time.Time
	// Worker names the worker that holds it ("" for a claim made before
	// claims named their worker).
	Worker string
}

// Ref names one delivery of a release and its channel, so that a task can
// be enqueued on the channel's own queue.
type Ref struct {
	ID      string
	Channel ChannelKind
}

// StallRule says which deliveries of a release the sweeper takes as stalled,
// that is, as moved on by no task any more.
type StallRule struct {
	// Queued takes queued deliveries.
	Queued bool
	// ClaimedBefore takes sending deliveries claimed before it (stale claims).
	ClaimedBefore time.Time
	// DeadWorkers takes sending deliveries claimed by these workers, whose
	// liveness key has gone.
	DeadWorkers []string
	// RetryDueBefore takes retrying deliveries due before it; those without a
	// due time are taken when last changed before RetryChangedBefore.
	RetryDueBefore, RetryChangedBefore time.Time
}

// Outcome is the result of sending one claimed delivery.
type Outcome struct {
	ID         string
	Status     DeliveryStatus
	Error      string
	MessageIDs []string
	// RetryAt is when a retrying delivery is due again.
	RetryAt time.Time
	// Bounce, when set, is the bounce the send met (Bounce.At is set by
	// the store): a hard bounce also suppresses the address.
	Bounce *Bounce
	// ClaimedAt, when set, is the claim the outcome belongs to: it is not
	// recorded over another worker's later claim.
	ClaimedAt time.Time
	// Parts is how many parts a Telegram post has (0: not known).
	Parts int
}

// Activity is what the sweeper, and a dispatch, need to know of a release.
type Activity struct {
	Status ReleaseStatus
	Last   time.Time // when its deliveries last changed
	// Snapshot is whether its recipients were all planned; for a scheduled
	// release, whether the members of its early lists were.
	Snapshot bool
	Pending  int64
	// Early is whether its early tier is out: the members of its early
	// lists are being, or were, given the embargoed copy.
	Early bool
	// Asked is the time Send was asked to send it at (zero: none).
	Asked time.Time
}
