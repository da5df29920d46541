package dispatcher

import "time"

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
	// ClaimedAt, when set, is the claim the outcome belongs to: it is not
	// recorded over another worker's later claim.
	ClaimedAt time.Time
}

// DeliveryFilter narrows a listing of deliveries; zero fields match all.
type DeliveryFilter struct {
	Status  DeliveryStatus
	Channel ChannelKind
}

// Batch is a set of deliveries of one release through one channel, handled
// by one task. Each delivery in it succeeds, fails or is retried on its own.
type Batch struct {
	ReleaseID string      `json:"r"`
	Channel   ChannelKind `json:"c"`
	IDs       []string    `json:"ids"`
	// NotBefore, when set, is the Unix time in milliseconds before which
	// the batch must not be sent (e.g. a provider's retry-after).
	NotBefore int64 `json:"nb,omitempty"`
}

// Activity is what the sweeper needs to know of a release.
type Activity struct {
	Status   ReleaseStatus
	Last     time.Time // when its deliveries last changed
	Snapshot bool      // whether its recipients were all planned
	Pending  int64
}
