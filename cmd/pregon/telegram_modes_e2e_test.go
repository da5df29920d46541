package main

import (
	"strings"
	"testing"
)

// TestChannelModesEndToEnd: a channel in summary mode gets title, summary
// and a link to the source URL in one message, without a preview (set on
// create); a channel in full mode gets the whole statement in parts, the
// first previewing the source URL and notifying, the rest silent (its
// preview set with PATCH, which is audited); bad settings are 400.
func TestChannelModesEndToEnd(t *testing.T) {
	s := startService(t)
	const src = "https://coalicion.example/comunicados/valle-alto"
	s.tg.AddChat("@canal_resumen")
	s.tg.AddChat("@canal_completo")
	var sum, full, prob obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_resumen", "mode": "summary", "link_preview": "off"}, &sum); code != 201 ||
		sum["mode"] != "summary" || sum["link_preview"] != "off" {
		t.Fatalf("create summary channel: %d %v", code, sum)
	}
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_completo", "link_preview": "off"}, &full); code != 201 || full["mode"] != "full" {
		t.Fatalf("create full channel: %d %v", code, full)
	}
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_malo", "mode": "short"}, &prob); code != 400 {
		t.Errorf("create with mode short: %d %v, want 400", code, prob)
	}
	path := "/v1/telegram/channels/" + full["id"].(string)
	if code, _ := s.do(s.admin, "PATCH", path, "application/json", obj{"link_preview": "sometimes"}, &prob); code != 400 ||
		!strings.Contains(prob["errors"].([]any)[0].(obj)["field"].(string), "link_preview") {
		t.Errorf("PATCH link_preview sometimes: %d %v, want 400 naming the field", code, prob)
	}
	if code, _ := s.do(s.admin, "PATCH", path, "application/json", obj{"link_preview": "source"}, &full); code != 200 || full["link_preview"] != "source" {
		t.Fatalf("PATCH link_preview source: %d %v", code, full)
	}

	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Comunidades denuncian concesiones", "summary": "Doce comunidades piden frenar las concesiones.",
		"body": statementES, "language": "es", "source_url": src,
		"audiences": obj{"telegram_channels": []string{sum["id"].(string), full["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	if rel = s.waitFinal(rel["id"].(string)); rel["status"] != "sent" {
		t.Fatalf("release %v", rel["status"])
	}

	msgs := s.tg.Messages("@canal_resumen")
	if len(msgs) != 1 {
		t.Fatalf("summary channel got %d messages, want 1", len(msgs))
	}
	m := msgs[0]
	if !strings.Contains(m.PlainText, "Comunidades denuncian concesiones") || !strings.Contains(m.PlainText, "Doce comunidades") ||
		!strings.Contains(m.Text, `href="`+src+`"`) || strings.Contains(m.PlainText, "Contacto de prensa") || !m.LinkPreviewDisabled {
		t.Errorf("summary post (preview off %t):\n%s", m.LinkPreviewDisabled, m.Text)
	}

	parts := s.tg.Messages("@canal_completo")
	if len(parts) < 2 {
		t.Fatalf("full channel got %d messages, want the statement in parts", len(parts))
	}
	for i, p := range parts {
		wantURL := ""
		if i == 0 {
			wantURL = src
		}
		if p.LinkPreviewURL != wantURL || p.LinkPreviewDisabled != (i > 0) || p.Silent != (i > 0) {
			t.Errorf("part %d: preview %q disabled %t silent %t", i+1, p.LinkPreviewURL, p.LinkPreviewDisabled, p.Silent)
		}
	}

	var auditPage obj
	s.do(s.admin, "GET", "/v1/audit", "", nil, &auditPage)
	found := false
	for _, it := range auditPage["items"].([]any) {
		if e := it.(obj); e["action"] == "channel.update" && e["target"] == full["id"] {
			found = true
		}
	}
	if !found {
		t.Error("no channel.update audit entry")
	}
}
