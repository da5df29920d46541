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

// Busy is a delivery that another worker holds: it is sending, and its claim
// is not stale yet.
type Busy struct {
	ID        string
	ClaimedAt time.Time
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
