package main

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"testing"
)

// TestMaxWaitingEndToEnd: with PREGON_TELEGRAM_MAX_WAITING=2, a release to
// six channels of 3-part posts (each post waits at least two seconds for
// its chat's turns) has more posts than places: the rest stay queued and
// come back, and the release completes with every part posted once to
// every channel, none lost or doubled, and no limit broken. The metrics
// show the cap and the deliveries put off.
func TestMaxWaitingEndToEnd(t *testing.T) {
	s := startService(t, func(s *service) { s.env["PREGON_TELEGRAM_MAX_WAITING"] = "2" })
	var ids, chats []string
	for i := range 6 {
		chat := fmt.Sprintf("@canal_espera_%d", i)
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
	id := rel["id"].(string)
	if rel = s.waitFinal(id); rel["status"] != "sent" {
		t.Fatalf("release %v, want sent", rel["status"])
	}
	for _, chat := range chats {
		d := s.deliveryTo(id, chat)
		parts := d["parts"].([]any)
		msgs := s.tg.Messages(chat)
		if len(parts) < 3 || len(msgs) != len(parts) || d["status"] != "sent" {
			t.Errorf("%s: delivery %v with %d parts, %d messages, want sent, 3 or more parts, each posted once", chat, d["status"], len(parts), len(msgs))
			continue
		}
		for i, m := range msgs {
			if !strings.Contains(m.PlainText, fmt.Sprintf("(%d/%d)", i+1, len(parts))) {
				t.Errorf("%s: message %d is not part %d of %d: %.60q", chat, i+1, i+1, len(parts), m.PlainText)
			}
		}
	}
	if v := s.tg.Violations(); v != 0 {
		t.Errorf("%d requests broke Telegram's limits", v)
	}
	code, body := s.get(s.url+"/metrics", "Bearer "+s.admin)
	if code != 200 {
		t.Fatalf("GET /metrics: %d", code)
	}
	metric := func(name string) float64 {
		m := regexp.MustCompile(`(?m)^` + name + ` (\S+)$`).FindStringSubmatch(body)
		if m == nil {
			t.Fatalf("no %s in /metrics", name)
		}
		f, _ := strconv.ParseFloat(m[1], 64)
		return f
	}
	if got := metric("pregon_telegram_posts_waiting_max"); got != 2 {
		t.Errorf("pregon_telegram_posts_waiting_max = %v, want 2", got)
	}
	if got := metric("pregon_telegram_posts_waiting"); got != 0 {
		t.Errorf("pregon_telegram_posts_waiting = %v once the release is sent, want 0", got)
	}
	if got := metric("pregon_telegram_posts_deferred_total"); got < 1 {
		t.Errorf("pregon_telegram_posts_deferred_total = %v, want some deliveries put off (6 posts, 2 places)", got)
	}
}
