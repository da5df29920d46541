package dispatcher_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/mock"
)

// memTests is an in-memory dispatcher.TestStore and dispatcher.TestQueue.
type memTests struct {
	mu       sync.Mutex
	n        int
	tests    map[string][]byte // JSON, as a store keeps it
	enqueued []string
}

func newMemTests() *memTests { return &memTests{tests: map[string][]byte{}} }

func (m *memTests) CreateTest(_ context.Context, t *dispatcher.TestSend, _ time.Duration) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.n++
	t.ID, t.CreatedAt = fmt.Sprintf("tst_%d", m.n), t0
	m.tests[t.ID], _ = json.Marshal(t)
	return nil
}

func (m *memTests) Test(_ context.Context, id string) (*dispatcher.TestSend, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	data, ok := m.tests[id]
	if !ok {
		return nil, dispatcher.ErrNotFound
	}
	var t dispatcher.TestSend
	err := json.Unmarshal(data, &t)
	return &t, err
}

func (m *memTests) SaveTest(_ context.Context, t *dispatcher.TestSend) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	if _, ok := m.tests[t.ID]; !ok {
		return dispatcher.ErrNotFound
	}
	m.tests[t.ID], _ = json.Marshal(t)
	return nil
}

func (m *memTests) EnqueueTest(_ context.Context, id string) error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.enqueued = append(m.enqueued, id)
	return nil
}

