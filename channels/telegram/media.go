package telegram

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"

	"github.com/go-telegram/bot"
	"github.com/go-telegram/bot/models"

	"github.com/pregon/pregon/dispatcher"
)

var _ dispatcher.TelegramCaptionEditor = (*Channel)(nil)

// sendMedia posts one request of files of p to chat: one image with
// sendPhoto, one PDF with sendDocument, several images as an album with
// sendMediaGroup (m.Caption on the photo, the document or the album's
// first item). A file with a FileID is sent by that id; the others are
// uploaded, each from a fresh reader (TelegramFile.Open), and the file_id
// Telegram gives is passed to TelegramFile.Uploaded. When Telegram refuses
// a file_id, the files are uploaded instead, once. It returns the ids of
// the messages posted (one an item) and errors as SendTelegram does.
func (c *Channel) sendMedia(ctx context.Context, p *dispatcher.TelegramPost, chat any, m *dispatcher.TelegramMedia, replyTo int, silent bool) ([]string, error) {
	if len(m.Files) == 0 || len(m.Files) > dispatcher.MaxAlbum {
		return nil, dispatcher.Permanent(fmt.Errorf("telegram: a request of %d files (want 1 to %d)", len(m.Files), dispatcher.MaxAlbum))
	}
	what := fmt.Sprintf("telegram: send %s to %s", describe(m), p.ChatID)
	if c.limiter != nil && !p.Paced {
		for range m.Messages() { // an album counts as one message an item
			if err := c.limiter.Wait(ctx, p.ChatID); err != nil {
				return nil, fmt.Errorf("telegram: wait for a turn to send %s to %s: %w", describe(m), p.ChatID, err)
			}
		}
	}
	files := append([]dispatcher.TelegramFile(nil), m.Files...)
	for try := 0; ; try++ {
		ids, fileIDs, rec, err := c.mediaRequest(ctx, chat, files, m.Caption, replyTo, silent)
		if err == nil {
			for i := range files {
				if files[i].FileID == "" && fileIDs[i] != "" && files[i].Uploaded != nil {
					files[i].Uploaded(fileIDs[i])
				}
			}
			c.log.DebugContext(ctx, "telegram media sent", "channel", "telegram", "delivery_id", p.DeliveryID,
				"chat_id", p.ChatID, "messages", len(ids), "message_id", ids[0])
			return ids, nil
		}
		if try == 0 && fileRefused(err) && reused(files) {
			c.log.InfoContext(ctx, "telegram refused a stored file id; uploading the file again", "channel", "telegram",
				"delivery_id", p.DeliveryID, "chat_id", p.ChatID, "error", err)
			for i := range files {
				files[i].FileID = ""
			}
			continue
		}
		err = classify(what, err, rec)
		c.noteRefused(err)
		return nil, err
	}
}

// describe names a request of files in errors: "photo x.jpg", "album of 3
// images", "document y.pdf".
func describe(m *dispatcher.TelegramMedia) string {
	switch {
	case len(m.Files) > 1:
		return fmt.Sprintf("album of %d images", len(m.Files))
	case m.Files[0].IsImage():
		return "photo " + m.Files[0].Filename
	default:
		return "document " + m.Files[0].Filename
	}
}

func reused(files []dispatcher.TelegramFile) bool {
	for _, f := range files {
		if f.FileID != "" {
			return true
		}
	}
	return false
}

// fileRefused reports whether err is Telegram refusing a file_id (400
// "wrong file identifier/HTTP URL specified", "wrong remote file
// identifier", a file reference expired...).
func fileRefused(err error) bool {
	if !errors.Is(err, bot.ErrorBadRequest) {
		return false
	}
	s := strings.ToLower(err.Error())
	for _, d := range []string{"wrong file identifier", "wrong remote file", "file reference", "file_reference", "wrong type of the web page content", "failed to get http url content"} {
		if strings.Contains(s, d) {
			return true
		}
	}
	return false
}

