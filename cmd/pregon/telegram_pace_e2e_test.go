package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pregon/pregon/internal/telegramtest"
)

// withStrictBotAPI gives the service a fake Bot API that also refuses more
// than one message a second to a chat, as Telegram asks.
func withStrictBotAPI(s *service) {
	s.tg = telegramtest.Start(s.t, e2eBotToken, telegramtest.PerChatPerSecond(1))
	s.env["PREGON_TELEGRAM_API_URL"] = s.tg.URL()
}

// TestPacedMultiPartRelease: one release to several channels, each post in
// several parts, goes out without breaking any of Telegram's limits (the
// fake counts every request it would refuse), every part numbered "(k/n)"
// at its end, and only the first part of each post notifying.
func TestPacedMultiPartRelease(t *testing.T) {
	s := startService(t, withStrictBotAPI)
	const channels = 4
	var ids []string
	var chats []string
	for i := range channels {
		chat := fmt.Sprintf("@canal_%d", i)
		s.tg.AddChat(chat)
		var ch obj
		if code := s.post("/v1/telegram/channels", obj{"chat_id": chat}, &ch); code != 201 {
			t.Fatalf("create channel: %d %v", code, ch)
		}
		ids, chats = append(ids, ch["id"].(string)), append(chats, chat)
	}
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Largo", "body": statementES + "\n\n" + statementES, "language": "es",
		"audiences": obj{"telegram_channels": ids}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	if rel = s.waitFinal(rel["id"].(string)); rel["status"] != "sent" {
		t.Fatalf("release %v, want sent", rel["status"])
	}
	if n := s.tg.Violations(); n != 0 {
		t.Errorf("%d requests broke a rate limit (global %d, per chat and second %d, per chat and minute %d)", n,
			s.tg.ViolationsOf(telegramtest.LimitGlobal), s.tg.ViolationsOf(telegramtest.LimitChatSecond),
			s.tg.ViolationsOf(telegramtest.LimitChatMinute))
	}
	for _, chat := range chats {
		msgs := s.tg.Messages(chat)
		if len(msgs) < 2 {
			t.Fatalf("%s got %d messages, want a post in several parts", chat, len(msgs))
		}
		for i, m := range msgs {
			if want := fmt.Sprintf("(%d/%d)", i+1, len(msgs)); !strings.HasSuffix(m.PlainText, "\n\n"+want) {
				t.Errorf("%s part %d ends %q, want it numbered %s", chat, i+1, tail(m.PlainText, 20), want)
			}
			if m.Silent != (i > 0) {
				t.Errorf("%s part %d: silent %t, want only the first part to notify", chat, i+1, m.Silent)
			}
		}
	}
}

// TestResumeRepostsUncertainPart: a 3-part post whose part 2 was posted
// but got no answer is uncertain; the resume says that part 2 is posted
// again and that an earlier copy may follow part 1's message; it finishes
// the post without posting part 1 again, and the delivery marks part 2
// reposted.
func TestResumeRepostsUncertainPart(t *testing.T) {
	s := startService(t, withStrictBotAPI)
	const chat = "@canal_incierto"
	s.tg.AddChat(chat)
	var ch, rel obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": chat}, &ch); code != 201 {
		t.Fatalf("create channel: %d %v", code, ch)
	}
	s.tg.FailAfter(chat, 1, 1, telegramtest.Failure{AfterDelivery: true, Reset: true})
	if code := s.post("/v1/releases", obj{"title": "Largo", "body": statementES + "\n\n" + statementES, "language": "es",
		"audiences": obj{"telegram_channels": []string{ch["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	if rel = s.waitFinal(id); rel["status"] != "sent_with_failures" {
		t.Fatalf("release %v, want sent_with_failures (part 2 uncertain)", rel["status"])
	}
	d := s.deliveryTo(id, chat)
	parts, _ := d["parts"].([]any)
	if d["status"] != "uncertain" || len(parts) < 3 {
		t.Fatalf("delivery %v with parts %v, want uncertain with 3 or more parts", d["status"], d["parts"])
	}
	before := s.tg.Messages(chat)
	if len(before) != 2 {
		t.Fatalf("the channel got %d messages before the resume, want parts 1 and 2 (2 without an answer)", len(before))
	}
	part1 := parts[0].(obj)["message_id"]

	var out obj
	if code := s.post("/v1/releases/"+id+"/deliveries/"+d["id"].(string)+"/resume", nil, &out); code != 202 {
		t.Fatalf("resume: %d %v", code, out)
	}
	if out["reposted_part"] != float64(2) || out["reposted_after_message_id"] != part1 ||
		!strings.Contains(fmt.Sprint(out["warning"]), "Part 2 of") {
		t.Errorf("resume answered %v, want part 2 reposted after part 1's message %v, with a warning", out, part1)
	}
	if got, _ := out["parts"].([]any); len(got) != len(parts) || got[1].(obj)["status"] != "uncertain" {
		t.Errorf("resume answered parts %v, want the %d parts as they were, part 2 uncertain", out["parts"], len(parts))
	}
	if rel = s.waitFinal(id); rel["status"] != "sent" {
		t.Fatalf("release after the resume: %v, want sent", rel["status"])
	}
	msgs := s.tg.Messages(chat)
	// Part 1 once; part 2 twice (the copy without an answer, and the one
	// reposted); every other part once.
	if want := len(parts) + 1; len(msgs) != want {
		t.Fatalf("the channel has %d messages, want %d (part 2 twice, no other part twice)", len(msgs), want)
	}
	if msgs[0].PlainText == msgs[2].PlainText {
		t.Error("part 1 was posted again")
	}
	if msgs[2].PlainText != msgs[1].PlainText || msgs[2].ReplyTo != msgs[0].ID {
		t.Errorf("the first message after the resume is %q replying to %d, want part 2 again replying to part 1 (%d)",
			tail(msgs[2].PlainText, 20), msgs[2].ReplyTo, msgs[0].ID)
	}
	d = s.deliveryTo(id, chat)
	for i, p := range d["parts"].([]any) {
		p := p.(obj)
		if p["status"] != "sent" || (p["reposted"] == true) != (i == 1) {
			t.Errorf("after the resume part %d is %v, want sent, and reposted only for part 2", i+1, p)
		}
	}
}

func tail(s string, n int) string {
	r := []rune(s)
	return string(r[max(len(r)-n, 0):])
}
