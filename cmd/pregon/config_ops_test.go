package main

import (
	"strings"
	"testing"
)

func TestConfigOpsVariables(t *testing.T) {
	tests := []struct {
		vars    map[string]string
		wantErr string // "" for none
		check   func(*config) bool
	}{
		{map[string]string{}, "", func(c *config) bool { return c.MetricsAddr == "" && !c.MonitoringWrite && c.LogFormat == "" }},
		{map[string]string{"PREGON_METRICS_ADDR": "10.0.0.5:9464"}, "", func(c *config) bool { return c.MetricsAddr == "10.0.0.5:9464" }},
		{map[string]string{"PREGON_METRICS_ADDR": "9464"}, "PREGON_METRICS_ADDR", nil},
		{map[string]string{"PREGON_MONITORING_WRITE": "true"}, "", func(c *config) bool { return c.MonitoringWrite }},
		{map[string]string{"PREGON_MONITORING_WRITE": "yes"}, "PREGON_MONITORING_WRITE", nil},
		{map[string]string{"PREGON_LOG_FORMAT": "text"}, "", func(c *config) bool { return c.LogFormat == "text" }},
		{map[string]string{"PREGON_LOG_FORMAT": "logfmt"}, "PREGON_LOG_FORMAT", nil},
	}
	for _, tt := range tests {
		c, err := loadConfig(env(tt.vars))
		switch {
		case tt.wantErr == "" && err != nil:
			t.Errorf("%v: %v", tt.vars, err)
		case tt.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tt.wantErr)):
			t.Errorf("%v: error %v, want one naming %s", tt.vars, err, tt.wantErr)
		case tt.check != nil && !tt.check(c):
			t.Errorf("%v: config %+v", tt.vars, c)
		}
	}
}

// TestNewLoggerMasksUnlessDebug checks the logger serve makes from
// PREGON_LOG_LEVEL and PREGON_LOG_FORMAT.
func TestNewLoggerMasksUnlessDebug(t *testing.T) {
	tests := []struct{ level, format, want string }{
		{"info", "", `"to":"a***@example.org"`},
		{"warn", "json", `"to":"a***@example.org"`},
		{"info", "text", `to=a***@example.org`},
		{"debug", "", `"to":"ana@example.org"`},
	}
	for _, tt := range tests {
		var buf strings.Builder
		newLogger(&buf, tt.level, tt.format).Warn("bounce", "to", "ana@example.org")
		if !strings.Contains(buf.String(), tt.want) {
			t.Errorf("level %s format %q: logged %s, want %s", tt.level, tt.format, buf.String(), tt.want)
		}
	}
}
