package dispatcher

// FailureLogMax is how many failures a release's failure log keeps: the
// first ones, in the order they happened. A release with more says so once,
// after them (see Failure.More), rather than growing without bound when a
// whole list bounces.
const FailureLogMax = 1000

// Failure is one entry of a release's failure log: a delivery that ended
// failed or uncertain, as it was at that moment (a later retry changes the
// delivery, not the entry). It feeds the live progress of a release.
type Failure struct {
	// Seq is the entry's position in the log: opaque, increasing, and the
	// point to read on from after a reconnection.
	Seq string
	// Delivery holds the delivery's id, channel, recipient, language,
	// status, attempts, last error and the time it failed (UpdatedAt).
	// Nil in the entry that only says More.
	Delivery *Delivery
	// More marks the entry that ends a full log: more deliveries failed
	// than FailureLogMax, and the others are not in the log.
	More bool
}
