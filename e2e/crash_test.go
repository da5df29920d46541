package e2e

import (
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/internal/smtptest"
)

// crashRecipients is the size of the crash tests' release.
const crashRecipients = 5000

// tally is what a crash test reports.
type tally struct {
	recipients int
	sent       int
	lost       int // addresses that received nothing
	duplicated int // emails beyond the first, over all addresses
	uncertain  int
	dupAddrs   []string
}

func (tl tally) String() string {
	return fmt.Sprintf("recipients=%d sent=%d lost=%d duplicated=%d uncertain=%d", tl.recipients, tl.sent, tl.lost, tl.duplicated, tl.uncertain)
}

// received counts the messages the SMTP server accepted, per recipient.
func received(srv *smtptest.Server) map[string]int {
	got := map[string]int{}
	for _, m := range srv.Messages() {
		for _, to := range m.To {
			got[to]++
		}
	}
	return got
}

// checkAllSent waits for the release to finish and checks that it ended
// sent, with every delivery sent, every address received at least once,
// nothing received by anyone else, and counts that add up.
func checkAllSent(t *testing.T, s *stack, rid string, addrs []string, timeout time.Duration) tally {
	t.Helper()
	rel := s.waitFinal(rid, timeout)
	ds := s.deliveries(rid, "")
	checkCounts(t, rel, ds)
	got := received(s.smtp)
	tl := tally{recipients: len(addrs)}
	want := map[string]bool{}
	for _, a := range addrs {
		want[a] = true
		switch n := got[a]; {
		case n == 0:
			tl.lost++
		case n > 1:
			tl.duplicated += n - 1
			tl.dupAddrs = append(tl.dupAddrs, a)
		}
	}
	for a, n := range got {
		if !want[a] {
			t.Errorf("%s, not a recipient, received %d emails", a, n)
		}
	}
	notSent := map[string]int{}
	for _, d := range ds {
		switch d.Status {
		case "sent":
			tl.sent++
		case "uncertain":
			tl.uncertain++
		}
		if d.Status != "sent" {
			notSent[d.Status]++
		}
	}
	if rel.Status != "sent" || len(notSent) > 0 {
		t.Errorf("release %s with %d deliveries not sent: %v", rel.Status, len(ds)-tl.sent, notSent)
	}
	if len(ds) != len(addrs) {
		t.Errorf("%d deliveries for %d recipients", len(ds), len(addrs))
	}
	if tl.lost > 0 {
		t.Errorf("%d recipients received nothing", tl.lost)
	}
	sort.Strings(tl.dupAddrs)
	return tl
}

// releaseAThird sends a release to n new addresses (prefix0…) on a new
// press list named list, and waits until a third of them have received it.
func (s *stack) releaseAThird(prefix, list string, n int) (rid string, addrs []string) {
	s.t.Helper()
	addrs = recipients(prefix, n)
	lid := s.pressList(list, addrs)
	rid = s.sendRelease([]string{lid}, nil)
	s.smtp.WaitFor(s.t, n/3, 60*time.Second)
	return rid, addrs
}

// killed is what stood when a kill -9 test killed its worker.
type killed struct {
	at       time.Time
	received int64           // emails received by then
	inFlight map[string]bool // the recipients of the deliveries sending
}

// kill9MidRelease starts the API and a worker, sends a release to
// crashRecipients new addresses (prefix0…) on a new press list, and kills
// the worker with SIGKILL a third of the way in.
func (s *stack) kill9MidRelease(prefix, list string) (rid string, addrs []string, k killed) {
	s.t.Helper()
	s.startAPI()
	w := s.startWorker()
	rid, addrs = s.releaseAThird(prefix, list, crashRecipients)
	w.kill9(s.t)
	k = killed{at: time.Now(), received: s.smtp.Count(), inFlight: map[string]bool{}}
	// The deliveries the dead worker held: claimed, maybe sent, not recorded.
	for _, d := range s.deliveries(rid, "status=sending") {
		k.inFlight[d.Recipient] = true
	}
	return rid, addrs, k
}

