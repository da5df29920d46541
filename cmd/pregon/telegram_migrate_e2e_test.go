package main

import (
	"fmt"
	"strings"
	"testing"

	"github.com/pregon/pregon/internal/telegramtest"
)

// messageIDs returns a delivery's message_ids.
func messageIDs(t *testing.T, d obj) []string {
	t.Helper()
	raw, _ := d["message_ids"].([]any)
	out := make([]string, len(raw))
	for i, v := range raw {
		out[i] = v.(string)
	}
	return out
}

// TestMigrationMidPostThenCorrection: a group upgraded to a supergroup after
// the first part of a post gets that part alone; the rest goes to the
// supergroup, and the delivery records its ids qualified with the
// supergroup's chat ("-1004301:1"), the first plain. A correction then
// edits each message where it is (the supergroup's; the group's cannot be)
// and adds its note in the supergroup, as a reply to the post's first
// message there.
func TestMigrationMidPostThenCorrection(t *testing.T) {
	s := startService(t)
	const group, super = "-4301", "-1004301"
	s.tg.AddChat(group)
	s.tg.MigrateAfter(group, super, 1)
	f := sentForCorrection(t, s, statementES, group)

	old, moved := s.tg.Messages(group), s.tg.Messages(super)
	if len(old) != 1 || len(moved) < 1 {
		t.Fatalf("the group got %d messages and the supergroup %d, want part 1 in the group and the rest in the supergroup", len(old), len(moved))
	}
	if !moved[0].Silent {
		t.Error("part 2, in the supergroup, notified its members")
	}
	want := []string{"1"}
	for _, m := range moved {
		want = append(want, fmt.Sprintf("%s:%d", super, m.ID))
	}
	d := s.deliveryTo(f.id, group)
	if got := messageIDs(t, d); strings.Join(got, " ") != strings.Join(want, " ") || d["status"] != "sent" {
		t.Fatalf("delivery %v with message_ids %v, want sent with %v", d["status"], got, want)
	}
	for i, p := range d["parts"].([]any) {
		if p.(obj)["status"] != "sent" || p.(obj)["message_id"] != want[i] {
			t.Errorf("part %d: %v, want sent as %s", i+1, p, want[i])
		}
	}

	corrected := strings.ReplaceAll(statementES, "Valle Alto", "Valle Alto (corregido)")
	note := "El número de concesiones era tres, no cuatro."
	var c obj
	if code := s.post("/v1/releases/"+f.id+"/corrections", obj{"note": note, "body": corrected}, &c); code != 202 {
		t.Fatalf("correction: %d %v", code, c)
	}
	cid := c["id"].(string)
	if c = f.waitCorrection(t, cid); c["status"] != "sent" {
		t.Fatalf("correction %v, want sent", c)
	}
	if got := s.tg.Messages(group); len(got) != 1 || got[0].Edits != 0 {
		t.Errorf("the group has %+v, want its one message as it was (it can no longer be edited)", got)
	}
	after := s.tg.Messages(super)
	if len(after) != len(moved)+1 {
		t.Fatalf("the supergroup has %d messages, want its %d parts and the note", len(after), len(moved))
	}
	for i, m := range after[:len(moved)] {
		if m.Edits != 1 { // the fake counts an edit only when it changes the text
			t.Errorf("supergroup message %d (part %d) edited %d times, want once", m.ID, i+2, m.Edits)
		}
	}
	last := after[len(after)-1]
	if last.PlainText != "Corrección: "+note || last.ReplyTo != moved[0].ID {
		t.Errorf("the supergroup's last message: %q replying to %d, want the note replying to %d", last.PlainText, last.ReplyTo, moved[0].ID)
	}
	cd := s.deliveryTo(cid, group)
	wantC := append(append([]string(nil), want...), fmt.Sprintf("%s:%d", super, last.ID))
	if got := messageIDs(t, cd); strings.Join(got, " ") != strings.Join(wantC, " ") {
		t.Errorf("the correction's delivery has message_ids %v, want %v", got, wantC)
	}
}

// TestResumeAfterMigrationEndToEnd: a group upgraded after part 1 of a
// 3-part post; in the supergroup part 2 is posted and part 3 gets no
// answer. Resumed, the rest goes to the chat of the last message posted,
// the supergroup, as a reply to the post's first message there; the group
// gets nothing more and no part is posted twice.
func TestResumeAfterMigrationEndToEnd(t *testing.T) {
	s := startService(t)
	const group, super = "-4302", "-1004302"
	s.tg.AddChat(group)
	var ch, rel obj
	if code := s.post("/v1/telegram/channels", obj{"chat_id": group, "title": "Grupo"}, &ch); code != 201 {
		t.Fatalf("create channel: %d %v", code, ch)
	}
	s.tg.MigrateAfter(group, super, 1)
	s.tg.FailAfter(super, 1, 1, telegramtest.Failure{Reset: true})
	if code := s.post("/v1/releases", obj{"title": "Largo", "body": statementES + "\n\n" + statementES, "language": "es",
		"audiences": obj{"telegram_channels": []string{ch["id"].(string)}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)
	if rel = s.waitFinal(id); rel["status"] != "sent_with_failures" {
		t.Fatalf("release %v, want sent_with_failures (part 3 uncertain)", rel["status"])
	}
	d := s.deliveryTo(id, group)
	parts, _ := d["parts"].([]any)
	if got := messageIDs(t, d); d["status"] != "uncertain" || len(parts) < 3 || strings.Join(got, " ") != "1 "+super+":1" {
		t.Fatalf("delivery %v with message_ids %v and %d parts, want uncertain with [1 %s:1] and 3 or more parts", d["status"], got, len(parts), super)
	}
	if c := s.channelByID(ch["id"].(string)); c["chat_id"] != super {
		t.Errorf("channel after the migration: %v, want chat_id %s", c, super)
	}

	var out obj
	if code := s.post("/v1/releases/"+id+"/deliveries/"+d["id"].(string)+"/resume", nil, &out); code != 202 {
		t.Fatalf("resume: %d %v", code, out)
	}
	if rel = s.waitFinal(id); rel["status"] != "sent" {
		t.Fatalf("release after the resume: %v, want sent", rel["status"])
	}
	if n := len(s.tg.Messages(group)); n != 1 {
		t.Errorf("the group has %d messages, want part 1 alone", n)
	}
	msgs := s.tg.Messages(super)
	if len(msgs) != len(parts)-1 {
		t.Fatalf("the supergroup has %d messages, want the %d parts after the first (none twice)", len(msgs), len(parts)-1)
	}
	if msgs[1].ReplyTo != msgs[0].ID {
		t.Errorf("the resumed part replies to %d, want the post's first message in the supergroup (%d)", msgs[1].ReplyTo, msgs[0].ID)
	}
	want := []string{"1"}
	for _, m := range msgs {
		want = append(want, fmt.Sprintf("%s:%d", super, m.ID))
	}
	d = s.deliveryTo(id, group)
	if got := messageIDs(t, d); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Errorf("message_ids after the resume: %v, want %v", got, want)
	}
	for i, p := range d["parts"].([]any) {
		if p.(obj)["status"] != "sent" {
			t.Errorf("after the resume part %d is %v", i+1, p)
		}
	}
}
