package main

import (
	"strings"
	"testing"
	"time"
)

// TestConfigRetention: PREGON_RETENTION is 30 days by default, takes a
// duration or a number of days, 0 for never, and a bad value is named.
func TestConfigRetention(t *testing.T) {
	for _, c := range []struct {
		v    string
		want time.Duration
		ok   bool
	}{{"", 30 * 24 * time.Hour, true}, {"7d", 7 * 24 * time.Hour, true}, {"36h", 36 * time.Hour, true}, {"0", 0, true}, {"soon", 0, false}} {
		cfg, err := loadConfig(env(map[string]string{"PREGON_RETENTION": c.v}))
		if c.ok != (err == nil) {
			t.Errorf("PREGON_RETENTION=%q: error %v, want ok=%v", c.v, err, c.ok)
			continue
		}
		if err != nil {
			if !strings.Contains(err.Error(), "PREGON_RETENTION") {
				t.Errorf("PREGON_RETENTION=%q: error %q does not name the variable", c.v, err)
			}
			continue
		}
		if cfg.Retention != c.want {
			t.Errorf("PREGON_RETENTION=%q: %v, want %v", c.v, cfg.Retention, c.want)
		}
	}
}
