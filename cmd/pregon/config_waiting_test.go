package main

import (
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/channels/telegram"
)

func TestConfigTelegramMaxWaiting(t *testing.T) {
	tests := []struct {
		value   string
		want    int
		wantErr bool
	}{
		{"", 2000, false},
		{"1", 1, false},
		{"1000000", 1000000, false},
		{" 50 ", 50, false},
		{"0", 0, true},
		{"-3", 0, true},
		{"1000001", 0, true},
		{"lots", 0, true},
		{"2.5", 0, true},
	}
	for _, tt := range tests {
		c, err := loadConfig(env(map[string]string{"PREGON_TELEGRAM_MAX_WAITING": tt.value}))
		switch {
		case tt.wantErr && (err == nil || !strings.Contains(err.Error(), "PREGON_TELEGRAM_MAX_WAITING") || !strings.Contains(err.Error(), "1 to 1000000")):
			t.Errorf("%q: error %v, want one naming PREGON_TELEGRAM_MAX_WAITING and its range", tt.value, err)
		case !tt.wantErr && err != nil:
			t.Errorf("%q: %v", tt.value, err)
		case !tt.wantErr && c.TelegramMaxWaiting != tt.want:
			t.Errorf("%q: TelegramMaxWaiting = %d, want %d", tt.value, c.TelegramMaxWaiting, tt.want)
		}
	}
}

// TestConfigTelegramTimeout: PREGON_TELEGRAM_TIMEOUT bounds each Bot API
// request; a value outside 1s..5m, or not a duration, is refused naming it.
func TestConfigTelegramTimeout(t *testing.T) {
	tests := []struct {
		value   string
		want    time.Duration
		wantErr bool
	}{
		{"", telegram.DefaultTimeout, false},
		{"1s", time.Second, false},
		{" 45s ", 45 * time.Second, false},
		{"5m", 5 * time.Minute, false},
		{"500ms", 0, true},
		{"6m", 0, true},
		{"30", 0, true},
		{"soon", 0, true},
	}
	for _, tt := range tests {
		c, err := loadConfig(env(map[string]string{"PREGON_TELEGRAM_TIMEOUT": tt.value}))
		switch {
		case tt.wantErr && (err == nil || !strings.Contains(err.Error(), "PREGON_TELEGRAM_TIMEOUT")):
			t.Errorf("%q: error %v, want one naming PREGON_TELEGRAM_TIMEOUT", tt.value, err)
		case !tt.wantErr && err != nil:
			t.Errorf("%q: %v", tt.value, err)
		case !tt.wantErr && c.TelegramTimeout != tt.want:
			t.Errorf("%q: TelegramTimeout = %v, want %v", tt.value, c.TelegramTimeout, tt.want)
		}
	}
}
