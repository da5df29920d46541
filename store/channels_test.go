package store_test

import (
	"context"
	"errors"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/redistest"
	"github.com/pregon/pregon/store"
)

// TestChannelChatUsernameCaseInsensitive: the store keeps one channel per
// chat however its @username is written (Telegram usernames are
// case-insensitive), and pages channels newest first.
func TestChannelChatUsernameCaseInsensitive(t *testing.T) {
	ctx := context.Background()
	s := newStore(t)
	c := &dispatcher.TelegramChannel{ChatID: "@Canal"}
	if err := s.CreateChannel(ctx, c); err != nil {
		t.Fatal(err)
	}
	if c.ChatID != "@canal" {
		t.Errorf("chat id stored as %q, want @canal", c.ChatID)
	}
	if err := s.CreateChannel(ctx, &dispatcher.TelegramChannel{ChatID: "@canal"}); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("@canal after @Canal: err = %v, want ErrConflict", err)
	}
	num := &dispatcher.TelegramChannel{ChatID: "-1001234567890"}
	if err := s.CreateChannel(ctx, num); err != nil || num.ChatID != "-1001234567890" {
		t.Fatalf("numeric chat: %q, %v", num.ChatID, err)
	}
	page, next, err := s.Channels(ctx, "", 1)
	if err != nil || len(page) != 1 || next == "" {
		t.Fatalf("first page = %v, %q, %v; want one channel and a cursor", page, next, err)
	}
	rest, next2, err := s.Channels(ctx, next, 1)
	if err != nil || len(rest) != 1 || next2 != "" || rest[0].ID == page[0].ID {
		t.Fatalf("second page = %v, %q, %v; want the other channel, last", rest, next2, err)
	}
}

// TestChannelRegisteredInOtherCaseBefore: a chat registered as "@Canal" by
// an older version (stored as written) is not registered again as "@canal".
func TestChannelRegisteredInOtherCaseBefore(t *testing.T) {
	ctx := context.Background()
	c := redistest.Start(t).Client(t)
	s := store.New(c, nil)
	old := &dispatcher.TelegramChannel{ChatID: "@Canal"}
	if err := s.CreateChannel(ctx, old); err != nil {
		t.Fatal(err)
	}
	// As an older version stored it: the username as written.
	c.HSet(ctx, "pregon:tgchannel:"+old.ID, "chat_id", "@Canal")
	c.Rename(ctx, "pregon:tgchat:@canal", "pregon:tgchat:@Canal")
	if err := s.CreateChannel(ctx, &dispatcher.TelegramChannel{ChatID: "@canal"}); !errors.Is(err, dispatcher.ErrConflict) {
		t.Fatalf("@canal after an old @Canal: err = %v, want ErrConflict", err)
	}
}
