package logging

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
)

func TestMaskEmails(t *testing.T) {
	tests := []struct {
		name string
		attr slog.Attr
		want string // the value as the JSON handler writes it
	}{
		{"plain address", slog.String("to", "ana.lopez@example.org"), `"a***@example.org"`},
		{"in a sentence", slog.String("error", "send to ana@example.org: 550 no such user"), `"send to a***@example.org: 550 no such user"`},
		{"two addresses", slog.String("x", "bob@example.net, carla+press@sub.example.org"), `"b***@example.net, c***@sub.example.org"`},
		{"error", slog.Any("error", fmt.Errorf("send to %s: %w", "dan@example.org", errors.New("timeout"))), `"send to d***@example.org: timeout"`},
		{"stringer", slog.Any("from", &mail.Address{Name: "Ana", Address: "ana@example.org"}), `"\"Ana\" <a***@example.org>"`},
		{"slice", slog.Any("rcpt", []string{"ana@example.org", "b@x.io"}), `["a***@example.org","b***@x.io"]`},
		{"one-letter local part", slog.String("to", "a@example.org"), `"a***@example.org"`},
		{"telegram chat is no address", slog.String("chat", "@canal_prensa"), `"@canal_prensa"`},
		{"no at sign", slog.String("release_id", "r_01HX"), `"r_01HX"`},
		{"number", slog.Int("attempt", 3), `3`},
		{"bare at", slog.String("x", "a @ b"), `"a @ b"`},
		{"apostrophe", slog.String("to", "o'brien@example.org"), `"o***@example.org"`},
		{"ampersand, slash, equals", slog.String("to", "a&b/c=d@example.org"), `"a***@example.org"`},
		{"map", slog.Any("contact", map[string]string{"email": "ana@example.org"}), `"map[email:a***@example.org]"`},
		{"struct", slog.Any("contact", struct{ Email string }{"ana@example.org"}), `"{Email:a***@example.org}"`},
		{"map without address", slog.Any("counts", map[string]int{"sent": 2}), `{"sent":2}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			New(&buf, Options{Format: "json"}).Info("m", tt.attr)
			want := `"` + tt.attr.Key + `":` + tt.want
			if !strings.Contains(buf.String(), want) {
				t.Errorf("logged %s\nwant it to hold %s", buf.String(), want)
			}
		})
	}
}

func TestNew(t *testing.T) {
	tests := []struct {
		name      string
		opts      Options
		wantStart string
		wantAddr  string
	}{
		{"json masks", Options{Format: "json"}, `{"time":`, "a***@example.org"},
		{"auto is json off a terminal", Options{}, `{"time":`, "a***@example.org"},
		{"text masks", Options{Format: "text"}, `time=`, "a***@example.org"},
		{"debug keeps addresses", Options{Format: "json", Level: slog.LevelDebug, KeepEmails: true}, `{"time":`, "ana@example.org"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			log := New(&buf, tt.opts)
			log.Debug("hidden unless debug")
			log.Info("suppressed ana@example.org", "release_id", "r1", "delivery_id", "d1", "channel", "email", "attempt", 1)
			out := buf.String()
			if !strings.HasPrefix(out, tt.wantStart) {
				t.Errorf("output %q does not start with %q", out, tt.wantStart)
			}
			if strings.Count(out, tt.wantAddr) != 1 {
				t.Errorf("output %q: want %q once, in the message", out, tt.wantAddr)
			}
			if debug := strings.Contains(out, "hidden unless debug"); debug != (tt.opts.Level == slog.LevelDebug) {
				t.Errorf("debug line written = %v at level %v", debug, tt.opts.Level)
			}
		})
	}
}
