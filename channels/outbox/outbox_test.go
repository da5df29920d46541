package outbox_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"mime"
	"mime/multipart"
	netmail "net/mail"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/channels/outbox"
	"github.com/pregon/pregon/dispatcher"
)

var from = dispatcher.Address{Name: "Prensa Río Vivo", Email: "prensa@rio-vivo.example"}

func message(id, subject string) *dispatcher.EmailMessage {
	return &dispatcher.EmailMessage{
		DeliveryID: id,
		To:         dispatcher.Address{Name: "Ana Pérez", Email: "ana@example.org"},
		ReplyTo:    &dispatcher.Address{Email: "lucia@rio-vivo.example"},
		MessageID:  "rel1." + id + "@rio-vivo.example",
		Content: &dispatcher.EmailContent{
			Subject: subject,
			Text:    "“Cambiemos…”, dijo Ana Núñez.\n",
			HTML:    "<p>“Cambiemos…”, dijo <b>Ana Núñez</b>.</p>\n",
		},
		Headers: map[string]string{"List-Unsubscribe": "<https://pregon.example/u/1>"},
	}
}

func newOutbox(t *testing.T) (*outbox.Outbox, *bytes.Buffer) {
	t.Helper()
	var logs bytes.Buffer
	logger := slog.New(slog.NewTextHandler(&logs, nil))
	o, err := outbox.New(outbox.Config{Dir: filepath.Join(t.TempDir(), "outbox"), From: from, Logger: logger})
	if err != nil {
		t.Fatal(err)
	}
	return o, &logs
}

func TestNewWarnsAndCreatesFolders(t *testing.T) {
	o, logs := newOutbox(t)
	if !strings.Contains(logs.String(), "level=WARN") || !strings.Contains(logs.String(), o.Dir()) {
		t.Errorf("no warning naming the folder in the log:\n%s", logs)
	}
	for _, d := range []string{o.Dir(), filepath.Join(o.Dir(), "email"), filepath.Join(o.Dir(), "telegram")} {
		fi, err := os.Stat(d)
		if err != nil {
			t.Fatal(err)
		}
		if !fi.IsDir() || fi.Mode().Perm()&^0o750 != 0 {
			t.Errorf("%s: mode %v, want a folder with at most 0750", d, fi.Mode())
		}
	}
}

