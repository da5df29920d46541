package e2e

import (
	"context"
	"strconv"
	"syscall"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
	"github.com/redis/go-redis/v9"
)

// TestRedisFreeze freezes Redis for 31 s (SIGSTOP: the server holds its
// connections and answers nothing) a third of the way into a release: the
// sends that completed meanwhile are recorded sent once Redis answers again,
// none is recorded uncertain or sent twice, and nothing is lost.
func TestRedisFreeze(t *testing.T) {
	const freeze = 31 * time.Second
	s := newStack(t)
	// An SMTP server that takes 20 ms to answer each message, as a remote
	// one does: a batch takes seconds, so asynq's lease on its task (30 s,
	// not renewed while Redis is frozen) runs out while it is sending.
	s.smtp.SetDataHandler(func(string, int) *smtp.SMTPError {
		time.Sleep(20 * time.Millisecond)
		return nil
	})
	serve := s.startServe()
	const n = 4000
	rid, addrs := s.releaseAThird("f", "Prensa congelada", n)

	opt, err := redis.ParseURL(s.redis.URL())
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	info, err := rdb.InfoMap(context.Background(), "server").Result()
	if err != nil {
		t.Fatal(err)
	}
	pid, err := strconv.Atoi(info["Server"]["process_id"])
	if err != nil {
		t.Fatalf("redis process_id: %v", err)
	}
	atFreeze := s.smtp.Count()
	start := time.Now()
	if err := syscall.Kill(pid, syscall.SIGSTOP); err != nil {
		t.Fatal(err)
	}
	thaw := func() { syscall.Kill(pid, syscall.SIGCONT) }
	t.Cleanup(thaw)
	waitFor(t, "the freeze to last "+freeze.String(), freeze+10*time.Second, 100*time.Millisecond, func() (bool, string) {
		return time.Since(start) >= freeze, ""
	})
	thaw()
	thawed := time.Now()
	during := s.smtp.Count() - atFreeze

	tl := checkAllSent(t, s, rid, addrs, 120*time.Second)
	if tl.uncertain > 0 {
		t.Errorf("%d deliveries recorded uncertain after a freeze of Redis", tl.uncertain)
	}
	if tl.duplicated > 0 {
		t.Errorf("%d emails received twice after a freeze of Redis: %s", tl.duplicated, short(tl.dupAddrs))
	}
	t.Logf("FIGURES redis-freeze: %s freeze=%s received_at_freeze=%d received_during_freeze=%d thaw_to_done=%s record_retries_logged=%d tasks_failed=%d",
		tl, thawed.Sub(start).Round(100*time.Millisecond), atFreeze, during, time.Since(thawed).Round(100*time.Millisecond),
		logCount(serve, "cannot record outcomes; trying again"), logCount(serve, "task failed"))
}
