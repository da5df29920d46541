package dispatcher

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
