package e2e

import (
	"fmt"
	"net/http"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/links"
)

// TestUnsubscribeDuringSend: a recipient who unsubscribes (the one-click
// link, as a mail client posts it) while a release is being sent to them
// and others gets nothing: the address is checked again when its delivery
// is claimed, and the delivery ends suppressed. The others get the release,
// and the counts add up.
func TestUnsubscribeDuringSend(t *testing.T) {
	const secret = "e2e-links-secret-0123456789abcdef"
	s := newStack(t, withEnv("PREGON_SECRET", secret))
	s.env["PREGON_PUBLIC_URL"] = s.apiURL
	var addrs []string
	for i := range 40 {
		addrs = append(addrs, fmt.Sprintf("u%02d@prensa.example", i))
	}
	target := addrs[len(addrs)-1] // claimed last: the batch goes in order
	// The first message's end of data is held until the target has unsubscribed.
	entered, unblock := make(chan struct{}), make(chan struct{})
	var once sync.Once
	s.smtp.SetDataHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		first := false
		once.Do(func() { first = true; close(entered) })
		if first {
			select {
			case <-unblock:
			case <-time.After(60 * time.Second):
			}
		}
		return nil
	})
	s.startServe()
	lid := s.pressList("Prensa baja", addrs)
	rid := s.sendRelease([]string{lid}, nil)
	select {
	case <-entered:
	case <-time.After(30 * time.Second):
		t.Fatal("no message reached the SMTP server")
	}
	signer, err := links.New([]byte(secret), s.apiURL, nil, 0)
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.PostForm(signer.UnsubscribeURL(target, rid), url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	close(unblock)
	if resp.StatusCode != 200 {
		t.Fatalf("one-click unsubscribe answered %d", resp.StatusCode)
	}

	rel := s.waitFinal(rid, 60*time.Second)
	got := received(s.smtp)
	if got[target] != 0 {
		t.Errorf("%s unsubscribed mid-send and still received %d emails", target, got[target])
	}
	for _, a := range addrs[:len(addrs)-1] {
		if got[a] != 1 {
			t.Errorf("%s received %d emails, want 1", a, got[a])
		}
	}
	sup := s.deliveries(rid, "status=suppressed")
	if len(sup) != 1 || sup[0].Recipient != target {
		t.Errorf("suppressed deliveries = %+v, want only %s", sup, target)
	}
	checkCounts(t, rel, s.deliveries(rid, ""))
	if rel.Status != "sent" {
		t.Errorf("release %s, want sent", rel.Status)
	}
}
