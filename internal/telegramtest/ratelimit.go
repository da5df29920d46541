package telegramtest

import "time"

// window is a sliding-window rate limit: at most limit events in any span of
// size. It keeps the times of the events still inside the window.
type window struct {
	limit int
	size  time.Duration
	times []time.Time // oldest first
}

// wait returns how long from now until one more event fits, 0 if it fits now.
func (w *window) wait(now time.Time) time.Duration {
	if w.limit <= 0 {
		return 0
	}
	cut := 0
	for cut < len(w.times) && !w.times[cut].After(now.Add(-w.size)) {
		cut++
	}
	w.times = w.times[cut:]
	if len(w.times) < w.limit {
		return 0
	}
	return w.times[len(w.times)-w.limit].Add(w.size).Sub(now)
}

// add records an event at now.
func (w *window) add(now time.Time) {
	if w.limit > 0 {
		w.times = append(w.times, now)
	}
}

// retryAfter is d in whole seconds, rounded up, at least 1: what Telegram puts
// in retry_after.
func retryAfter(d time.Duration) int {
	s := int((d + time.Second - 1) / time.Second)
	return max(s, 1)
}

// waitN returns how long from now until n more events fit, 0 if they fit
// now (a long wait when n is more than the limit).
func (w *window) waitN(now time.Time, n int) time.Duration {
	if w.limit <= 0 || n <= 1 {
		return w.wait(now)
	}
	w.wait(now) // drops the events out of the window
	if n > w.limit {
		return w.size * time.Duration(n)
	}
	if len(w.times)+n <= w.limit {
		return 0
	}
	return w.times[len(w.times)+n-w.limit-1].Add(w.size).Sub(now)
}

// spacing is the time between two events of a window spread evenly.
func (w *window) spacing() time.Duration {
	if w.limit <= 0 {
		return 0
	}
	return w.size / time.Duration(w.limit)
}
