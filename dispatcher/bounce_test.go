package dispatcher_test

import (
	"context"
	"testing"

	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/dispatcher"
)

// TestHardBounceAtRcptSuppresses: a real SMTP server refuses one recipient
// with 550 5.1.1 (no such user) and another with 550 5.7.1 (policy). Both
// deliveries fail; the first records a hard bounce from RCPT and its
// address is suppressed, so the next release records it suppressed and
// does not mail it; the second is tried again on the next release.
func TestHardBounceAtRcptSuppresses(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	const gone, policy, fine = "gone@example.org", "policy@example.org", "fine@example.org"
	h.smtp.SetHandler(func(rcpt string, _ int) *smtp.SMTPError {
		switch rcpt {
		case gone:
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		case policy:
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 7, 1}, Message: "refused by policy"}
		}
		return nil
	})
	rid := h.sendTo(t, gone, policy, fine)
	h.wait(t, rid)

	d := h.delivery(t, rid, dispatcher.ChannelEmail, gone)
	if d.Status != dispatcher.DeliveryFailed || d.Bounce == nil || d.Bounce.Kind != dispatcher.BounceHard ||
		d.Bounce.Source != dispatcher.SourceRcpt || d.Bounce.At.IsZero() {
		t.Fatalf("delivery to %s: status %s, bounce %+v; want failed with a hard bounce from rcpt", gone, d.Status, d.Bounce)
	}
	if d := h.delivery(t, rid, dispatcher.ChannelEmail, policy); d.Status != dispatcher.DeliveryFailed || d.Bounce != nil {
		t.Fatalf("delivery to %s: status %s, bounce %+v; want failed without a bounce", policy, d.Status, d.Bounce)
	}
	sup, err := h.store.Suppression(ctx, gone)
	if err != nil || sup.Reason != dispatcher.ReasonHardBounce || sup.Source != dispatcher.SourceRcpt || sup.At.IsZero() {
		t.Fatalf("suppression of %s = %+v, %v; want hard_bounce from rcpt", gone, sup, err)
	}
	if sup, err := h.store.Suppression(ctx, policy); err == nil {
		t.Fatalf("%s was suppressed by a 5.7.1: %+v", policy, sup)
	}

	h.smtp.SetHandler(nil)
	before := len(h.smtp.Messages())
	rid2 := h.sendTo(t, gone, policy, fine)
	h.wait(t, rid2)
	if d := h.delivery(t, rid2, dispatcher.ChannelEmail, gone); d.Status != dispatcher.DeliverySuppressed {
		t.Errorf("next release's delivery to %s is %s, want suppressed", gone, d.Status)
	}
	if d := h.delivery(t, rid2, dispatcher.ChannelEmail, policy); d.Status != dispatcher.DeliverySent {
		t.Errorf("next release's delivery to %s is %s, want sent", policy, d.Status)
	}
	for _, m := range h.smtp.Messages()[before:] {
		if m.To[0] == gone {
			t.Errorf("a hard-bounced address was mailed again")
		}
	}
}
