package telegram_test

import (
	"errors"
	"testing"

	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/telegramtest"
)

// TestChatGoneIsUnavailable: a kicked bot (403) and an unknown chat (400
// chat not found) fail permanently, wrapping dispatcher.ErrChatUnavailable;
// another 400 does not.
func TestChatGoneIsUnavailable(t *testing.T) {
	s := telegramtest.Start(t, token)
	s.Kick("@echado")
	s.AddChat("@canal")
	c := newChannel(t, s.URL(), nil)
	for _, tc := range []struct {
		chat, text string
		gone       bool
	}{
		{"@echado", "hola", true},
		{"@no_existe", "hola", true},
		{"@canal", "<b>sin cerrar", false},
	} {
		_, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{ChatID: tc.chat, Parts: []string{tc.text}})
		if !dispatcher.IsPermanent(err) || errors.Is(err, dispatcher.ErrChatUnavailable) != tc.gone {
			t.Errorf("%s: %v, want permanent, chat unavailable %t", tc.chat, err, tc.gone)
		}
	}
}

// TestCheckChat: the bot's membership is checked with getChatMember.
func TestCheckChat(t *testing.T) {
	s := telegramtest.Start(t, token)
	s.AddChat("@canal")
	s.Kick("@echado")
	c := newChannel(t, s.URL(), nil)
	if err := c.CheckChat(t.Context(), "@canal"); err != nil {
		t.Errorf("admin: %v", err)
	}
	for _, chat := range []string{"@echado", "@no_existe"} {
		if err := c.CheckChat(t.Context(), chat); !errors.Is(err, dispatcher.ErrChatUnavailable) {
			t.Errorf("%s: %v, want ErrChatUnavailable", chat, err)
		}
	}
	s.AddChat("@echado")
	if err := c.CheckChat(t.Context(), "@echado"); err != nil {
		t.Errorf("re-added: %v", err)
	}
}

// TestReadyBadToken: a token the Bot API refuses makes Ready fail with
// ErrBadToken, as soon as any request got 401; a good one is ready.
func TestReadyBadToken(t *testing.T) {
	s := telegramtest.Start(t, token)
	s.AddChat("@canal")
	if err := newChannel(t, s.URL(), nil).Ready(t.Context()); err != nil {
		t.Errorf("good token: %v", err)
	}
	bad := newChannel(t, s.URL(), func(c *telegram.Config) { c.Token = "123456:REVOKED" })
	if err := bad.Ready(t.Context()); !errors.Is(err, telegram.ErrBadToken) {
		t.Errorf("refused token: Ready = %v, want ErrBadToken", err)
	}
	// Learnt from a post, without a getMe.
	bad2 := newChannel(t, s.URL(), func(c *telegram.Config) { c.Token = "123456:REVOKED" })
	if _, err := bad2.SendTelegram(t.Context(), &dispatcher.TelegramPost{ChatID: "@canal", Parts: []string{"hola"}}); !errors.Is(err, telegram.ErrBadToken) {
		t.Fatalf("post with a refused token: %v", err)
	}
	s.Close() // no getMe can answer now
	if err := bad2.Ready(t.Context()); !errors.Is(err, telegram.ErrBadToken) {
		t.Errorf("after a refused post: Ready = %v, want ErrBadToken", err)
	}
}

// TestPostPreviewAndNotification: only the post's first part notifies and
// shows a preview (of LinkPreviewURL when set); NoLinkPreview turns every
// preview off; the rest of an interrupted post (FirstPart > 0) notifies no
// one and shows none.
func TestPostPreviewAndNotification(t *testing.T) {
	s := telegramtest.Start(t, token)
	s.AddChat("@canal")
	c := newChannel(t, s.URL(), nil)
	const src = "https://coalicion.example/comunicados/agua"
	for _, p := range []*dispatcher.TelegramPost{
		{ChatID: "@canal", Parts: statement, LinkPreviewURL: src},
		{ChatID: "@canal", Parts: statement, NoLinkPreview: true},
		{ChatID: "@canal", Parts: statement[1:], FirstPart: 1, LinkPreviewURL: src},
	} {
		if _, err := c.SendTelegram(t.Context(), p); err != nil {
			t.Fatal(err)
		}
	}
	type seen struct {
		URL             string
		Disabled, Quiet bool
	}
	var got []seen
	for _, m := range s.Messages("@canal") {
		got = append(got, seen{m.LinkPreviewURL, m.LinkPreviewDisabled, m.Silent})
	}
	want := []seen{
		{src, false, false}, {"", true, true}, {"", true, true},
		{"", true, false}, {"", true, true}, {"", true, true},
		{"", true, true}, {"", true, true},
	}
	if len(got) != len(want) {
		t.Fatalf("got %d messages, want %d", len(got), len(want))
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("message %d: %+v, want %+v", i+1, got[i], want[i])
		}
	}
}
