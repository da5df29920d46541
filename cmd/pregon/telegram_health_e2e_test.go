package main

import (
	"strings"
	"testing"
)

// channelByID returns the channel with id as GET /v1/telegram/channels lists it.
func (s *service) channelByID(id string) obj {
	s.t.Helper()
	var page obj
	if code, _ := s.do(s.admin, "GET", "/v1/telegram/channels", "", nil, &page); code != 200 {
		s.t.Fatalf("GET channels: %d %v", code, page)
	}
	for _, it := range page["items"].([]any) {
		if c := it.(obj); c["id"] == id {
			return c
		}
	}
	s.t.Fatalf("channel %s not listed: %v", id, page)
	return nil
}

// deliveryTo returns the delivery of release id to recipient.
func (s *service) deliveryTo(id, recipient string) obj {
	s.t.Helper()
	var page obj
	if code, _ := s.do(s.admin, "GET", "/v1/releases/"+id+"/deliveries", "", nil, &page); code != 200 {
		s.t.Fatalf("GET deliveries: %d %v", code, page)
	}
	for _, it := range page["items"].([]any) {
		if d := it.(obj); d["recipient"] == recipient {
			return d
		}
	}
	s.t.Fatalf("no delivery to %s in %v", recipient, page)
	return nil
}

// TestChannelHealthEndToEnd: a channel the bot was kicked from fails its
// delivery and becomes unavailable, with the reason and time; the next
// release skips it (no request reaches Telegram for it) and is sent; it
// cannot be enabled while the bot is still out; once the bot is back,
// enabling it (audited) makes the next release reach it.
func TestChannelHealthEndToEnd(t *testing.T) {
	s := startService(t)
	ids := map[string]string{}
	for _, chat := range []string{"@canal_norte", "@canal_sur"} {
		s.tg.AddChat(chat)
		var ch obj
		if code := s.post("/v1/telegram/channels", obj{"chat_id": chat, "language": "es"}, &ch); code != 201 {
			t.Fatalf("create channel: %d %v", code, ch)
		}
		ids[chat] = ch["id"].(string)
	}
	send := func(title string) string {
		t.Helper()
		var rel obj
		if code := s.post("/v1/releases", obj{"title": title, "body": "Texto breve del comunicado.", "language": "es",
			"audiences": obj{"telegram_channels": []string{ids["@canal_norte"], ids["@canal_sur"]}}, "send": true}, &rel); code != 201 {
			t.Fatalf("create release: %d %v", code, rel)
		}
		return rel["id"].(string)
	}

	s.tg.Kick("@canal_sur")
	first := send("Primero")
	if rel := s.waitFinal(first); rel["status"] != "sent_with_failures" {
		t.Fatalf("first release %v, want sent_with_failures", rel["status"])
	}
	if d := s.deliveryTo(first, "@canal_sur"); d["status"] != "failed" || !strings.Contains(d["last_error"].(string), "kicked") {
		t.Errorf("delivery to the kicked channel: %v %q, want failed, kicked", d["status"], d["last_error"])
	}
	ch := s.channelByID(ids["@canal_sur"])
	if ch["status"] != "unavailable" || !strings.Contains(ch["unavailable_reason"].(string), "kicked") || ch["unavailable_at"] == nil {
		t.Fatalf("kicked channel = %v, want unavailable with reason and time", ch)
	}
	if ch := s.channelByID(ids["@canal_norte"]); ch["status"] != "active" {
		t.Errorf("the other channel is %v, want active", ch["status"])
	}

	requests := s.tg.Requests()
	second := send("Segundo")
	if rel := s.waitFinal(second); rel["status"] != "sent" {
		t.Fatalf("second release %v, want sent (a skipped channel is no failure)", rel["status"])
	}
	d := s.deliveryTo(second, "@canal_sur")
	if d["status"] != "skipped" || !strings.Contains(d["last_error"].(string), "unavailable") ||
		!strings.Contains(d["last_error"].(string), "kicked") || !strings.Contains(d["last_error"].(string), "/enable") {
		t.Errorf("delivery to the unavailable channel: %v %q, want skipped, saying why and what to do", d["status"], d["last_error"])
	}
	if n := s.tg.Requests() - requests; n != 1 {
		t.Errorf("the second release made %d Bot API requests, want 1 (the unavailable channel is not tried)", n)
	}

	var prob obj
	if code, _ := s.do(s.admin, "POST", "/v1/telegram/channels/"+ids["@canal_sur"]+"/enable", "", nil, &prob); code != 409 {
		t.Errorf("enable while the bot is still kicked: %d %v, want 409", code, prob)
	}
	s.tg.AddChat("@canal_sur")
	var enabled obj
	if code, _ := s.do(s.admin, "POST", "/v1/telegram/channels/"+ids["@canal_sur"]+"/enable", "", nil, &enabled); code != 200 || enabled["status"] != "active" {
		t.Fatalf("enable: %d %v", code, enabled)
	}
	var auditPage obj
	s.do(s.admin, "GET", "/v1/audit", "", nil, &auditPage)
	found := false
	for _, it := range auditPage["items"].([]any) {
		if e := it.(obj); e["action"] == "channel.enable" && e["target"] == ids["@canal_sur"] {
			found = true
		}
	}
	if !found {
		t.Errorf("no channel.enable audit entry in %v", auditPage["items"])
	}

	third := send("Tercero")
	if rel := s.waitFinal(third); rel["status"] != "sent" {
		t.Fatalf("third release %v, want sent", rel["status"])
	}
	if msgs := s.tg.Messages("@canal_sur"); len(msgs) != 1 || !strings.Contains(msgs[0].PlainText, "Tercero") {
		t.Errorf("the re-enabled channel got %d messages, want the third release alone", len(msgs))
	}
}
