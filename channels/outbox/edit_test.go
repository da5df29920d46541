package outbox_test

import (
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

func TestEditTelegramWritesTheEdit(t *testing.T) {
	o, _ := newOutbox(t)
	ctx := context.Background()
	for _, text := range []string{"<b>Corrección:</b> primera", "<b>Corrección:</b> segunda"} {
		if err := o.EditTelegram(ctx, "@canal_prensa", "outbox-2", text); err != nil {
			t.Fatal(err)
		}
	}
	got, err := os.ReadFile(filepath.Join(o.Dir(), "telegram", "edit-_canal_prensa-outbox-2.html"))
	if err != nil {
		t.Fatal(err)
	}
	if want := "----- edit of message outbox-2 in @canal_prensa -----\n<b>Corrección:</b> segunda\n"; string(got) != want {
		t.Errorf("edit file = %q, want %q", got, want)
	}
	for _, id := range []string{"", "../x", "a b"} {
		if err := o.EditTelegram(ctx, "@canal", id, "x"); !dispatcher.IsPermanent(err) {
			t.Errorf("edit of message %q: %v, want a permanent error", id, err)
		}
	}
}
