package telegram_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/internal/telegramtest"
)

// files are the bytes of the test's files, with a count of the readers
// opened and the file_ids told.
type files struct {
	mu       sync.Mutex
	data     map[string][]byte
	opened   map[string]int
	uploaded map[string]string
}

func newFiles() *files {
	return &files{data: map[string][]byte{
		"att_a": append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1, 2, 3}, 3000)...),
		"att_b": append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7}, 3000)...),
		"att_c": append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("pdf "), 3000)...),
	}, opened: map[string]int{}, uploaded: map[string]string{}}
}

// file returns the TelegramFile of id, with fileID when known.
func (f *files) file(id, name, ctype string) dispatcher.TelegramFile {
	f.mu.Lock()
	defer f.mu.Unlock()
	return dispatcher.TelegramFile{ID: id, Filename: name, ContentType: ctype, FileID: f.uploaded[id],
		Open: func(context.Context) (io.Reader, error) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.opened[id]++
			return bytes.NewReader(f.data[id]), nil
		},
		Uploaded: func(fileID string) {
			f.mu.Lock()
			defer f.mu.Unlock()
			f.uploaded[id] = fileID
		}}
}

// TestSendTelegramMedia: a post with an album (caption on the first item),
// two text parts and a PDF is one thread under the album, only the album
// notifying; its ids are one a message. The files are uploaded by the first
// chat's post and sent by file_id to the other chats, which open no reader.
func TestSendTelegramMedia(t *testing.T) {
	s := telegramtest.Start(t, token)
	c := newChannel(t, s.URL(), nil)
	f := newFiles()
	const caption = "<b>Agua</b>\n\n<i>Doce comunidades 🌊</i>"
	chats := []string{"@uno", "@dos", "@tres"}
	for _, chat := range chats {
		s.AddChat(chat)
		post := &dispatcher.TelegramPost{DeliveryID: "d", ChatID: chat, Parts: statement[:2], Thread: true,
			Lead:  []dispatcher.TelegramMedia{{Caption: caption, Files: []dispatcher.TelegramFile{f.file("att_a", "a.png", "image/png"), f.file("att_b", "b.jpg", "image/jpeg")}}},
			Files: []dispatcher.TelegramMedia{{Files: []dispatcher.TelegramFile{f.file("att_c", "informe.pdf", "application/pdf")}}}}
		ids, err := c.SendTelegram(t.Context(), post)
		if err != nil {
			t.Fatal(err)
		}
		if strings.Join(ids, " ") != "1 2 3 4 5" {
			t.Errorf("%s: ids %v, want one a message", chat, ids)
		}
		msgs := s.Messages(chat)
		if len(msgs) != 5 || msgs[0].MediaGroupID == "" || msgs[1].MediaGroupID != msgs[0].MediaGroupID {
			t.Fatalf("%s: %+v, want an album of 2, 2 parts, a document", chat, msgs)
		}
		if msgs[0].PlainText != "Agua\n\nDoce comunidades 🌊" || msgs[1].Text != "" || msgs[0].Silent {
			t.Errorf("%s: album %+v, want the caption on its first item, notifying", chat, msgs[:2])
		}
		for _, m := range msgs[2:] {
			if m.ReplyTo != 1 || !m.Silent {
				t.Errorf("%s: message %d replies to %d, silent %t; want a silent reply to the album", chat, m.ID, m.ReplyTo, m.Silent)
			}
		}
		if msgs[4].Kind != telegramtest.KindDocument || msgs[4].Filename != "informe.pdf" && !strings.HasPrefix(msgs[4].FileID, "BQAC") {
			t.Errorf("%s: last message %+v, want the PDF", chat, msgs[4])
		}
	}
	if s.Uploads() != 3 || s.FileIDSends() != 6 {
		t.Errorf("%d uploads and %d file_id sends, want 3 and 6", s.Uploads(), s.FileIDSends())
	}
	for id, n := range f.opened {
		if n != 1 {
			t.Errorf("%s opened %d times, want once (by the upload)", id, n)
		}
	}
}

