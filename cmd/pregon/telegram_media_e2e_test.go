package main

import (
	"bytes"
	"fmt"
	"mime/multipart"
	"strings"
	"testing"

	"github.com/pregon/pregon/internal/telegramtest"
)

// Files a release carries in the Telegram media tests.
var (
	mediaPNG = append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1, 2, 3, 255}, 5000)...)
	mediaJPG = append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7, 8}, 4000)...)
	mediaPDF = append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("datos \x00\x01\xfe"), 2000)...)
)

// attach adds a file to release id through the API (multipart/form-data).
func (s *service) attach(id, filename string, data []byte, role string) {
	s.t.Helper()
	var body bytes.Buffer
	w := multipart.NewWriter(&body)
	fw, err := w.CreateFormFile("file", filename)
	if err != nil {
		s.t.Fatal(err)
	}
	fw.Write(data)
	if role != "" {
		w.WriteField("role", role)
	}
	w.Close()
	var out obj
	if code, _ := s.do(s.admin, "POST", "/v1/releases/"+id+"/attachments", w.FormDataContentType(), body.Bytes(), &out); code != 201 {
		s.t.Fatalf("attach %s: %d %v", filename, code, out)
	}
}

// channels registers a channel for each chat, in the fake too, with
// fields, and returns their ids.
func (s *service) channels(chats []string, fields obj) []string {
	s.t.Helper()
	var ids []string
	for _, chat := range chats {
		s.tg.AddChat(chat)
		in := obj{"chat_id": chat}
		for k, v := range fields {
			in[k] = v
		}
		var ch obj
		if code := s.post("/v1/telegram/channels", in, &ch); code != 201 {
			s.t.Fatalf("create channel %s: %d %v", chat, code, ch)
		}
		ids = append(ids, ch["id"].(string))
	}
	return ids
}

func (s *service) noViolations() {
	s.t.Helper()
	if n := s.tg.Violations(); n != 0 {
		s.t.Errorf("%d requests broke a rate limit (global %d, per chat and second %d, per chat and minute %d)", n,
			s.tg.ViolationsOf(telegramtest.LimitGlobal), s.tg.ViolationsOf(telegramtest.LimitChatSecond),
			s.tg.ViolationsOf(telegramtest.LimitChatMinute))
	}
}

// TestTelegramMediaEndToEnd (issue 11 item 3): a release with a lead image,
// another image and a PDF goes to 30 channels through `pregon serve`: each
// full channel gets the two images as one album (the caption, title and
// summary, on the first item; only the album notifies), the text numbered as
// replies to the album, and the PDF as a document replying to it too; a
// summary channel gets the lead image alone with title, summary and a link
// in its caption. Each file is uploaded once; every other post sends its
// file_id. No request breaks a rate limit (each album item counts).
func TestTelegramMediaEndToEnd(t *testing.T) {
	s := startService(t, withStrictBotAPI)
	var chats []string
	for i := range 29 {
		chats = append(chats, fmt.Sprintf("@medios_%02d", i))
	}
	ids := s.channels(chats, nil)
	ids = append(ids, s.channels([]string{"@medios_resumen"}, obj{"mode": "summary"})...)
	const src = "https://coalicion.example/comunicados/dragado"
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Paran las obras de dragado", "summary": "Doce comunidades logran frenar el dragado del río.",
		"body": statementES + "\n\n" + statementES, "language": "es", "source_url": src,
		"audiences": obj{"telegram_channels": ids}}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	s.attach(id, "portada.png", mediaPNG, "lead_image")
	s.attach(id, "rio.jpg", mediaJPG, "")
	s.attach(id, "informe.pdf", mediaPDF, "")
	if code := s.post("/v1/releases/"+id+"/send", nil, nil); code != 202 {
		t.Fatalf("send: %d", code)
	}
	if rel = s.waitFinal(id); rel["status"] != "sent" {
		t.Fatalf("release %v, want sent", rel["status"])
	}
	s.noViolations()
	if up, reuse := s.tg.Uploads(), s.tg.FileIDSends(); up != 3 || reuse != 29*3-3+1 {
		// 29 full posts × 3 files and the summary's photo; the 3 files uploaded once.
		t.Errorf("%d uploads and %d file_id sends, want 3 and %d", up, reuse, 29*3-3+1)
	}
	for _, chat := range chats {
		msgs := s.tg.Messages(chat)
		if len(msgs) < 5 {
			t.Fatalf("%s got %d messages, want an album of 2, the text in 2 parts or more, a document", chat, len(msgs))
		}
		album, text, doc := msgs[:2], msgs[2:len(msgs)-1], msgs[len(msgs)-1]
		if album[0].Kind != telegramtest.KindPhoto || album[1].Kind != telegramtest.KindPhoto || album[0].MediaGroupID == "" ||
			album[0].MediaGroupID != album[1].MediaGroupID {
			t.Fatalf("%s: first messages %+v, want an album of two photos", chat, album)
		}
		if !strings.HasPrefix(album[0].PlainText, "Paran las obras de dragado\n\nDoce comunidades") || album[0].Silent {
			t.Errorf("%s: album caption %q silent %t; want title and summary, notifying", chat, album[0].PlainText, album[0].Silent)
		}
		for i, m := range text {
			if want := fmt.Sprintf("(%d/%d)", i+1, len(text)); m.Kind != "" || !strings.HasSuffix(m.PlainText, want) {
				t.Errorf("%s: text part %d is a %q ending %q, want text numbered %s", chat, i+1, m.Kind, tail(m.PlainText, 10), want)
			}
		}
		for _, m := range append(text, doc) {
			if m.ReplyTo != album[0].ID || !m.Silent {
				t.Errorf("%s: message %d replies to %d (silent %t), want a silent reply to the album (%d)", chat, m.ID, m.ReplyTo, m.Silent, album[0].ID)
			}
		}
		if doc.Kind != telegramtest.KindDocument || doc.Filename != "informe.pdf" && !strings.HasPrefix(doc.FileID, "BQAC") {
			t.Errorf("%s: last message %+v, want the PDF as a document", chat, doc)
		}
	}
	sum := s.tg.Messages("@medios_resumen")
	if len(sum) != 1 || sum[0].Kind != telegramtest.KindPhoto || sum[0].MediaGroupID != "" ||
		!strings.Contains(sum[0].Text, `href="`+src+`"`) || !strings.Contains(sum[0].PlainText, "Doce comunidades") {
		t.Fatalf("summary channel got %+v, want one photo whose caption has the summary and links to %s", sum, src)
	}
	d := s.deliveryTo(id, chats[0])
	if parts, _ := d["parts"].([]any); len(parts) != len(s.tg.Messages(chats[0])) || len(d["message_ids"].([]any)) != len(parts) {
		t.Errorf("delivery keeps %v for %d messages, want one id per message", d["message_ids"], len(s.tg.Messages(chats[0])))
	}

}

