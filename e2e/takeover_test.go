package e2e

import (
	"testing"
	"time"
)

// TestKill9TakeoverBeforeClaimTimeout kills a worker (SIGKILL) a third of
// the way into a release while PREGON_CLAIM_TIMEOUT is 10 minutes, and
// starts another: the dead worker's deliveries in flight are taken over as
// soon as its liveness key expires (10 s), not when its claims go stale, so
// the release is sent well within the test's 60 s (without the takeover it
// would take the 10 minutes). Nothing is lost, and only deliveries in flight
// at the kill may be received twice. The seconds from the kill to `sent` are
// logged, not asserted.
func TestKill9TakeoverBeforeClaimTimeout(t *testing.T) {
	s := newStack(t, withEnv("PREGON_CLAIM_TIMEOUT", "10m"))
	rid, addrs, k := s.kill9MidRelease("t", "Prensa relevo")
	s.startWorker()
	s.waitFinal(rid, 60*time.Second)
	took := time.Since(k.at)
	tl := checkAllSent(t, s, rid, addrs, 10*time.Second)
	k.checkDuplicates(t, tl)
	t.Logf("FIGURES takeover-kill9: %s claim_timeout=10m in_flight_at_kill=%d received_at_kill=%d kill_to_sent=%.1fs duplicated_addrs=%s",
		tl, len(k.inFlight), k.received, took.Seconds(), short(tl.dupAddrs))
}