// checkDuplicates checks that only deliveries in flight at the kill were
// received twice.
func (k killed) checkDuplicates(t *testing.T, tl tally) {
	t.Helper()
	if tl.duplicated > len(k.inFlight) {
		t.Errorf("%d emails received twice, more than the %d in flight at the kill", tl.duplicated, len(k.inFlight))
	}
	for _, a := range tl.dupAddrs {
		if !k.inFlight[a] {
			t.Errorf("%s received twice but was not in flight at the kill", a)
		}
	}
}

// TestCrashKill9Worker kills the worker with SIGKILL a third of the way into
// a release and starts a new one: everyone gets the release, and only
// deliveries that were in flight at the kill may be received twice.
func TestCrashKill9Worker(t *testing.T) {
	s := newStack(t)
	rid, addrs, k := s.kill9MidRelease("k", "Prensa kill -9")
	t.Logf("killed the worker after %d emails; %d deliveries were sending", k.received, len(k.inFlight))

	s.startWorker()
	tl := checkAllSent(t, s, rid, addrs, 90*time.Second)
	recovery := time.Since(k.at)
	k.checkDuplicates(t, tl)
	t.Logf("FIGURES crash-kill9: %s in_flight_at_kill=%d received_at_kill=%d kill_to_done=%s duplicated_addrs=%s",
		tl, len(k.inFlight), k.received, recovery.Round(100*time.Millisecond), short(tl.dupAddrs))
}

// TestCrashRedisRestart kills Redis (SIGKILL; AOF with appendfsync
// everysec) a third of the way into a release and starts it again on the
// same port after about 3 seconds: /readyz says 503 while Redis is away and
// 200 after, the service recovers by itself, and everyone gets the release.
func TestCrashRedisRestart(t *testing.T) { redisOutage(t, "crash-redis", 3*time.Second) }

// TestCrashRedisLongOutage is TestCrashRedisRestart with Redis away for
// 40 s, longer than the claim timeout and asynq's task lease: the worker
// keeps trying to record what it sent until Redis is back, and does not
// take over its own claims gone stale meanwhile. Nothing is lost; at most
// the deliveries in flight (one per worker slot) are received twice (none
// in the runs so far).
func TestCrashRedisLongOutage(t *testing.T) { redisOutage(t, "crash-redis-long", 40*time.Second) }

func redisOutage(t *testing.T, name string, outage time.Duration) {
	const concurrency = 8 // PREGON_CONCURRENCY: at most this many in flight
	s := newStack(t)
	serve := s.startServe()
	rid, addrs := s.releaseAThird("r", "Prensa Redis", crashRecipients)
	s.redis.Stop()
	stopped := time.Now()
	atStop := s.smtp.Count()

	// /readyz turns red, and stays red while Redis is away.
	waitFor(t, "/readyz to answer 503 with Redis down", 10*time.Second, 50*time.Millisecond, func() (bool, string) {
		code, err := s.readyz()
		return code == 503, fmt.Sprintf("readyz %d %v", code, err)
	})
	red := time.Since(stopped)
	checks := 0
	var slowest time.Duration
	waitFor(t, "the outage to last "+outage.String(), outage+10*time.Second, 100*time.Millisecond, func() (bool, string) {
		if time.Since(stopped) >= outage {
			return true, ""
		}
		start := time.Now()
		if code, err := s.readyz(); code != 503 {
			t.Errorf("readyz answered %d (%v) while Redis was down", code, err)
		}
		slowest = max(slowest, time.Since(start))
		checks++
		return false, ""
	})
	duringOutage := s.smtp.Count() - atStop

	s.redis.Restart(t)
	restarted := time.Now()
	waitFor(t, "/readyz to answer 200 after Redis is back", 30*time.Second, 50*time.Millisecond, func() (bool, string) {
		code, err := s.readyz()
		return code == 200, fmt.Sprintf("readyz %d %v", code, err)
	})
	green := time.Since(restarted)

	tl := checkAllSent(t, s, rid, addrs, 100*time.Second)
	done := time.Since(restarted)
	if !serve.running() {
		t.Errorf("pregon serve exited during the outage: %v", serve.err)
	}
	if tl.duplicated > concurrency {
		t.Errorf("%d emails received twice, more than the %d that can be in flight", tl.duplicated, concurrency)
	}
	t.Logf("FIGURES %s: %s received_at_stop=%d received_during_outage=%d outage=%s readyz_503_after=%s readyz_503_checks=%d readyz_slowest=%s readyz_200_after_restart=%s restart_to_done=%s record_retries_logged=%d tasks_failed=%d duplicated_addrs=%s",
		name, tl, atStop, duringOutage, restarted.Sub(stopped).Round(100*time.Millisecond), red.Round(time.Millisecond), checks, slowest.Round(time.Millisecond),
		green.Round(time.Millisecond), done.Round(100*time.Millisecond), logCount(serve, "cannot record outcomes; trying again"),
		logCount(serve, "task failed"), short(tl.dupAddrs))
}