func TestSendEmailWritesEML(t *testing.T) {
	o, _ := newOutbox(t)
	in := message("d1", "Comunicado: “Cambiemos…” — acción")
	id, err := o.SendEmail(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if id != "<rel1.d1@rio-vivo.example>" {
		t.Errorf("id = %q", id)
	}
	path := filepath.Join(o.Dir(), "email", "d1.eml")
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	if fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if subject, _ := new(mime.WordDecoder).DecodeHeader(msg.Header.Get("Subject")); subject != in.Content.Subject {
		t.Errorf("subject %q, want %q", subject, in.Content.Subject)
	}
	if got := msg.Header.Get("From"); !strings.Contains(got, from.Email) {
		t.Errorf("From = %q", got)
	}
	if to, err := msg.Header.AddressList("To"); err != nil || len(to) != 1 || to[0].Address != "ana@example.org" {
		t.Errorf("To = %v (%v)", to, err)
	}
	if got := msg.Header.Get("Message-Id"); got != id {
		t.Errorf("Message-ID = %q, want %q", got, id)
	}
	typ, params, err := mime.ParseMediaType(msg.Header.Get("Content-Type"))
	if err != nil || typ != "multipart/alternative" {
		t.Fatalf("Content-Type %q (%v)", msg.Header.Get("Content-Type"), err)
	}
	mr := multipart.NewReader(msg.Body, params["boundary"])
	var bodies []string
	for {
		p, err := mr.NextPart() // decodes quoted-printable
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(p)
		bodies = append(bodies, strings.ReplaceAll(string(b), "\r\n", "\n"))
	}
	if diff := cmp.Diff([]string{in.Content.Text, in.Content.HTML}, bodies); diff != "" {
		t.Errorf("bodies (-want +got):\n%s", diff)
	}
}

func TestSendEmailOverwrites(t *testing.T) {
	o, _ := newOutbox(t)
	for _, subject := range []string{"primera", "segunda"} {
		if _, err := o.SendEmail(context.Background(), message("d1", subject)); err != nil {
			t.Fatal(err)
		}
	}
	entries, err := os.ReadDir(filepath.Join(o.Dir(), "email"))
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 || entries[0].Name() != "d1.eml" {
		t.Fatalf("files %v, want only d1.eml", entries)
	}
	data, _ := os.ReadFile(filepath.Join(o.Dir(), "email", "d1.eml"))
	if !bytes.Contains(data, []byte("Subject: segunda")) || bytes.Contains(data, []byte("primera")) {
		t.Errorf("file was not overwritten:\n%s", data)
	}
}

// Concurrent writes of one delivery leave one complete file and no temporary files.
func TestConcurrentWritesAreAtomic(t *testing.T) {
	o, _ := newOutbox(t)
	var wg sync.WaitGroup
	for i := range 8 {
		wg.Go(func() {
			m := message("same", strings.Repeat("x", i+1))
			m.Content.Text = strings.Repeat("línea larga con acentos\n", 2000)
			if _, err := o.SendEmail(context.Background(), m); err != nil {
				t.Error(err)
			}
		})
	}
	wg.Wait()
	entries, _ := os.ReadDir(filepath.Join(o.Dir(), "email"))
	if len(entries) != 1 {
		t.Fatalf("files %v, want one", entries)
	}
	data, _ := os.ReadFile(filepath.Join(o.Dir(), "email", "same.eml"))
	if _, err := netmail.ReadMessage(bytes.NewReader(data)); err != nil || !bytes.HasSuffix(data, []byte("--\r\n")) {
		t.Errorf("file is not one complete message (%v)", err)
	}
}

func TestSendTelegram(t *testing.T) {
	o, _ := newOutbox(t)
	post := &dispatcher.TelegramPost{
		DeliveryID: "t1",
		ChatID:     "@canal",
		Parts:      []string{"<b>“Cambiemos…”</b>\nprimera parte", "segunda parte\n", "tercera"},
	}
	ids, err := o.SendTelegram(context.Background(), post)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff([]string{"outbox-1", "outbox-2", "outbox-3"}, ids); diff != "" {
		t.Errorf("ids (-want +got):\n%s", diff)
	}
	path := filepath.Join(o.Dir(), "telegram", "t1.html")
	data, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	want := "----- message 1/3 -----\n<b>“Cambiemos…”</b>\nprimera parte\n" +
		"----- message 2/3 -----\nsegunda parte\n" +
		"----- message 3/3 -----\ntercera\n"
	if diff := cmp.Diff(want, string(data)); diff != "" {
		t.Errorf("file (-want +got):\n%s", diff)
	}
	if fi, _ := os.Stat(path); fi.Mode().Perm() != 0o640 {
		t.Errorf("mode %v, want 0640", fi.Mode().Perm())
	}
}

func TestBadInputIsPermanent(t *testing.T) {
	o, _ := newOutbox(t)
	for _, id := range []string{"", "../escape", "a/b", "dot.dot", strings.Repeat("a", 200)} {
		_, err := o.SendEmail(context.Background(), message(id, "x"))
		if !dispatcher.IsPermanent(err) || !errors.Is(err, outbox.ErrBadDeliveryID) {
			t.Errorf("email id %q: %v, want permanent ErrBadDeliveryID", id, err)
		}
		_, err = o.SendTelegram(context.Background(), &dispatcher.TelegramPost{DeliveryID: id, Parts: []string{"x"}})
		if !dispatcher.IsPermanent(err) || !errors.Is(err, outbox.ErrBadDeliveryID) {
			t.Errorf("telegram id %q: %v, want permanent ErrBadDeliveryID", id, err)
		}
	}
	m := message("d2", "x")
	m.Content = nil
	if _, err := o.SendEmail(context.Background(), m); !dispatcher.IsPermanent(err) {
		t.Errorf("no content: %v, want permanent", err)
	}
	entries, _ := os.ReadDir(filepath.Join(o.Dir(), "email"))
	if len(entries) != 0 {
		t.Errorf("files written for bad input: %v", entries)
	}
}

func TestWriteFailureIsTransient(t *testing.T) {
	o, _ := newOutbox(t)
	// A folder where the file should go makes the rename fail.
	if err := os.Mkdir(filepath.Join(o.Dir(), "email", "d3.eml"), 0o750); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(o.Dir(), "email", "d3.eml", "x"), nil, 0o640); err != nil {
		t.Fatal(err)
	}
	_, err := o.SendEmail(context.Background(), message("d3", "x"))
	if err == nil || dispatcher.IsPermanent(err) {
		t.Fatalf("err = %v, want transient", err)
	}
	entries, _ := os.ReadDir(filepath.Join(o.Dir(), "email"))
	if len(entries) != 1 {
		t.Errorf("temporary file left behind: %v", entries)
	}
}

// TestEmailDateFromClock checks that an email's Date header comes from
// Config.Now.
func TestEmailDateFromClock(t *testing.T) {
	at := time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)
	o, err := outbox.New(outbox.Config{Dir: t.TempDir(), Now: func() time.Time { return at }})
	if err != nil {
		t.Fatal(err)
	}
	m := message("d-clock", "Fecha")
	if _, err := o.SendEmail(context.Background(), m); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(filepath.Join(o.Dir(), "email", "d-clock.eml"))
	if err != nil {
		t.Fatal(err)
	}
	msg, err := netmail.ReadMessage(bytes.NewReader(data))
	if err != nil {
		t.Fatal(err)
	}
	if d, err := msg.Header.Date(); err != nil || !d.Equal(at) {
		t.Errorf("Date = %v (%v), want %v", d, err, at)
	}
}
