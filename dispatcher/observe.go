package dispatcher

// Observer is told of what happens to deliveries, for metrics. Its methods
// are called from the workers, concurrently, and must return quickly.
type Observer interface {
	// DeliveryRecorded is called once a delivery's outcome (sent, failed,
	// uncertain or retrying) has been recorded.
	DeliveryRecorded(ch ChannelKind, status DeliveryStatus)
	// DeliveryRetrying is called when a send failed with err and the
	// delivery will be tried again.
	DeliveryRetrying(ch ChannelKind, err error)
}

// noObserver is the Observer of a Config without one.
type noObserver struct{}

func (noObserver) DeliveryRecorded(ChannelKind, DeliveryStatus) {}
func (noObserver) DeliveryRetrying(ChannelKind, error)          {}

// observer returns the configured Observer, or one that ignores everything.
func (s *Service) observer() Observer {
	if s.cfg.Observer == nil {
		return noObserver{}
	}
	return s.cfg.Observer
}