// TestGracefulStopWorker stops the worker with SIGTERM a third of the way
// into a release and starts a new one: the stopped worker finishes or hands
// back what it holds and exits 0, no delivery is left sending, and nobody
// gets the release twice.
func TestGracefulStopWorker(t *testing.T) {
	// queue.Config's default ShutdownTimeout, which pregon worker uses.
	const shutdownTimeout = 10 * time.Second
	s := newStack(t)
	s.startAPI()
	w := s.startWorker()
	rid, addrs := s.releaseAThird("g", "Prensa SIGTERM", crashRecipients)
	atStop := s.smtp.Count()
	// It must exit: stop fails the test after its shutdown timeout (and the
	// drain that follows it) with room to spare. How long it took is a
	// figure, not asserted.
	code, took := w.stop(t, shutdownTimeout+10*time.Second)
	if code != 0 {
		t.Errorf("pregon worker exited %d after SIGTERM, want 0", code)
	}
	sending := s.deliveries(rid, "status=sending")
	if len(sending) > 0 {
		t.Errorf("%d deliveries left sending by a worker that stopped gracefully, e.g. %+v", len(sending), sending[0])
	}
	atExit := s.smtp.Count()
	handedBack := logCount(w, "delivery handed back")

	s.startWorker()
	tl := checkAllSent(t, s, rid, addrs, 90*time.Second)
	if tl.duplicated > 0 {
		t.Errorf("%d emails received twice after a graceful stop: %s", tl.duplicated, short(tl.dupAddrs))
	}
	t.Logf("FIGURES graceful-sigterm: %s sending_after_stop=%d handed_back=%d exit_code=%d stop_took=%s received_at_sigterm=%d received_at_exit=%d",
		tl, len(sending), handedBack, code, took.Round(time.Millisecond), atStop, atExit)
}

// short lists at most a few addresses.
func short(addrs []string) string {
	if len(addrs) == 0 {
		return "none"
	}
	if len(addrs) > 5 {
		return strings.Join(addrs[:5], ",") + fmt.Sprintf(",…(%d)", len(addrs))
	}
	return strings.Join(addrs, ",")
}

// TestCrashKill9WorkerWithRetries is TestCrashKill9Worker with an SMTP
// server that answers 451 to a fifth of the first attempts, so that the
// killed worker holds deliveries waiting for a retry. Nothing is lost, but
// the retries the killed worker had not enqueued yet (Deliver enqueues them
// at the end of its batch) wait for asynq to recover its task (a 30 s lease,
// checked every minute): the sweeper leaves retrying deliveries alone for
// two hours.
func TestCrashKill9WorkerWithRetries(t *testing.T) {
	s := newStack(t)
	s.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if attempt == 1 && chance(20, "451", rcpt, attempt) {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try again later"}
		}
		return nil
	})
	rid, addrs, k := s.kill9MidRelease("kr", "Prensa kill -9 con reintentos")
	retrying := len(s.deliveries(rid, "status=retrying"))
	s.startWorker()
	tl := checkAllSent(t, s, rid, addrs, 110*time.Second)
	took := time.Since(k.at)
	if tl.duplicated > len(k.inFlight) {
		t.Errorf("%d emails received twice, more than the %d in flight at the kill", tl.duplicated, len(k.inFlight))
	}
	t.Logf("FIGURES crash-kill9-retries: %s in_flight_at_kill=%d retrying_at_kill=%d kill_to_done=%s",
		tl, len(k.inFlight), retrying, took.Round(100*time.Millisecond))
}
