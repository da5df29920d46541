package e2e

import (
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// TestSlowSendKeepsItsClaim: a send that takes longer than the claim
// timeout (here an SMTP server that answers the end of data after 8 s; a
// Telegram request may hang up to the client's 30 s timeout) keeps its
// claim, so the sweeper does not take it for a dead worker's and send it
// again while it is still in flight.
func TestSlowSendKeepsItsClaim(t *testing.T) {
	s := newStack(t) // PREGON_CLAIM_TIMEOUT=3s
	const addr = "lenta@prensa.example"
	second := make(chan struct{})
	var once sync.Once
	s.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if attempt == 2 {
			once.Do(func() { close(second) })
		}
		return nil
	})
	// The first attempt's end of data is answered after 8 s, or as soon as
	// a second attempt begins (which it must not).
	s.smtp.SetDataHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if attempt == 1 {
			select {
			case <-second:
			case <-time.After(8 * time.Second):
			}
		}
		return nil
	})
	s.startServe()
	lid := s.pressList("Prensa lenta", []string{addr})
	rid := s.sendRelease([]string{lid}, nil)
	rel := s.waitFinal(rid, 60*time.Second)
	ds := s.deliveries(rid, "")
	got := received(s.smtp)[addr]
	t.Logf("FIGURES slow-send: received=%d status=%s release=%s attempts=%d", got, ds[0].Status, rel.Status, ds[0].Attempts)
	if got != 1 {
		t.Errorf("%s received %d emails, want 1: the sweeper sent it again while the first send was in flight (delivery %+v)", addr, got, ds[0])
	}
}

// TestShutdownCutsAnUncertainSend stops a worker gracefully while a send is
// stuck after its message data went out, past the shutdown timeout (10 s):
// the send is cut, and since the server may have the message (this one
// does), the delivery is recorded uncertain before the worker exits, and is
// not sent again by the next worker.
func TestShutdownCutsAnUncertainSend(t *testing.T) {
	s := newStack(t)
	const addr = "cortada@prensa.example"
	entered := make(chan struct{})
	unblock := make(chan struct{})
	var once sync.Once
	s.smtp.SetDataHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if attempt == 1 {
			once.Do(func() { close(entered) })
			select {
			case <-unblock:
			case <-time.After(60 * time.Second):
			}
		}
		return nil // the server keeps the message, as an MTA that queued it before answering
	})
	s.startAPI()
	w := s.startWorker()
	lid := s.pressList("Prensa cortada", []string{addr})
	rid := s.sendRelease([]string{lid}, nil)
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("the message data never reached the SMTP server")
	}
	code, took := w.stop(t, 30*time.Second)
	sending := len(s.deliveries(rid, "status=sending"))
	close(unblock)
	waitFor(t, "the server to keep the first message", 10*time.Second, 20*time.Millisecond, func() (bool, string) {
		return s.smtp.Count() >= 1, ""
	})
	s.startWorker()
	rel := s.waitFinal(rid, 60*time.Second)
	ds := s.deliveries(rid, "")
	got := received(s.smtp)[addr]
	t.Logf("FIGURES shutdown-cut: received=%d status=%s release=%s exit_code=%d stop_took=%s sending_after_stop=%d handed_back=%d",
		got, ds[0].Status, rel.Status, code, took.Round(time.Millisecond), sending, logCount(w, "delivery handed back"))
	if code != 0 {
		t.Errorf("pregon worker exited %d after SIGTERM, want 0", code)
	}
	if sending > 0 {
		t.Errorf("the stopped worker left its delivery sending")
	}
	if got != 1 || ds[0].Status != "uncertain" {
		t.Errorf("%s received %d emails and is %s, want 1 and uncertain (%q)", addr, got, ds[0].Status, ds[0].LastError)
	}
}
