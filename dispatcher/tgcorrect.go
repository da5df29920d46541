package dispatcher

import (
	"context"
	"errors"
	"fmt"
)

// correctionLayout returns the post of correction rel to c's chat as the
// original post was laid out, when it carried files (nil when it did
// not): its caption is the corrected one, its parts the correction's text.
// The channel's mode is read as it is now.
func (s *Service) correctionLayout(ctx context.Context, rel *Release, c *Claimed) (*TelegramPost, error) {
	if len(rel.AttachmentsFor(c.Language)) == 0 {
		return nil, nil
	}
	var ch *TelegramChannel
	if s.channels != nil {
		if got, err := s.channels.ChannelByChat(ctx, c.Recipient); err == nil {
			ch = got
		} else if !errors.Is(err, ErrNotFound) {
			return nil, Transient(fmt.Errorf("read the channel of %s: %w", c.Recipient, err), 0)
		}
	}
	p, err := s.telegramPost(ctx, rel, c, ch) // tgmode.go
	if err != nil {
		return nil, Permanent(fmt.Errorf("render telegram: %w", err))
	}
	if len(p.Lead)+len(p.Files) == 0 {
		return nil, nil
	}
	return p, nil
}

// editCaption edits the caption of message id in c's chat, when the
// channel can; a channel that cannot leaves the caption as it is.
func (s *Service) editCaption(ctx context.Context, c *Claimed, id, caption string) error {
	ed, ok := s.cfg.Telegram.(TelegramCaptionEditor)
	if !ok {
		s.log.Warn("the telegram channel cannot edit captions; the caption stays", "delivery_id", c.ID)
		return nil
	}
	return ed.EditTelegramCaption(ctx, c.Recipient, id, caption)
}
