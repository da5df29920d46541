package dispatcher

import (
	"testing"

	"github.com/google/go-cmp/cmp"
)

func TestMessageIDForms(t *testing.T) {
	const group = "-4001"
	tests := []struct {
		chat, id, recorded string
	}{
		{group, "42", "42"},
		{"", "42", "42"},
		{"-1004001", "7", "-1004001:7"},
		{"@canal", "3", "@canal:3"},
	}
	for _, tt := range tests {
		got := QualifyMessageID(group, tt.chat, tt.id)
		if got != tt.recorded {
			t.Errorf("QualifyMessageID(%q, %q, %q) = %q, want %q", group, tt.chat, tt.id, got, tt.recorded)
		}
		chat, id := SplitMessageID(group, got)
		wantChat := tt.chat
		if wantChat == "" {
			wantChat = group
		}
		if chat != wantChat || id != tt.id {
			t.Errorf("SplitMessageID(%q) = %q, %q, want %q, %q", got, chat, id, wantChat, tt.id)
		}
	}
	ids := []string{"1", "-1004001:1", "-1004001:2"}
	if c := lastChat(group, ids); c != "-1004001" {
		t.Errorf("lastChat = %q", c)
	}
	if c := lastChat(group, nil); c != group {
		t.Errorf("lastChat of none = %q", c)
	}
	if m := firstIn(group, "-1004001", ids); m != "1" {
		t.Errorf("firstIn the supergroup = %q, want 1", m)
	}
	if m := firstIn(group, "-1009", ids); m != "" {
		t.Errorf("firstIn another chat = %q", m)
	}
	if d := cmp.Diff([]string{"-1004001:5", "-1004001:6"}, qualifyMessageIDs(group, "-1004001", []string{"5", "6"})); d != "" {
		t.Errorf("qualifyMessageIDs (-want +got):\n%s", d)
	}
}
