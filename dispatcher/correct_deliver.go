package dispatcher

import (
	"context"
	"errors"
	"fmt"
	"slices"
)

// TelegramEditor edits a message posted to a Telegram chat. A
// TelegramSender that is one too lets a correction edit the posts in place;
// with one that is not, a correction is posted as a reply to each post.
type TelegramEditor interface {
	// EditTelegram replaces the text of message messageID in chat with
	// text (Telegram's HTML parse mode). An edit that changes nothing
	// succeeds. A message that can no longer be edited gives a permanent
	// error wrapping ErrNotEditable; other errors are *SendError.
	EditTelegram(ctx context.Context, chat, messageID, text string) error
}

// ErrNotEditable is wrapped by a TelegramEditor's error for a message that
// can no longer be edited (deleted, or too old).
var ErrNotEditable = errors.New("the message can no longer be edited")

// CorrectionRenderer renders the short Telegram messages of a correction.
// The Service's Renderer must be one to deliver corrections to Telegram.
type CorrectionRenderer interface {
	// TelegramCorrectionReply renders the reply posted under a post that
	// can no longer be edited: the correction's note ("Corrección: …").
	TelegramCorrectionReply(rel *Release, lang string) (string, error)
	// TelegramLeftover renders what a part of the original post says when
	// the corrected post has fewer parts: a line pointing to the corrected
	// text above.
	TelegramLeftover(rel *Release, lang string) (string, error)
}

// correctTelegram delivers a correction to one Telegram chat: each message
// of the post it corrects is edited, in its own chat, to the corrected
// post's part; parts the corrected post has beyond them are posted as
// replies to the last one; parts it no longer needs are edited to a line
// pointing up. Where the post can no longer be edited, the correction's
// note is posted as a reply to its first message instead.
//
// Messages in a group since upgraded to a supergroup (the edit is answered
// with migrate_to_chat_id) cannot be edited: the others are, and the
// correction's note is added in the supergroup, after them.
//
// It returns the ids of the messages that make up the post once corrected
// (those edited, then those added, then the note when one was added), or,
// when it replied instead, the id of the reply alone; ids in another chat
// than c's are qualified (msgid.go). Edits that change nothing succeed, so
// a delivery tried again edits again what an earlier try edited, and posts
// only the parts that try had not posted (they are in c.MessageIDs).
func (s *Service) correctTelegram(ctx context.Context, rel *Release, c *Claimed, parts []string) ([]string, error) {
	base, origLen, err := s.postToCorrect(ctx, rel, c)
	if err != nil {
		return nil, err
	}
	if len(base) == 0 {
		return nil, Permanent(fmt.Errorf("correction of %s: no message of the post to %s to correct", rel.CorrectionOf.ReleaseID, c.Recipient))
	}
	ed, ok := s.cfg.Telegram.(TelegramEditor)
	if !ok {
		return s.replyCorrection(ctx, rel, c, base, nil)
	}
	layout, err := s.correctionLayout(ctx, rel, c) // tgcorrect.go
	if err != nil {
		return nil, err
	}
	text := base
	lead, files := 0, 0
	if layout != nil {
		lead, files = layout.leadMessages(), layout.Messages()-layout.leadMessages()-len(layout.Parts)
		if origLen < lead+files || origLen > len(base) {
			return s.replyCorrection(ctx, rel, c, base, nil) // not the post this layout makes
		}
		parts = layout.Parts
		if lead > 0 {
			if err := s.editCaption(ctx, c, base[0], layout.Lead[0].Caption); err != nil {
				if errors.Is(err, ErrNotEditable) {
					s.log.Info("telegram post not editable; replying with the correction", "release_id", rel.ID,
						"delivery_id", c.ID, "message_id", base[0], "error", err)
					return s.replyCorrection(ctx, rel, c, base, nil)
				}
				return c.MessageIDs, err
			}
		}
		// The text's messages: after the lead, before the files, and those
		// an earlier correction added at the end.
		text = append(slices.Clip(base[lead:origLen-files]), base[origLen:]...)
	}
	added, replied, err := s.editParts(ctx, rel, c, ed, text, parts, base)
	if replied != nil || err != nil {
		return replied, err
	}
	return append(slices.Clip(base), added...), nil
}