// TestTelegramMediaResumeAfterPhoto: a post whose photo went and whose
// first text part got no answer is uncertain; resuming it posts the text,
// as replies to the photo, and never the photo again nor its bytes. A
// correction then edits the photo's caption and the text in place.
func TestTelegramMediaResumeAfterPhoto(t *testing.T) {
	s := startService(t, withStrictBotAPI)
	const chat = "@canal_foto"
	ids := s.channels([]string{chat}, nil)
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Foto", "summary": "Con foto.", "body": statementES + "\n\n" + statementES,
		"language": "es", "audiences": obj{"telegram_channels": ids}}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	s.attach(id, "portada.png", mediaPNG, "lead_image")
	s.tg.FailAfter(chat, 1, 1, telegramtest.Failure{Reset: true})
	if code := s.post("/v1/releases/"+id+"/send", nil, nil); code != 202 {
		t.Fatalf("send: %d", code)
	}
	if rel = s.waitFinal(id); rel["status"] != "sent_with_failures" {
		t.Fatalf("release %v, want sent_with_failures (part 2 uncertain)", rel["status"])
	}
	d := s.deliveryTo(id, chat)
	parts, _ := d["parts"].([]any)
	if d["status"] != "uncertain" || len(parts) < 3 || parts[0].(obj)["status"] != "sent" || parts[1].(obj)["status"] != "uncertain" {
		t.Fatalf("delivery %v with parts %v, want uncertain after the photo", d["status"], parts)
	}
	if msgs := s.tg.Messages(chat); len(msgs) != 1 || msgs[0].Kind != telegramtest.KindPhoto {
		t.Fatalf("the channel has %+v before the resume, want the photo alone", msgs)
	}
	var out obj
	if code := s.post("/v1/releases/"+id+"/deliveries/"+d["id"].(string)+"/resume", nil, &out); code != 202 {
		t.Fatalf("resume: %d %v", code, out)
	}
	if rel = s.waitFinal(id); rel["status"] != "sent" {
		t.Fatalf("release after the resume: %v, want sent", rel["status"])
	}
	msgs := s.tg.Messages(chat)
	if len(msgs) != len(parts) || msgs[0].Kind != telegramtest.KindPhoto {
		t.Fatalf("the channel has %d messages, want %d (the photo once, then the text)", len(msgs), len(parts))
	}
	for i, m := range msgs[1:] {
		if m.Kind != "" || m.ReplyTo != msgs[0].ID || !m.Silent {
			t.Errorf("part %d: %q replying to %d, silent %t; want silent text replying to the photo", i+1, m.Kind, m.ReplyTo, m.Silent)
		}
	}
	if up := s.tg.Uploads(); up != 1 {
		t.Errorf("%d uploads, want the photo once", up)
	}
	s.noViolations()

	var c obj
	if code := s.post("/v1/releases/"+id+"/corrections", obj{"note": "Era otra foto.", "summary": "Con otra foto."}, &c); code != 202 {
		t.Fatalf("correction: %d %v", code, c)
	}
	if c = s.waitFinal(c["id"].(string)); c["status"] != "sent" {
		t.Fatalf("correction %v, want sent", c["status"])
	}
	after := s.tg.Messages(chat)
	if m := after[0]; m.Edits != 1 || !strings.Contains(m.PlainText, "Era otra foto.") || !strings.Contains(m.PlainText, "Con otra foto.") {
		t.Errorf("caption after the correction %q (%d edits), want the note and the new summary", m.PlainText, m.Edits)
	}
	for _, m := range after[1:len(msgs)] {
		if m.Edits != 1 {
			t.Errorf("text message %d edited %d times, want once", m.ID, m.Edits)
		}
	}
}