// TestSendTelegramMediaRefusedFileID: a stored file_id that Telegram no
// longer knows is refused; the photo is uploaded again from a fresh
// reader, in the same call, and the new id is told.
func TestSendTelegramMediaRefusedFileID(t *testing.T) {
	s := telegramtest.Start(t, token)
	s.AddChat("@uno")
	c := newChannel(t, s.URL(), nil)
	f := newFiles()
	send := func() []string {
		t.Helper()
		ids, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{DeliveryID: "d", ChatID: "@uno",
			Lead: []dispatcher.TelegramMedia{{Caption: "foto", Files: []dispatcher.TelegramFile{f.file("att_a", "a.png", "image/png")}}}})
		if err != nil {
			t.Fatal(err)
		}
		return ids
	}
	send()
	first := f.uploaded["att_a"]
	s.ForgetFileIDs()
	if ids := send(); len(ids) != 1 {
		t.Fatalf("ids %v", ids)
	}
	if s.Uploads() != 2 || f.opened["att_a"] != 2 || f.uploaded["att_a"] == first || f.uploaded["att_a"] == "" {
		t.Errorf("%d uploads, %d readers, file id %q (was %q): want the photo uploaded again with a fresh reader and its new id kept",
			s.Uploads(), f.opened["att_a"], f.uploaded["att_a"], first)
	}
	if msgs := s.Messages("@uno"); len(msgs) != 2 || msgs[1].Kind != telegramtest.KindPhoto {
		t.Errorf("messages %+v, want two photos", msgs)
	}
}

// TestSendTelegramMediaLimits: the fake refuses a caption over 1024 UTF-16
// units (emoji count two) and an album of 11; the channel reports both as
// permanent.
func TestSendTelegramMediaLimits(t *testing.T) {
	s := telegramtest.Start(t, token)
	s.AddChat("@uno")
	c := newChannel(t, s.URL(), nil)
	f := newFiles()
	photo := f.file("att_a", "a.png", "image/png")
	_, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{DeliveryID: "d", ChatID: "@uno",
		Lead: []dispatcher.TelegramMedia{{Caption: strings.Repeat("🌊", 513), Files: []dispatcher.TelegramFile{photo}}}})
	if !dispatcher.IsPermanent(err) || !strings.Contains(err.Error(), "caption is too long") {
		t.Errorf("a caption of 1026 units: %v, want a permanent error", err)
	}
	if _, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{DeliveryID: "d", ChatID: "@uno",
		Lead: []dispatcher.TelegramMedia{{Caption: strings.Repeat("🌊", 512), Files: []dispatcher.TelegramFile{photo}}}}); err != nil {
		t.Errorf("a caption of 1024 units: %v", err)
	}
	album := make([]dispatcher.TelegramFile, 11)
	for i := range album {
		album[i] = photo
	}
	_, err = c.SendTelegram(t.Context(), &dispatcher.TelegramPost{DeliveryID: "d", ChatID: "@uno",
		Lead: []dispatcher.TelegramMedia{{Files: album}}})
	if !dispatcher.IsPermanent(err) {
		t.Errorf("an album of 11: %v, want a permanent error", err)
	}
}

// TestEditTelegramCaption: a photo's caption is edited; the same caption
// again succeeds (not modified); editing the caption of a text message or
// the text of a photo fails.
func TestEditTelegramCaption(t *testing.T) {
	s := telegramtest.Start(t, token)
	s.AddChat("@uno")
	c := newChannel(t, s.URL(), nil)
	f := newFiles()
	ids, err := c.SendTelegram(t.Context(), &dispatcher.TelegramPost{DeliveryID: "d", ChatID: "@uno", Parts: statement[:1], Thread: true,
		Lead: []dispatcher.TelegramMedia{{Caption: "<b>Agua</b>", Files: []dispatcher.TelegramFile{f.file("att_a", "a.png", "image/png")}}}})
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := c.EditTelegramCaption(t.Context(), "@uno", ids[0], "<b>Agua</b> <i>corregido</i>"); err != nil {
			t.Fatalf("edit caption: %v", err)
		}
	}
	if m := s.Messages("@uno")[0]; m.Edits != 1 || m.PlainText != "Agua corregido" {
		t.Errorf("photo after the edits: %q, %d edits; want the new caption, edited once", m.PlainText, m.Edits)
	}
	if err := c.EditTelegramCaption(t.Context(), "@uno", ids[1], "x"); !dispatcher.IsPermanent(err) {
		t.Errorf("caption of a text message: %v, want a permanent error", err)
	}
	if err := c.EditTelegram(t.Context(), "@uno", ids[0], "x"); !dispatcher.IsPermanent(err) {
		t.Errorf("text of a photo: %v, want a permanent error", err)
	}
	err = c.EditTelegramCaption(t.Context(), "@uno", strconv.Itoa(99), "x")
	if !errors.Is(err, dispatcher.ErrNotEditable) {
		t.Errorf("caption of a message that is not there: %v, want ErrNotEditable", err)
	}
}