// editParts edits the messages ids of a post's text to the corrected
// post's parts: parts beyond them are posted as replies to the last (or,
// when there are none, to the post's first message, base[0]); messages
// the corrected post no longer needs are edited to a line pointing up. It
// returns the ids of the messages it posted; or, when the post can no
// longer be edited, the id of the correction's note posted as a reply
// instead (replied); or c's ids and the error.
func (s *Service) editParts(ctx context.Context, rel *Release, c *Claimed, ed TelegramEditor, ids, parts, base []string) (added, replied []string, err error) {
	leftover := ""
	if len(parts) < len(ids) {
		cr, ok := s.cfg.Renderer.(CorrectionRenderer)
		if !ok {
			return nil, nil, Permanent(errors.New("render telegram: the renderer cannot render corrections"))
		}
		if leftover, err = cr.TelegramLeftover(rel, c.Language); err != nil {
			return nil, nil, Permanent(fmt.Errorf("render telegram: %w", err))
		}
	}
	moved := map[string]string{} // chats upgraded to supergroups: old -> new
	for i, id := range ids {
		text := leftover
		if i < len(parts) {
			text = parts[i]
		}
		chat, msg := SplitMessageID(c.Recipient, id)
		if moved[chat] != "" {
			continue
		}
		if err := ed.EditTelegram(ctx, chat, msg, text); err != nil {
			if to := s.migrated(ctx, chat, err); to != "" {
				s.log.Info("telegram post in a group since upgraded to a supergroup: the correction's note goes there",
					"release_id", rel.ID, "delivery_id", c.ID, "message_id", id, "to", to)
				moved[chat] = to
				continue
			}
			if errors.Is(err, ErrNotEditable) {
				s.log.Info("telegram post not editable; replying with the correction", "release_id", rel.ID,
					"delivery_id", c.ID, "message_id", id, "error", err)
				replied, err := s.replyCorrection(ctx, rel, c, base, moved)
				if replied == nil {
					replied = []string{}
				}
				return nil, replied, err
			}
			return nil, c.MessageIDs, err
		}
	}
	if len(parts) > len(ids) {
		last := base[0]
		if len(ids) > 0 {
			last = ids[len(ids)-1]
		}
		chat, msg := SplitMessageID(c.Recipient, last)
		post := &TelegramPost{DeliveryID: c.ID, ChatID: chat, Parts: parts[len(ids):], ReplyTo: msg}
		if to := moved[chat]; to != "" {
			post.ChatID, post.ReplyTo = to, firstIn(c.Recipient, to, base)
		}
		more, err := s.cfg.Telegram.SendTelegram(ctx, post)
		more, err = s.followMigration(ctx, post, c.Recipient, more, err) // migrate.go
		if added = append(added, more...); err != nil {
			return nil, append(slices.Clip(base), added...), err
		}
	}
	if len(moved) > 0 {
		note, err := s.replyCorrection(ctx, rel, c, base, moved)
		if added = append(added, note...); err != nil {
			return nil, append(slices.Clip(base), added...), err
		}
	}
	return added, nil, nil
}

// replyCorrection posts the correction's note as a reply to the first
// message of the post (base, message ids as c records them), in its chat;
// when that chat became a supergroup (moved, old -> new chat), the note
// goes to the supergroup, as a reply to the post's first message there, if
// any.
func (s *Service) replyCorrection(ctx context.Context, rel *Release, c *Claimed, base []string, moved map[string]string) ([]string, error) {
	cr, ok := s.cfg.Renderer.(CorrectionRenderer)
	if !ok {
		return nil, Permanent(errors.New("render telegram: the renderer cannot render corrections"))
	}
	text, err := cr.TelegramCorrectionReply(rel, c.Language)
	if err != nil {
		return nil, Permanent(fmt.Errorf("render telegram: %w", err))
	}
	chat, msg := SplitMessageID(c.Recipient, base[0])
	if sg := moved[chat]; sg != "" {
		chat, msg = sg, firstIn(c.Recipient, sg, base)
	}
	post := &TelegramPost{DeliveryID: c.ID, ChatID: chat, Parts: []string{text}, ReplyTo: msg}
	ids, err := s.cfg.Telegram.SendTelegram(ctx, post)
	return s.followMigration(ctx, post, c.Recipient, ids, err) // migrate.go
}

// postToCorrect returns the ids of the messages that make up the post a
// correction delivery corrects: those this delivery recorded on an earlier
// try; else those of the post as the latest earlier correction left it,
// when it was delivered by edits; else those of the original post.
func (s *Service) postToCorrect(ctx context.Context, rel *Release, c *Claimed) (ids []string, origLen int, err error) {
	cs, err := s.correctionStore()
	if err != nil {
		return nil, 0, Permanent(err)
	}
	of := rel.CorrectionOf.ReleaseID
	orig, err := cs.Delivery(ctx, of, DeliveryID(of, ChannelTelegram, c.Recipient))
	if err != nil {
		return nil, 0, fmt.Errorf("correction of %s: the post to %s: %w", of, c.Recipient, err)
	}
	origLen = len(orig.MessageIDs)
	if len(c.MessageIDs) > 0 && slices.Equal(c.MessageIDs[:min(len(orig.MessageIDs), len(c.MessageIDs))], orig.MessageIDs) {
		return c.MessageIDs, origLen, nil
	}
	earlier, err := cs.Corrections(ctx, of)
	if err != nil {
		return nil, 0, err
	}
	i := slices.IndexFunc(earlier, func(r *Release) bool { return r.ID == rel.ID })
	if i < 0 {
		i = len(earlier)
	}
	for j := i - 1; j >= 0; j-- {
		prev := earlier[j].ID
		d, err := cs.Delivery(ctx, prev, DeliveryID(prev, ChannelTelegram, c.Recipient))
		if errors.Is(err, ErrNotFound) {
			continue
		}
		if err != nil {
			return nil, 0, err
		}
		// A correction delivered by edits recorded the original messages
		// first; one that replied recorded its reply alone.
		if d.Status == DeliverySent && len(d.MessageIDs) >= len(orig.MessageIDs) &&
			slices.Equal(d.MessageIDs[:len(orig.MessageIDs)], orig.MessageIDs) {
			return d.MessageIDs, origLen, nil
		}
	}
	return orig.MessageIDs, origLen, nil
}
