package main

import (
	"testing"

	"github.com/pregon/pregon/internal/telegramtest"
)

// TestResumePartialPostEndToEnd: a 3-part post whose part 2 gets no answer
// (the connection drops) is uncertain, and its delivery lists each part
// (sent with its id, uncertain, not sent); resuming it posts parts 2 and 3
// (part 2 replying to part 1), never part 1 again; a second resume is 409.
func TestResumePartialPostEndToEnd(t *testing.T) {
	s := startService(t)
	s.tg.AddChat("@canal_largo")
	var ch, rel obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_largo"}, &ch); code != 201 {
		t.Fatalf("create channel: %d %v", code, ch)
	}
	s.tg.FailAfter("@canal_largo", 1, 1, telegramtest.Failure{Reset: true})
	if code := s.post("/v1/releases", obj{"title": "Largo", "body": statementES + "\n\n" + statementES, "language": "es",
		"audiences": obj{"telegram_channels": []string{ch["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	if rel = s.waitFinal(id); rel["status"] != "sent_with_failures" {
		t.Fatalf("release %v, want sent_with_failures (part 2 uncertain)", rel["status"])
	}
	d := s.deliveryTo(id, "@canal_largo")
	parts, _ := d["parts"].([]any)
	if d["status"] != "uncertain" || len(parts) < 3 {
		t.Fatalf("delivery %v with parts %v, want uncertain with 3 or more parts", d["status"], d["parts"])
	}
	want := []string{"sent", "uncertain"}
	for i, p := range parts {
		st := "not_sent"
		if i < len(want) {
			st = want[i]
		}
		if p.(obj)["status"] != st || (i == 0) != (p.(obj)["message_id"] != nil) {
			t.Errorf("part %d: %v, want %s", i+1, p, st)
		}
	}
	if n := len(s.tg.Messages("@canal_largo")); n != 1 {
		t.Fatalf("the channel got %d messages before the resume, want part 1 alone", n)
	}

	path := "/v1/releases/" + id + "/deliveries/" + d["id"].(string) + "/resume"
	var out obj
	if code := s.post(path, nil, &out); code != 202 {
		t.Fatalf("resume: %d %v", code, out)
	}
	if rel = s.waitFinal(id); rel["status"] != "sent" {
		t.Fatalf("release after the resume: %v, want sent", rel["status"])
	}
	msgs := s.tg.Messages("@canal_largo")
	if len(msgs) != len(parts) {
		t.Fatalf("the channel has %d messages, want %d (no part twice)", len(msgs), len(parts))
	}
	if msgs[1].ReplyTo != msgs[0].ID {
		t.Errorf("part 2 replies to %d, want part 1 (%d)", msgs[1].ReplyTo, msgs[0].ID)
	}
	for i, m := range msgs[1:] {
		if !m.Silent {
			t.Errorf("part %d notified the channel's members", i+2)
		}
	}
	d = s.deliveryTo(id, "@canal_largo")
	for i, p := range d["parts"].([]any) {
		if p.(obj)["status"] != "sent" {
			t.Errorf("after the resume part %d is %v", i+1, p)
		}
	}
	if code := s.post(path, nil, &out); code != 409 {
		t.Errorf("second resume: %d %v, want 409", code, out)
	}
}
