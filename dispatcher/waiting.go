package dispatcher

import (
	"sync"
	"time"
)

// DefaultMaxWaiting is Config.MaxWaiting's default.
const DefaultMaxWaiting = 2000

// WaitingObserver is told how many paced Telegram posts wait for their
// turns in this process, and of those put off because as many as
// Config.MaxWaiting already did. A Config.Observer that is one is told;
// its methods must return quickly.
type WaitingObserver interface {
	// PostsWaiting is called when the number of posts waiting changes.
	PostsWaiting(n, max int)
	// PostsDeferred is called with the number of deliveries left queued,
	// unclaimed, to be tried again later.
	PostsDeferred(n int)
}

// waitingPosts counts the paced posts of one process that are on their way
// (claimed, their parts waiting for their turns), up to a cap.
type waitingPosts struct {
	mu  sync.Mutex
	n   int
	max int
	obs WaitingObserver // nil: none
}

// take takes a place for one post, before its delivery is claimed. It
// reports false, taking nothing, when the cap is reached.
func (w *waitingPosts) take() bool {
	w.mu.Lock()
	defer w.mu.Unlock()
	if w.n >= w.max {
		return false
	}
	w.n++
	w.observeLocked()
	return true
}

// release gives back a place taken.
func (w *waitingPosts) release() {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.n--
	w.observeLocked()
}

// count returns the posts waiting now.
func (w *waitingPosts) count() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.n
}

func (w *waitingPosts) observeLocked() {
	if w.obs != nil {
		w.obs.PostsWaiting(w.n, w.max)
	}
}

// deferDelay is how long deliveries put off at the cap stay queued before
// their task comes back: about the time the posts waiting take to make room
// at Telegram's 30 messages a second, at least a second.
func (s *Service) deferDelay() time.Duration {
	return max(time.Second, time.Duration(s.waiting.count())*time.Second/30)
}

// deferred counts n deliveries put off at the cap.
func (s *Service) deferred(n int) {
	if s.waiting.obs != nil {
		s.waiting.obs.PostsDeferred(n)
	}
}

// pacedBatch reports whether the deliveries of b, of release rel, are
// paced posts (see Service.paced), each of which takes a waiting place.
func (s *Service) pacedBatch(rel *Release, b Batch) bool {
	return b.Channel == ChannelTelegram && s.paced(rel, &Claimed{Delivery: Delivery{Channel: ChannelTelegram}})
}
