package dispatcher_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// TestNotifyBounceAtRcpt: an address refused at RCPT as a hard bounce is
// told as delivery.failed and delivery.bounced, naming the delivery.
func TestNotifyBounceAtRcpt(t *testing.T) {
	r := newRig()
	r.email = &mock.EmailSender{SendEmailFn: func(_ context.Context, msg *dispatcher.EmailMessage) (string, error) {
		if msg.To.Email == "gone@example.org" {
			return "", dispatcher.HardBounce(errors.New("550 5.1.1 no such user"), "rcpt")
		}
		return msg.MessageID, nil
	}}
	n := &events{}
	svc := r.notifying(t, n, "w1")
	rid, ids := r.sending(t, "ana@example.org", "gone@example.org")
	if err := svc.Deliver(context.Background(), dispatcher.Batch{ReleaseID: rid, Channel: dispatcher.ChannelEmail, IDs: ids}); err != nil {
		t.Fatal(err)
	}
	var bounced []dispatcher.Event
	for _, e := range n.es {
		if e.Type == dispatcher.EventDeliveryBounced {
			bounced = append(bounced, e)
		}
	}
	if len(bounced) != 1 {
		t.Fatalf("events %v, want one delivery.bounced", n.types())
	}
	d := bounced[0].Data
	if d["release_id"] != rid || d["delivery_id"] != ids[1] || d["recipient"] != "gone@example.org" || d["kind"] != "hard" || d["source"] != "rcpt" {
		t.Errorf("delivery.bounced data %v", d)
	}
}
