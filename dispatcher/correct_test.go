package dispatcher_test

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/dispatcher"
)

// longBody returns a body of n paragraphs of about 500 characters, each
// numbered and marked with word.
func longBody(word string, n int) string {
	ps := make([]string, n)
	for i := range ps {
		ps[i] = fmt.Sprintf("Párrafo %d (%s). %s", i+1, word, strings.Repeat("Las comunidades del valle piden una consulta. ", 10))
	}
	return strings.Join(ps, "\n\n")
}

// TestCorrectionPlansFromSentAndEditsPosts: a correction goes to the
// addresses whose email was sent, minus those suppressed since, and edits
// the Telegram post in place: parts it no longer needs point up, parts it
// needs beyond the post are replies to its last message, and a later
// correction edits the post as the one before left it.
func TestCorrectionPlansFromSentAndEditsPosts(t *testing.T) {
	h := newHarness(t)
	ctx := context.Background()
	h.smtp.SetHandler(func(rcpt string, _ int) *smtp.SMTPError {
		if rcpt == "gone@example.org" {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	ch := &dispatcher.TelegramChannel{ChatID: "@canal", Language: "es"}
	if err := h.store.CreateChannel(ctx, ch); err != nil {
		t.Fatal(err)
	}
	rel := &dispatcher.Release{Title: "Comunicado", Body: longBody("original", 12), Language: "es", Version: 1,
		Audiences: dispatcher.Audiences{Lists: []string{h.list(t, "ana@example.org", "quit@example.org", "gone@example.org")}, TelegramChannels: []string{ch.ID}}}
	if err := h.store.CreateRelease(ctx, rel); err != nil {
		t.Fatal(err)
	}
	if _, err := h.svc.Send(ctx, rel.ID, nil); err != nil {
		t.Fatal(err)
	}
	if r := h.wait(t, rel.ID); r.Status != dispatcher.ReleaseSentWithFailures {
		t.Fatalf("release %s, want sent_with_failures", r.Status)
	}
	posted := len(h.tg.Messages("@canal"))
	if posted != 2 {
		t.Fatalf("the release went as %d Telegram messages, want 2", posted)
	}
	mailed := len(h.smtp.Messages())
	if err := h.store.Suppress(ctx, "quit@example.org", "unsubscribed"); err != nil {
		t.Fatal(err)
	}

	correct := func(note, body string) *dispatcher.Release {
		t.Helper()
		c, created, err := h.svc.Correct(ctx, rel.ID, &dispatcher.CorrectionRequest{Note: note, Body: &body, Author: "ana"})
		if err != nil || !created {
			t.Fatalf("Correct = %v, %v", created, err)
		}
		return h.wait(t, c.ID)
	}

	// Shorter: the second message points up.
	c1 := correct("Texto abreviado.", "Un solo párrafo corregido.")
	if got := c1.Counts.ByChannel[dispatcher.ChannelEmail]; got[dispatcher.DeliverySent] != 1 || got[dispatcher.DeliverySuppressed] != 1 || c1.Counts.Total != 3 {
		t.Errorf("first correction counts %+v, want ana@ sent, quit@ suppressed and the post", c1.Counts.ByChannel)
	}
	for _, m := range h.smtp.Messages()[mailed:] {
		if m.To[0] != "ana@example.org" {
			t.Errorf("the correction was mailed to %s", m.To[0])
		}
	}
	if _, err := h.store.Delivery(ctx, c1.ID, dispatcher.DeliveryID(c1.ID, dispatcher.ChannelEmail, "gone@example.org")); !errors.Is(err, dispatcher.ErrNotFound) {
		t.Errorf("gone@, whose email failed, has a delivery of the correction: %v", err)
	}
	ms := h.tg.Messages("@canal")
	if len(ms) != 2 || !strings.HasPrefix(ms[0].PlainText, "Corrección: Texto abreviado.") || !strings.Contains(ms[0].PlainText, "Un solo párrafo corregido.") ||
		ms[1].PlainText != "⬆ El texto corregido está arriba." {
		t.Fatalf("after the first correction: %+v", ms)
	}

	// Longer: both messages edited, a third as a reply to the second.
	c2 := correct("Texto ampliado.", longBody("ampliado", 18))
	ms = h.tg.Messages("@canal")
	if len(ms) != 3 || ms[2].ReplyTo != 2 || !strings.Contains(ms[1].PlainText, "(ampliado)") || ms[1].Edits != 2 {
		t.Fatalf("after the second correction: %d messages %+v", len(ms), ms)
	}
	if d := h.delivery(t, c2.ID, dispatcher.ChannelTelegram, "@canal"); !slices.Equal(d.MessageIDs, []string{"1", "2", "3"}) {
		t.Errorf("second correction's post = %v, want messages 1 2 3", d.MessageIDs)
	}

	// Shorter again: the third message, which the second correction added, points up too.
	correct("Vuelta al texto breve.", "Otro párrafo único.")
	ms = h.tg.Messages("@canal")
	if len(ms) != 3 || ms[2].Edits != 1 || ms[2].PlainText != "⬆ El texto corregido está arriba." || ms[1].Edits != 3 {
		t.Fatalf("after the third correction: %+v", ms)
	}

	// The same request as the latest is that correction; one that changes nothing is refused.
	body := "Otro párrafo único."
	c, created, err := h.svc.Correct(ctx, rel.ID, &dispatcher.CorrectionRequest{Note: "Vuelta al texto breve.", Body: &body, Author: "luis"})
	if err != nil || created || c.Version != 4 {
		t.Errorf("the latest correction again = %+v, %v, %v", c, created, err)
	}
	if _, _, err := h.svc.Correct(ctx, rel.ID, &dispatcher.CorrectionRequest{Note: "Otra nota.", Body: &body}); !errors.Is(err, dispatcher.ErrNoChange) {
		t.Errorf("a correction that changes nothing: %v, want ErrNoChange", err)
	}
	cs, err := h.svc.Corrections(ctx, rel.ID)
	if err != nil || len(cs) != 3 || cs[0].Version != 2 || cs[2].Version != 4 || cs[0].Author != "ana" {
		t.Errorf("Corrections = %+v, %v", cs, err)
	}
	// Nothing but the corrections went out: the release's counts are its own.
	if r, _ := h.store.Release(ctx, rel.ID); r.Counts.Total != 4 || r.Counts.ByStatus[dispatcher.DeliveryFailed] != 1 {
		t.Errorf("release counts %+v", r.Counts.ByStatus)
	}
}

// TestCorrectionBeforeSendingIsRefused: a draft is edited, not corrected.
func TestCorrectionBeforeSendingIsRefused(t *testing.T) {
	h := newIdleHarness(t, dispatcher.Config{})
	rid := h.release(t, dispatcher.Audiences{Lists: []string{h.list(t, "ana@example.org")}})
	body := "Otro texto."
	_, _, err := h.svc.Correct(context.Background(), rid, &dispatcher.CorrectionRequest{Note: "Nota.", Body: &body})
	if !errors.Is(err, dispatcher.ErrConflict) || !errors.Is(err, dispatcher.ErrNotSent) {
		t.Fatalf("correction of a draft: %v, want ErrConflict and ErrNotSent", err)
	}
	if r, _ := h.store.Release(context.Background(), rid); r.Body == body || r.Status != dispatcher.ReleaseDraft {
		t.Errorf("the refused correction changed the release: %+v", r)
	}
}
