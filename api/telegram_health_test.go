package api

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/telegramtest"
)

const healthBotToken = "777:HEALTH"

// botFor returns a telegram.Channel with token against fake.
func botFor(t *testing.T, fake *telegramtest.Server, token string) *telegram.Channel {
	t.Helper()
	ch, err := telegram.New(telegram.Config{Token: token, APIURL: fake.URL(), Timeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return ch
}

// TestReadyzReportsARefusedBotToken: /readyz is 503, naming the token, when
// the Bot API answers getMe 401; 200 with the right token.
func TestReadyzReportsARefusedBotToken(t *testing.T) {
	fake := telegramtest.Start(t, healthBotToken)
	for _, tc := range []struct {
		token string
		want  int
	}{{healthBotToken, http.StatusOK}, {"777:REVOKED", http.StatusServiceUnavailable}} {
		bot := botFor(t, fake, tc.token)
		h := newHarness(t, func(c *Config) { c.Telegram = bot })
		w := h.do("GET", "/readyz", "", "", "")
		if tc.want == http.StatusOK {
			if w.Code != http.StatusOK {
				t.Errorf("token %s: readyz %d %s, want 200", tc.token, w.Code, w.Body)
			}
			continue
		}
		p := problemOf(t, w, tc.want)
		if !strings.Contains(p.Detail, "bad bot token") || !strings.Contains(p.Detail, "PREGON_TELEGRAM_TOKEN") {
			t.Errorf("token %s: readyz detail %q, want the refused token named", tc.token, p.Detail)
		}
	}
}

// TestEnableChannel: a channel the bot was kicked from stays unavailable
// while the bot is still out (409, why), and is active again once the bot
// is back; the change is audited. A viewer may not, and an unknown channel
// is 404.
func TestEnableChannel(t *testing.T) {
	fake := telegramtest.Start(t, healthBotToken)
	h := newHarness(t, func(c *Config) { c.Telegram = botFor(t, fake, healthBotToken) })
	w := h.do("POST", "/v1/telegram/channels", coordToken, "application/json", `{"chat_id": "@canal_sur"}`)
	var c dispatcher.TelegramChannel
	if err := json.Unmarshal(w.Body.Bytes(), &c); err != nil || w.Code != http.StatusCreated {
		t.Fatalf("create channel: %d %s", w.Code, w.Body)
	}
	at := t0.Add(-time.Hour)
	h.store.mu.Lock()
	for _, sc := range h.store.channels {
		if sc.ID == c.ID {
			sc.Status, sc.UnavailableReason, sc.UnavailableAt = dispatcher.ChannelUnavailable, "Forbidden: bot was kicked from the channel chat", &at
		}
	}
	h.store.mu.Unlock()
	fake.Kick("@canal_sur")
	path := "/v1/telegram/channels/" + c.ID + "/enable"

	p := problemOf(t, h.do("POST", path, coordToken, "", ""), http.StatusConflict)
	if !strings.Contains(p.Detail, "not a member") || !strings.Contains(p.Detail, "administrator") {
		t.Errorf("enable while kicked: detail %q, want the reason and what to do", p.Detail)
	}
	if got, _ := h.store.Channel(t.Context(), c.ID); got.Status != dispatcher.ChannelUnavailable {
		t.Errorf("after a refused enable the channel is %q, want unavailable", got.Status)
	}
	problemOf(t, h.do("POST", path, viewerToken, "", ""), http.StatusForbidden)
	problemOf(t, h.do("POST", "/v1/telegram/channels/tgc_nothing/enable", coordToken, "", ""), http.StatusNotFound)

	fake.AddChat("@canal_sur") // the bot is an admin again
	w = h.do("POST", path, coordToken, "", "")
	var got map[string]any
	if err := json.Unmarshal(w.Body.Bytes(), &got); err != nil || w.Code != http.StatusOK {
		t.Fatalf("enable: %d %s", w.Code, w.Body)
	}
	if got["status"] != "active" || got["unavailable_reason"] != nil || got["unavailable_at"] != nil {
		t.Errorf("enabled channel = %v, want active without a reason", got)
	}
	var entry *audit.Entry
	for _, e := range h.audit.entries {
		if e.Action == audit.ChannelEnable {
			entry = e
		}
	}
	if entry == nil || entry.Target != c.ID || entry.Detail["was"] != "unavailable" || entry.Detail["chat_id"] != "@canal_sur" {
		t.Errorf("audit entry of the enable = %+v", entry)
	}
}
