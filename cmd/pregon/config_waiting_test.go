package main

import (
	"strings"
	"testing"
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
