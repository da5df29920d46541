package api

import (
	"net/http"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// TestChatUsernameIsCaseInsensitive: @Canal and @canal used to register as
// two channels, so one release posted twice to one chat. Telegram usernames
// are case-insensitive: the second is a 409 on chat_id, and a username is
// stored in lower case; numeric ids are kept as they are.
func TestChatUsernameIsCaseInsensitive(t *testing.T) {
	h := newHarness(t)
	var c dispatcher.TelegramChannel
	h.mustJSON("POST", "/v1/telegram/channels", `{"chat_id":"@Canal_Prensa"}`, http.StatusCreated, &c)
	if c.ChatID != "@canal_prensa" {
		t.Errorf("chat_id = %q, want @canal_prensa", c.ChatID)
	}
	for _, dup := range []string{"@canal_prensa", "@CANAL_PRENSA", " @Canal_Prensa "} {
		p := problemOf(t, h.json("POST", "/v1/telegram/channels", `{"chat_id":"`+dup+`"}`), http.StatusConflict)
		if len(p.Errors) != 1 || p.Errors[0].Field != "chat_id" {
			t.Errorf("%q: errors %+v, want one for chat_id", dup, p.Errors)
		}
	}
	h.mustJSON("POST", "/v1/telegram/channels", `{"chat_id":"-1001234567890"}`, http.StatusCreated, &c)
	if c.ChatID != "-1001234567890" {
		t.Errorf("numeric chat_id = %q, want it unchanged", c.ChatID)
	}
	if n := len(h.store.channels); n != 2 {
		t.Errorf("%d channels stored, want 2", n)
	}
}
