package telegram_test

import (
	"errors"
	"testing"

	"github.com/pregon/pregon/channels/telegram"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/telegramtest"
)

func TestEditTelegram(t *testing.T) {
	const chat = "@canal"
	s := telegramtest.Start(t, token)
	s.AddChat(chat)
	c := newChannel(t, s.URL(), nil)
	ids, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{DeliveryID: "d1", ChatID: chat, Parts: statement[:2]})
	if err != nil {
		t.Fatal(err)
	}

	corrected := "<b>Comunicado corregido</b>\n\nLas comunidades de Peñón exigen…"
	if err := c.EditTelegram(t.Context(), chat, ids[0], corrected); err != nil {
		t.Fatalf("edit: %v", err)
	}
	// The same edit again, as after a lost answer: the message already says it.
	if err := c.EditTelegram(t.Context(), chat, ids[0], corrected); err != nil {
		t.Fatalf("repeated edit: %v", err)
	}
	msgs := s.Messages(chat)
	if got := msgs[0]; got.Text != corrected || got.Edits != 1 || got.PlainText != "Comunicado corregido\n\nLas comunidades de Peñón exigen…" {
		t.Errorf("edited message: text %q, plain %q, %d edits; want the correction, edited once", got.Text, got.PlainText, got.Edits)
	}
	if msgs[1].Text != statement[1] || msgs[1].Edits != 0 {
		t.Errorf("the second part changed: %+v", msgs[1])
	}

	// A deleted message cannot be edited: the caller replies to it instead,
	// and the reply is posted although the message has gone.
	s.DeleteMessage(chat, 2)
	err = c.EditTelegram(t.Context(), chat, ids[1], "<b>otra</b>")
	if !errors.Is(err, telegram.ErrNotEditable) || !dispatcher.IsPermanent(err) {
		t.Errorf("edit of a deleted message: %v; want permanent ErrNotEditable", err)
	}
	if err := c.EditTelegram(t.Context(), chat, "99", "<b>otra</b>"); !errors.Is(err, telegram.ErrNotEditable) {
		t.Errorf("edit of an unknown message: %v; want ErrNotEditable", err)
	}
	for _, to := range []string{ids[0], ids[1]} {
		if _, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{DeliveryID: "d1", ChatID: chat, Parts: []string{"Corrección: …"}, ReplyTo: to}); err != nil {
			t.Fatalf("reply to %s: %v", to, err)
		}
	}
	msgs = s.Messages(chat)
	if len(msgs) != 4 || msgs[2].ReplyTo != 1 || msgs[3].ReplyTo != 0 {
		t.Errorf("replies: %+v; want one to message 1 and one posted on its own (message 2 was deleted)", msgs[2:])
	}

	if _, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{ChatID: chat, Parts: []string{"x"}, ReplyTo: "abc"}); !dispatcher.IsPermanent(err) {
		t.Errorf("reply to an invalid id: %v; want a permanent error", err)
	}
	if err := c.EditTelegram(t.Context(), chat, "0", "x"); !dispatcher.IsPermanent(err) {
		t.Errorf("edit of message 0: %v; want a permanent error", err)
	}
}

// An edit whose answer never came is transient, not uncertain: repeating it
// cannot post anything twice.
func TestEditTelegramWithoutAnswerIsTransient(t *testing.T) {
	const chat = "@canal"
	s := telegramtest.Start(t, token)
	s.AddChat(chat)
	c := newChannel(t, s.URL(), nil)
	ids, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{ChatID: chat, Parts: statement[:1]})
	if err != nil {
		t.Fatal(err)
	}
	s.FailNext(chat, 1, telegramtest.Failure{Reset: true})
	err = c.EditTelegram(t.Context(), chat, ids[0], "<b>corregido</b>")
	var se *dispatcher.SendError
	if !errors.As(err, &se) || se.Permanent || se.Uncertain {
		t.Fatalf("edit with the connection reset: %v; want transient", err)
	}
	if err := c.EditTelegram(t.Context(), chat, ids[0], "<b>corregido</b>"); err != nil {
		t.Fatalf("edit again: %v", err)
	}
}

// Edits count toward a chat's rate limit, as on Telegram.
func TestEditTelegramRateLimited(t *testing.T) {
	const chat = "@canal"
	s := telegramtest.Start(t, token, telegramtest.PerChatPerMinute(2))
	s.AddChat(chat)
	c := newChannel(t, s.URL(), nil)
	ids, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{ChatID: chat, Parts: statement[:1]})
	if err != nil {
		t.Fatal(err)
	}
	if err := c.EditTelegram(t.Context(), chat, ids[0], "<b>uno</b>"); err != nil {
		t.Fatal(err)
	}
	err = c.EditTelegram(t.Context(), chat, ids[0], "<b>dos</b>")
	var se *dispatcher.SendError
	if !errors.As(err, &se) || se.Permanent || se.Uncertain || se.RetryAfter <= 0 {
		t.Fatalf("third message in a minute: %v; want transient with a retry_after", err)
	}
	if got := s.Messages(chat)[0].PlainText; got != "uno" {
		t.Errorf("message text %q after a refused edit, want %q", got, "uno")
	}
}
