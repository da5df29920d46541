package email_test

import (
	"bytes"
	netmail "net/mail"
	"testing"
	"time"

	"github.com/pregon/pregon/channels/email"
)

func TestComposeListHeaders(t *testing.T) {
	tests := []struct {
		name        string
		mailto      string
		link        string // the message's unsubscribe link; "" for none
		unsubscribe string // the List-Unsubscribe header wanted
	}{
		{"https only", "", "https://pregon.example/u/abc", "<https://pregon.example/u/abc>"},
		{"https and mailto", "baja@rio-vivo.example", "https://pregon.example/u/abc",
			"<https://pregon.example/u/abc>, <mailto:baja@rio-vivo.example?subject=unsubscribe%20abc>"},
		{"mailto only", "baja@rio-vivo.example", "", "<mailto:baja@rio-vivo.example?subject=unsubscribe>"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			comp, err := email.NewComposer(email.ComposeConfig{From: from, UnsubscribeMailto: tt.mailto})
			if err != nil {
				t.Fatal(err)
			}
			m := statement("ana@example.org")
			m.UnsubscribeURL = tt.link
			if tt.link == "" {
				m.Headers = nil
			} else {
				m.Headers["List-Unsubscribe"] = "<" + tt.link + ">"
			}
			var buf bytes.Buffer
			r, err := comp.Compose(m, time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), &buf)
			if err != nil {
				t.Fatal(err)
			}
			msg, err := netmail.ReadMessage(bytes.NewReader(r.Data))
			if err != nil {
				t.Fatal(err)
			}
			want := map[string]string{
				"List-Id":          "<pregon.rio-vivo.example>",
				"Precedence":       "bulk",
				"List-Unsubscribe": tt.unsubscribe,
			}
			for k, v := range want {
				if got := msg.Header.Get(k); got != v {
					t.Errorf("%s: %q, want %q", k, got, v)
				}
				if n := len(msg.Header[k]); n != 1 {
					t.Errorf("%d %s fields, want 1", n, k)
				}
			}
		})
	}
}

func TestNewComposerRejectsBadMailto(t *testing.T) {
	if _, err := email.NewComposer(email.ComposeConfig{From: from, UnsubscribeMailto: "not an address"}); err == nil {
		t.Error("no error")
	}
}