// testService returns a Service on the rig with test sends kept in tests.
func (r *rig) testService(t *testing.T, tests *memTests) *dispatcher.Service {
	t.Helper()
	s, err := dispatcher.NewService(dispatcher.Config{Store: r.store, Queue: r.queue, Renderer: r.render, Email: r.email, Telegram: r.tg,
		Now: r.clock.Now, WorkerID: "w1", Logger: slog.New(slog.NewTextHandler(io.Discard, nil)), Tests: tests, TestQueue: tests,
		MessageIDDomain: "coalicion.example",
		Links:           &mock.Links{UnsubscribeURLFn: func(email, rid string) string { return "https://p.example/u/" + email + "/" + rid }}})
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// startTest starts a test send of rid in lang to recipients ("@..." and
// "-..." are chats, the rest addresses) and returns its id.
func startTest(t *testing.T, s *dispatcher.Service, rid, lang string, recipients ...string) string {
	t.Helper()
	ts := &dispatcher.TestSend{ReleaseID: rid, Version: 1, Language: lang}
	for _, to := range recipients {
		ch := dispatcher.ChannelEmail
		if strings.HasPrefix(to, "@") || strings.HasPrefix(to, "-") {
			ch = dispatcher.ChannelTelegram
		}
		ts.Results = append(ts.Results, dispatcher.TestResult{Channel: ch, Recipient: to})
	}
	if err := s.StartTest(context.Background(), ts); err != nil {
		t.Fatal(err)
	}
	return ts.ID
}

// TestRunTestSendsWhatADeliveryWould checks that a test send gives each
// address the email a delivery would build (content, Reply-To, the
// recipient's own unsubscribe link and headers), with [TEST] in front of the
// subject alone, and each chat the rendered post with a [TEST] line; that
// it makes no delivery; and that a second run sends nothing again.
func TestRunTestSendsWhatADeliveryWould(t *testing.T) {
	r := newRig()
	rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseSent, Title: "Nota", Language: "es", Version: 3,
		Translations: []dispatcher.Translation{{Language: "en", Title: "Note", Body: "Text."}},
		Contact:      &dispatcher.PressContact{Name: "Lucía", Email: "lucia@coalicion.example"}})
	tests := newMemTests()
	s := r.testService(t, tests)
	id := startTest(t, s, rid, "en", "ana@example.org", "@canal")
	if len(tests.enqueued) != 1 || tests.enqueued[0] != id {
		t.Fatalf("enqueued %v, want [%s]", tests.enqueued, id)
	}
	if err := s.RunTest(context.Background(), id); err != nil {
		t.Fatal(err)
	}

	sent := r.email.Calls("SendEmail")
	if len(sent) != 1 {
		t.Fatalf("%d emails sent, want 1", len(sent))
	}
	msg := sent[0].Args[0].(*dispatcher.EmailMessage)
	want := &dispatcher.EmailMessage{
		DeliveryID: id + "-1", To: dispatcher.Address{Email: "ana@example.org"},
		ReplyTo:   &dispatcher.Address{Name: "Lucía", Email: "lucia@coalicion.example"},
		MessageID: id + "-1." + rid + "@coalicion.example",
		Content:   &dispatcher.EmailContent{Subject: "[TEST] Note", Text: "Note", HTML: "<p>Note</p>"},
		Headers: map[string]string{"List-Unsubscribe": "<https://p.example/u/ana@example.org/" + rid + ">",
			"List-Unsubscribe-Post": "List-Unsubscribe=One-Click"},
		UnsubscribeURL: "https://p.example/u/ana@example.org/" + rid,
	}
	if diff := cmp.Diff(want, msg); diff != "" {
		t.Errorf("test email (-want +got):\n%s", diff)
	}
	posts := r.tg.Calls("SendTelegram")
	if len(posts) != 1 {
		t.Fatalf("%d posts sent, want 1", len(posts))
	}
	if p := posts[0].Args[0].(*dispatcher.TelegramPost); p.ChatID != "@canal" || strings.Join(p.Parts, "|") != "<b>[TEST]</b>\nNote" {
		t.Errorf("test post %+v, want the rendered post with a [TEST] line to @canal", p)
	}

	got, err := s.Test(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	wantResults := []dispatcher.TestResult{
		{Channel: dispatcher.ChannelEmail, Recipient: "ana@example.org", Status: dispatcher.TestSent, MessageIDs: []string{id + "-1." + rid + "@coalicion.example"}},
		{Channel: dispatcher.ChannelTelegram, Recipient: "@canal", Status: dispatcher.TestSent, MessageIDs: []string{id + "-2/a"}},
	}
	if diff := cmp.Diff(wantResults, got.Results); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	if got.Status != dispatcher.TestDone || got.Version != 3 || got.FinishedAt == nil {
		t.Errorf("test %+v, want done, of version 3, with its end time", got)
	}
	// Only reads: no delivery made, claimed or moved.
	for _, c := range r.store.Calls() {
		if c.Method != "Release" && c.Method != "Suppressed" {
			t.Errorf("test send called Store.%s", c.Method)
		}
	}

	if err := s.RunTest(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	if n, m := r.email.Count("SendEmail"), r.tg.Count("SendTelegram"); n != 1 || m != 1 {
		t.Errorf("after a second run: %d emails and %d posts, want 1 and 1", n, m)
	}
}

// TestRunTestResults checks each recipient's result when things go wrong:
// a suppressed address is not mailed, a refused one and a transient failure
// are failed with the error (not retried), and a cancelled release sends
// nothing.
func TestRunTestResults(t *testing.T) {
	r := newRig()
	r.mem.Suppress("gone@example.org", "hard_bounce")
	r.email.SendEmailFn = func(_ context.Context, msg *dispatcher.EmailMessage) (string, error) {
		switch msg.To.Email {
		case "refused@example.org":
			return "", dispatcher.Permanent(errors.New("550 5.1.1 no such user"))
		case "busy@example.org":
			return "", dispatcher.Transient(errors.New("451 4.7.1 try again"), 0)
		}
		return msg.MessageID, nil
	}
	rid := r.mem.AddRelease(dispatcher.Release{Status: dispatcher.ReleaseDraft, Title: "Nota", Language: "es", Version: 1})
	tests := newMemTests()
	s := r.testService(t, tests)
	id := startTest(t, s, rid, "es", "ok@example.org", "gone@example.org", "refused@example.org", "busy@example.org")
	if err := s.RunTest(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	got, _ := s.Test(context.Background(), id)
	statuses := map[string]string{}
	for _, res := range got.Results {
		statuses[res.Recipient] = string(res.Status) + ": " + res.Error
	}
	want := map[string]string{
		"ok@example.org":      "sent: ",
		"gone@example.org":    "suppressed: the address is suppressed (it unsubscribed, bounced or complained): Pregón never mails it",
		"refused@example.org": "failed: 550 5.1.1 no such user (permanent)",
		"busy@example.org":    "failed: 451 4.7.1 try again (transient)",
	}
	if diff := cmp.Diff(want, statuses); diff != "" {
		t.Errorf("results (-want +got):\n%s", diff)
	}
	for _, c := range r.email.Calls("SendEmail") {
		if to := c.Args[0].(*dispatcher.EmailMessage).To.Email; to == "gone@example.org" {
			t.Errorf("a suppressed address was mailed")
		}
	}
	if n := r.email.Count("SendEmail"); n != 3 {
		t.Errorf("%d emails tried, want 3 (once each, the suppressed one not at all)", n)
	}

	// Cancelled between the request and the run: nothing goes.
	id = startTest(t, s, rid, "es", "ok@example.org", "@canal")
	if _, err := r.mem.SetReleaseStatus(context.Background(), rid, dispatcher.ReleaseCancelled, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	r.email.Reset()
	if err := s.RunTest(context.Background(), id); err != nil {
		t.Fatal(err)
	}
	got, _ = s.Test(context.Background(), id)
	for _, res := range got.Results {
		if res.Status != dispatcher.TestFailed || !strings.Contains(res.Error, "cancelled") {
			t.Errorf("result %+v of a cancelled release, want failed saying so", res)
		}
	}
	if r.email.Count("SendEmail")+r.tg.Count("SendTelegram") != 0 {
		t.Errorf("a cancelled release's test sent something")
	}
}

// TestTestParts checks that the [TEST] line goes in front of the first
// message when that still fits in Telegram's 4096 characters, and as a
// message of its own when it does not, the release's messages unchanged.
func TestTestParts(t *testing.T) {
	short := []string{"<b>Título</b>\n\nTexto.", "Segunda parte."}
	if diff := cmp.Diff([]string{"<b>[TEST]</b>\n<b>Título</b>\n\nTexto.", "Segunda parte."}, dispatcher.TestParts(short)); diff != "" {
		t.Errorf("short first message (-want +got):\n%s", diff)
	}
	// 4090 characters: with "[TEST]\n" it would be 4097.
	full := []string{strings.Repeat("ñ", 4090), "fin"}
	if diff := cmp.Diff([]string{"<b>[TEST]</b>", full[0], "fin"}, dispatcher.TestParts(full)); diff != "" {
		t.Errorf("full first message (-want +got):\n%s", diff)
	}
	if short[0] != "<b>Título</b>\n\nTexto." {
		t.Errorf("TestParts changed its input")
	}
	// Characters outside the BMP count two, as Telegram counts them.
	emoji := []string{strings.Repeat("📣", 2045)} // 4090 UTF-16 units
	if got := dispatcher.TestParts(emoji); len(got) != 2 || got[0] != "<b>[TEST]</b>" {
		t.Errorf("a first message of 4090 UTF-16 units got the line in front: %d messages", len(got))
	}
}
