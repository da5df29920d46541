package api

import (
	"net/http"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

func TestCreateChannelValidation(t *testing.T) {
	h := newHarness(t)
	checkBad(t, h, "/v1/telegram/channels", []badRequest{
		{name: "chat_id missing", body: `{"title":"Canal"}`, fields: []string{"chat_id"}},
		{name: "username too short", body: `{"chat_id":"@abcd"}`, fields: []string{"chat_id"}},
		{name: "username too long", body: `{"chat_id":"@abcdefghijklmnopqrstuvwxyz0123456"}`, fields: []string{"chat_id"}},
		{name: "username with dash", body: `{"chat_id":"@canal-prensa"}`, fields: []string{"chat_id"}},
		{name: "no at sign", body: `{"chat_id":"canalprensa"}`, fields: []string{"chat_id"}},
		{name: "positive id", body: `{"chat_id":"1001234567890"}`, fields: []string{"chat_id"}},
		{name: "id with junk", body: `{"chat_id":"-100123x"}`, fields: []string{"chat_id"}},
		{name: "chat_id number", body: `{"chat_id":-1001234567890}`, fields: []string{"chat_id"}},
		{name: "bad language", body: `{"chat_id":"@canal_prensa","language":"e"}`, fields: []string{"language"}},
		{name: "title two lines", body: `{"chat_id":"@canal_prensa","title":"a\nb"}`, fields: []string{"title"}},
		{name: "unknown field", body: `{"chat_id":"@canal_prensa","bot":"x"}`, fields: []string{"bot"}},
	})
	if h.store.writes != 0 {
		t.Errorf("%d writes after refused requests", h.store.writes)
	}
}

func TestChannels(t *testing.T) {
	h := newHarness(t)
	for _, chat := range []string{"@canal_prensa", "-1001234567890"} {
		var c dispatcher.TelegramChannel
		h.mustJSON("POST", "/v1/telegram/channels", `{"chat_id":"`+chat+`","title":"Canal","language":"es"}`, http.StatusCreated, &c)
		want := dispatcher.TelegramChannel{ID: c.ID, ChatID: chat, Title: "Canal", Language: "es", Status: "active", CreatedAt: t0}
		if diff := cmp.Diff(want, c); diff != "" {
			t.Errorf("channel (-want +got):\n%s", diff)
		}
	}
	p := problemOf(t, h.json("POST", "/v1/telegram/channels", `{"chat_id":"@canal_prensa"}`), http.StatusConflict)
	if diff := cmp.Diff([]string{"chat_id"}, fieldsOf(p)); diff != "" {
		t.Errorf("conflict fields (-want +got):\n%s", diff)
	}
	var page Page[dispatcher.TelegramChannel]
	h.mustJSON("GET", "/v1/telegram/channels", "", http.StatusOK, &page)
	if len(page.Items) != 2 {
		t.Errorf("channels = %+v", page.Items)
	}
}