// mediaRequest makes one sendPhoto, sendDocument or sendMediaGroup request
// and returns the ids of the messages, the file_id of each file, and what
// was seen of the request and its answer.
func (c *Channel) mediaRequest(ctx context.Context, chat any, files []dispatcher.TelegramFile, caption string, replyTo int, silent bool) ([]string, []string, *response, error) {
	rec := &response{}
	if err := ctx.Err(); err != nil {
		return nil, nil, rec, err
	}
	var reply *models.ReplyParameters
	if replyTo > 0 {
		reply = &models.ReplyParameters{MessageID: replyTo, AllowSendingWithoutReply: true}
	}
	input := make([]models.InputFile, len(files))
	for i, f := range files {
		if f.FileID != "" {
			input[i] = &models.InputFileString{Data: f.FileID}
			continue
		}
		if f.Open == nil {
			return nil, nil, rec, dispatcher.Permanent(fmt.Errorf("telegram: file %s has neither a file id nor bytes", f.ID))
		}
		r, err := f.Open(ctx) // a fresh reader for each attempt
		if err != nil {
			return nil, nil, rec, err
		}
		input[i] = &models.InputFileUpload{Filename: f.Filename, Data: r}
	}
	tctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	tctx = withResponse(tctx, rec)
	var msgs []*models.Message
	var err error
	switch {
	case len(files) > 1:
		media := make([]models.InputMedia, len(files))
		for i, in := range input {
			item := &models.InputMediaPhoto{ParseMode: models.ParseModeHTML}
			if i == 0 {
				item.Caption = caption
			}
			switch in := in.(type) {
			case *models.InputFileString:
				item.Media = in.Data
			case *models.InputFileUpload:
				item.Media, item.MediaAttachment = "attach://file"+strconv.Itoa(i), in.Data
			}
			media[i] = item
		}
		msgs, err = c.bot.SendMediaGroup(tctx, &bot.SendMediaGroupParams{ChatID: chat, Media: media,
			DisableNotification: silent, ReplyParameters: reply})
	case files[0].IsImage():
		var msg *models.Message
		msg, err = c.bot.SendPhoto(tctx, &bot.SendPhotoParams{ChatID: chat, Photo: input[0], Caption: caption,
			ParseMode: models.ParseModeHTML, DisableNotification: silent, ReplyParameters: reply})
		msgs = []*models.Message{msg}
	default:
		var msg *models.Message
		msg, err = c.bot.SendDocument(tctx, &bot.SendDocumentParams{ChatID: chat, Document: input[0], Caption: caption,
			ParseMode: models.ParseModeHTML, DisableNotification: silent, ReplyParameters: reply})
		msgs = []*models.Message{msg}
	}
	if err != nil {
		return nil, nil, rec, responseError(err, rec)
	}
	if len(msgs) != len(files) {
		return nil, nil, rec, dispatcher.Uncertain(fmt.Errorf("telegram: %d messages for %d files", len(msgs), len(files)))
	}
	ids := make([]string, len(msgs))
	fileIDs := make([]string, len(msgs))
	for i, m := range msgs {
		if m == nil {
			return nil, nil, rec, dispatcher.Uncertain(errors.New("telegram: empty answer to a media request"))
		}
		ids[i] = strconv.Itoa(m.ID)
		switch {
		case len(m.Photo) > 0:
			fileIDs[i] = m.Photo[len(m.Photo)-1].FileID // the largest size
		case m.Document != nil:
			fileIDs[i] = m.Document.FileID
		}
	}
	return ids, fileIDs, rec, nil
}

// EditTelegramCaption replaces the caption of message messageID (a photo,
// a document or an album's first item) in chat with caption, in the HTML
// parse mode. It is EditTelegram for captions: an edit that changes
// nothing succeeds, a message deleted or too old gives a permanent error
// wrapping ErrNotEditable, and an edit that got no answer is transient.
func (c *Channel) EditTelegramCaption(ctx context.Context, chat, messageID, caption string) error {
	return c.edit(ctx, chat, messageID, "caption of message", func(ctx context.Context, target any, id int) error {
		_, err := c.bot.EditMessageCaption(ctx, &bot.EditMessageCaptionParams{ChatID: target, MessageID: id,
			Caption: caption, ParseMode: models.ParseModeHTML})
		return err
	})
}
