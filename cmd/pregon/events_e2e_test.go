package main

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/emersion/go-smtp"
	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// TestReleaseEventsEndToEnd follows a release through the running service's
// event stream, as a client would, while the real workers send it and the
// SMTP server refuses one address for good: counts whose sent count never
// goes down, one failure event for that address, the final release, then
// the end of the stream. `release status --watch`, its output not a
// terminal, prints the same story in plain lines and exits non-zero; on a
// release that all goes out it exits 0.
func TestReleaseEventsEndToEnd(t *testing.T) {
	s := startService(t)
	const refused = "rechazo@example.org"
	s.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if rcpt == refused {
			return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "no such user"}
		}
		return nil
	})
	var list, good, channel obj
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list); code != 201 {
		t.Fatalf("create list: %d %v", code, list)
	}
	contacts := []obj{
		{"email": "ana@example.org", "language": "es"}, {"email": "bob@example.net", "language": "en"},
		{"email": "carla@example.org", "language": "es"}, {"email": refused, "language": "es"},
	}
	if code := s.post("/v1/lists/"+list["id"].(string)+"/contacts", contacts, nil); code != 200 {
		t.Fatalf("import: %d", code)
	}
	s.tg.AddChat("@canal_eventos")
	if code := s.post("/v1/telegram/channels", obj{"chat_id": "@canal_eventos", "language": "es"}, &channel); code != 201 {
		t.Fatalf("create channel: %d %v", code, channel)
	}
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Comunidades piden consulta previa", "body": statementES, "language": "es",
		"audiences": obj{"lists": []string{list["id"].(string)}, "telegram_channels": []string{channel["id"].(string)}}}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)

	viewer := s.token("viewer")
	cl, err := client.New(s.url, viewer)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	es, err := cl.Events(ctx, id, "")
	if err != nil {
		t.Fatal(err)
	}
	defer es.Close()
	ev, err := es.Next()
	if err != nil || ev.Type != client.EventCounts || ev.Progress.Status != dispatcher.ReleaseDraft {
		t.Fatalf("first event = %+v, %v; want the counts of the draft", ev, err)
	}

	// The CLI watches too, from before the send.
	env := map[string]string{"PREGON_API_URL": s.url, "PREGON_TOKEN": viewer}
	var out, errb bytes.Buffer
	watched := make(chan int, 1)
	go func() {
		watched <- run(ctx, []string{"release", "status", id, "--watch"}, &out, &errb, func(k string) string { return env[k] })
	}()

	if code := s.post("/v1/releases/"+id+"/send", nil, nil); code != 202 {
		t.Fatalf("send: %d", code)
	}
	var (
		sent      = map[string]int64{} // per channel, and "" for all
		failures  []*client.Failure
		lastCount *client.Progress
		final     *client.Release
	)
	for {
		ev, err := es.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		if final != nil {
			t.Fatalf("event %s after the final one", ev.Type)
		}
		switch ev.Type {
		case client.EventCounts:
			c := ev.Progress.Counts
			now := map[string]int64{"": c.ByStatus[dispatcher.DeliverySent]}
			for ch, by := range c.ByChannel {
				now[string(ch)] = by[dispatcher.DeliverySent]
			}
			for k, n := range now {
				if n < sent[k] {
					t.Errorf("sent count of %q went down from %d to %d", k, sent[k], n)
				}
				sent[k] = n
			}
			lastCount = ev.Progress
		case client.EventFailure:
			failures = append(failures, ev.Failure)
		case client.EventFinal:
			final = ev.Release
		default:
			t.Errorf("unexpected event %s: %s", ev.Type, ev.Data)
		}
	}
	if final == nil || final.Status != dispatcher.ReleaseSentWithFailures {
		t.Fatalf("final release = %+v; want sent_with_failures", final)
	}
	if len(failures) != 1 || failures[0].Recipient != refused || failures[0].Channel != dispatcher.ChannelEmail ||
		failures[0].Status != dispatcher.DeliveryFailed || !strings.Contains(failures[0].LastError, "550") {
		t.Errorf("failures = %+v; want one, %s refused with 550", failures, refused)
	}
	if lastCount == nil || lastCount.Status != final.Status || lastCount.Counts.ByStatus[dispatcher.DeliverySent] != 4 ||
		lastCount.Counts.ByStatus[dispatcher.DeliveryFailed] != 1 || lastCount.Counts.ChannelTotal[dispatcher.ChannelTelegram] != 1 {
		t.Errorf("last counts = %+v; want the final ones: 4 sent (3 emails, 1 post), 1 failed", lastCount)
	}

	if code := <-watched; code != 1 {
		t.Errorf("release status --watch exited %d, want 1 (sent with failures); stderr %s", code, errb.String())
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	wantLast := "release " + id + ": sent_with_failures; email 3 sent, 1 failed, 0 pending of 4; telegram 1 sent, 0 failed, 0 pending of 1"
	if len(lines) > 1 && lines[len(lines)-2] == lines[len(lines)-1] {
		t.Errorf("watch printed its last line twice:\n%s", out.String())
	}
	if lines[len(lines)-1] != wantLast {
		t.Errorf("watch ended with %q, want %q; output:\n%s", lines[len(lines)-1], wantLast, out.String())
	}
	if !strings.Contains(out.String(), "\nfailed: email "+refused+" (es), attempt 1: ") && !strings.HasPrefix(out.String(), "failed: email "+refused) {
		t.Errorf("watch output does not name the failure:\n%s", out.String())
	}
	if strings.Contains(out.String(), "\x1b") || strings.Contains(out.String(), "█") {
		t.Errorf("watch drew bars on output that is not a terminal:\n%s", out.String())
	}
	if !strings.Contains(errb.String(), "ended sent_with_failures") {
		t.Errorf("watch stderr = %q, want it to say how the release ended", errb.String())
	}

	// A release that all goes out: --watch exits 0.
	if code := s.post("/v1/lists", obj{"name": "Buena", "kind": "press"}, &good); code != 201 {
		t.Fatalf("create list: %d", code)
	}
	if code := s.post("/v1/lists/"+good["id"].(string)+"/contacts", contacts[:2], nil); code != 200 {
		t.Fatalf("import: %d", code)
	}
	if code := s.post("/v1/releases", obj{"title": "Segundo comunicado", "body": statementES, "language": "es",
		"audiences": obj{"lists": []string{good["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	out.Reset()
	errb.Reset()
	if code := run(ctx, []string{"release", "status", rel["id"].(string), "--watch"}, &out, &errb, func(k string) string { return env[k] }); code != 0 {
		t.Errorf("watch of a release sent to all exited %d; stderr %s", code, errb.String())
	}
	if !strings.HasSuffix(strings.TrimSpace(out.String()), ": sent; email 2 sent, 0 failed, 0 pending of 2") {
		t.Errorf("watch output:\n%s", out.String())
	}
}
