package main

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/internal/testkit"
)

// followerCount returns GET /v1/telegram/followers' count.
func (s *service) followerCount() int {
	s.t.Helper()
	var page obj
	if code, _ := s.do(s.admin, "GET", "/v1/telegram/followers", "", nil, &page); code != 200 {
		s.t.Fatalf("GET followers: %d %v", code, page)
	}
	return int(page["count"].(float64))
}

// TestFollowersEndToEnd: people who write /start to the bot (polled by
// the running service) become followers, in their language or the one
// they pick; a release for telegram_followers reaches each once, in that
// language; one who wrote /stop gets nothing.
func TestFollowersEndToEnd(t *testing.T) {
	s := startService(t)
	s.tg.PushCommand(7001, "es-MX", "/start")
	s.tg.PushCommand(7002, "en-GB", "/start")
	s.tg.PushCommand(7003, "de", "/start")
	s.tg.PushCommand(7003, "de", "/language en")
	s.tg.PushCommand(7004, "es", "/start")
	s.tg.PushCommand(7004, "es", "/stop")
	testkit.WaitFor(t, "followers", 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		n := s.followerCount()
		return n == 3 && s.tg.Pending() == 0, fmt.Sprintf("%d followers, %d updates pending", n, s.tg.Pending())
	})
	answers := map[string]int{}
	for _, chat := range []string{"7001", "7002", "7003", "7004"} {
		answers[chat] = len(s.tg.Messages(chat))
	}
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Comunidades piden frenar el dragado", "summary": "Resumen.",
		"body": "Las comunidades del valle piden frenar el dragado.", "language": "es",
		"translations": []obj{{"language": "en", "title": "Communities call for a halt to dredging", "summary": "Summary.",
			"body": "The valley's communities call for a halt to the dredging."}},
		"audiences": obj{"telegram_followers": true}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	if rel = s.waitFinal(rel["id"].(string)); rel["status"] != "sent" {
		t.Fatalf("release %v", rel)
	}
	for _, tc := range []struct{ chat, want string }{
		{"7001", "Comunidades piden frenar"}, {"7002", "Communities call for a halt"}, {"7003", "Communities call for a halt"},
	} {
		got := s.tg.Messages(tc.chat)[answers[tc.chat]:]
		if len(got) != 1 || !strings.Contains(got[0].PlainText, tc.want) {
			t.Errorf("follower %s got %d messages after its answers (%v), want one with %q", tc.chat, len(got), got, tc.want)
		}
	}
	if got := len(s.tg.Messages("7004")) - answers["7004"]; got != 0 {
		t.Errorf("the follower who sent /stop got %d messages", got)
	}
}

// TestChannelFoundByTheBotEndToEnd: the bot made admin of a channel makes
// it pending; a release may not target it until a coordinator approves
// it; the bot removed, it is unavailable.
func TestChannelFoundByTheBotEndToEnd(t *testing.T) {
	s := startService(t)
	s.tg.PushMyChatMember("@canal_nuevo", "Canal Nuevo", "left", "administrator")
	var ch obj
	testkit.WaitFor(t, "pending channel", 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		var page obj
		s.do(s.admin, "GET", "/v1/telegram/channels", "", nil, &page)
		for _, it := range page["items"].([]any) {
			if c := it.(obj); c["title"] == "Canal Nuevo" {
				ch = c
				return c["status"] == "pending", fmt.Sprint(c)
			}
		}
		return false, fmt.Sprint(page)
	})
	id := ch["id"].(string)
	release := obj{"title": "T", "body": "B", "language": "es", "audiences": obj{"telegram_channels": []string{id}}}
	var prob obj
	if code := s.post("/v1/releases", release, &prob); code != 400 || !strings.Contains(fmt.Sprint(prob), "/approve") {
		t.Fatalf("release to a pending channel: %d %v, want 400 naming /approve", code, prob)
	}
	if code := s.post("/v1/telegram/channels/"+id+"/approve", nil, &ch); code != 200 || ch["status"] != "active" {
		t.Fatalf("approve: %d %v", code, ch)
	}
	if code := s.post("/v1/releases", release, nil); code != 201 {
		t.Fatalf("release to the approved channel: %d", code)
	}
	s.tg.PushMyChatMember("@canal_nuevo", "Canal Nuevo", "administrator", "left")
	testkit.WaitFor(t, "unavailable channel", 20*time.Second, 20*time.Millisecond, func() (bool, string) {
		c := s.channelByID(id)
		return c["status"] == "unavailable", fmt.Sprint(c)
	})
}

// TestMigratedGroupEndToEnd: a group upgraded to a supergroup answers 400
// with migrate_to_chat_id; the post goes once to the supergroup, and the
// channel's chat id is the new one from then on.
func TestMigratedGroupEndToEnd(t *testing.T) {
	s := startService(t)
	s.tg.AddChat("-4001")
	var ch obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "-4001", "title": "Grupo"}, &ch); code != 201 {
		t.Fatalf("create channel: %d %v", code, ch)
	}
	s.tg.Migrate("-4001", "-1004001")
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Aviso", "body": "Texto del aviso.", "language": "es",
		"audiences": obj{"telegram_channels": []string{ch["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	if rel = s.waitFinal(rel["id"].(string)); rel["status"] != "sent" {
		t.Fatalf("release %v", rel)
	}
	if got := s.tg.Messages("-1004001"); len(got) != 1 || !strings.Contains(got[0].PlainText, "Texto del aviso") {
		t.Fatalf("supergroup got %v, want the post once", got)
	}
	if got := s.tg.Messages("-4001"); len(got) != 0 {
		t.Fatalf("old group got %d messages", len(got))
	}
	if c := s.channelByID(ch["id"].(string)); c["chat_id"] != "-1004001" {
		t.Fatalf("channel after the migration: %v, want chat_id -1004001", c)
	}
}
