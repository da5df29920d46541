package outbox

import (
	"context"
	"fmt"
	"path/filepath"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

var _ dispatcher.TelegramEditor = (*Outbox)(nil)

// EditTelegram writes what the edit of a message would be to
// DIR/telegram/edit-<chat>-<message-id>.html: a line "----- edit of message
// <id> in <chat> -----", then text. The outbox's message ids ("outbox-1",
// ...) name a part of a delivery's post rather than a message, so the file
// is named by the chat and the id as given; editing the same message again
// overwrites it. Its errors are classified as SendTelegram's: a chat or
// message id that cannot be part of a file name is permanent.
func (o *Outbox) EditTelegram(ctx context.Context, chat, messageID, text string) error {
	name := "edit-" + fileSafe(chat) + "-" + messageID
	if err := checkID(name); err != nil || messageID == "" {
		return dispatcher.Permanent(fmt.Errorf("outbox telegram edit of %q in %s: %w", messageID, chat, ErrBadDeliveryID))
	}
	var b strings.Builder
	fmt.Fprintf(&b, "----- edit of message %s in %s -----\n%s", messageID, chat, text)
	if !strings.HasSuffix(text, "\n") {
		b.WriteByte('\n')
	}
	path := filepath.Join(o.dir, "telegram", name+".html")
	if err := writeFile(ctx, path, []byte(b.String())); err != nil {
		return dispatcher.Transient(fmt.Errorf("outbox telegram edit of %s in %s: %w", messageID, chat, err), 0)
	}
	o.logger.Info("outbox: telegram edit written", "channel", "telegram", "chat_id", chat, "message_id", messageID, "path", path)
	return nil
}

// fileSafe returns chat with every character that checkID refuses as '_'
// ("@canal" → "_canal", "-100123" stays).
func fileSafe(chat string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return '_'
	}, chat)
}
