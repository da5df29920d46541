package main

import (
	"bytes"
	"log/slog"
	"net/mail"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/metrics"
)

func TestPublicDomain(t *testing.T) {
	tests := []struct {
		d    string
		want bool
	}{
		{"rio-vivo.org", true},
		{"news.rio-vivo.org.", true},
		{"localhost", false},
		{"pregon.localhost", false},
		{"mail.local", false},
		{"intranet", false},
		{"127.0.0.1", false},
		{"[::1]", false},
		{"pregon.example.org", false},
		{"rio-vivo.test", false},
		{"x.invalid", false},
	}
	for _, tt := range tests {
		if got := publicDomain(tt.d); got != tt.want {
			t.Errorf("publicDomain(%q) = %v, want %v", tt.d, got, tt.want)
		}
	}
}

// TestWarnsOfLocalMessageIDDomain checks that the channels warn at start
// when PREGON_FROM's domain, used in Message-IDs, is not a real one.
func TestWarnsOfLocalMessageIDDomain(t *testing.T) {
	for _, tt := range []struct {
		from string
		warn bool
	}{
		{"Pregón <pregon@localhost>", true},
		{"Prensa <prensa@rio-vivo.org>", false},
	} {
		var logs bytes.Buffer
		log := slog.New(slog.NewTextHandler(&logs, nil))
		a, _ := mail.ParseAddress(tt.from)
		cfg := &config{From: a, OutboxDir: t.TempDir()}
		_, closeAll, err := openChannels(cfg, log, nil, time.Now, metrics.New(time.Now))
		if err != nil {
			t.Fatal(err)
		}
		closeAll()
		if got := strings.Contains(logs.String(), "not a real domain"); got != tt.warn {
			t.Errorf("PREGON_FROM=%s: warned %v, want %v:\n%s", tt.from, got, tt.warn, logs.String())
		}
	}
}

func TestConfigUnsubscribeMailto(t *testing.T) {
	for _, tt := range []struct {
		v  string
		ok bool
	}{
		{"baja@rio-vivo.org", true},
		{"Baja <baja@rio-vivo.org>", false},
		{"baja@rio-vivo.org?subject=x", false},
		{"not an address", false},
	} {
		c, err := loadConfig(env(map[string]string{"PREGON_UNSUBSCRIBE_MAILTO": tt.v}))
		if (err == nil) != tt.ok {
			t.Errorf("PREGON_UNSUBSCRIBE_MAILTO=%q: error %v, want ok=%v", tt.v, err, tt.ok)
			continue
		}
		if tt.ok && c.UnsubscribeMailto != tt.v {
			t.Errorf("UnsubscribeMailto = %q", c.UnsubscribeMailto)
		}
	}
}
