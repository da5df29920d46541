package main

import (
	"os"
	"regexp"
	"strings"
	"testing"
)

// env returns a getenv over vars.
func env(vars map[string]string) func(string) string {
	return func(k string) string { return vars[k] }
}

// TestConfigRefusesPlaceholderSecret checks that a process started with an
// example PREGON_SECRET refuses to start, saying how to make one, and that
// real secrets pass.
func TestConfigRefusesPlaceholderSecret(t *testing.T) {
	tests := []struct {
		secret string
		ok     bool
	}{
		{"CHANGE-ME-set-PREGON_SECRET-to-a-long-random-string", false}, // the old docker-compose.yml default
		{"change-me-change-me-change-me", false},
		{"changeme_please_0123456789", false},
		{"Change Me To Something Long", false},
		{"your-secret-here-0123456789", false},
		{"replace-me-with-32-random-bytes", false},
		{"9f2c4e7a1b3d5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8", true}, // openssl rand -hex 32
		{"u8pY0c+QkJ3m2Zr1W5xT7vN9bL4aE6gH0sD2fK8jQ1o=", true},                     // openssl rand -base64 32
		{"", true}, // unset: a random secret kept in Redis
	}
	for _, tt := range tests {
		_, err := loadConfig(env(map[string]string{"PREGON_SECRET": tt.secret}))
		if tt.ok != (err == nil) {
			t.Errorf("PREGON_SECRET=%q: error %v, want ok=%v", tt.secret, err, tt.ok)
			continue
		}
		if err != nil && (!strings.Contains(err.Error(), "PREGON_SECRET") || !strings.Contains(err.Error(), "openssl rand -hex 32")) {
			t.Errorf("PREGON_SECRET=%q: error %q does not say how to make a secret", tt.secret, err)
		}
	}
}

// TestNoWorkingSecretInExamples reads the secrets that docker-compose.yml and
// README.md write out (as a compose default, or PREGON_SECRET=VALUE in an
// example), and checks that each is refused.
func TestNoWorkingSecretInExamples(t *testing.T) {
	patterns := []*regexp.Regexp{
		regexp.MustCompile(`PREGON_SECRET:-([^}]+)\}`),                     // a compose default
		regexp.MustCompile(`PREGON_SECRET[=:]\s*"?([^"$\s{}?][^"$\s{}]*)`), // VAR=value or VAR: value, not $(...), ${...} or compose's :?message
	}
	found := 0
	for _, file := range []string{"../../docker-compose.yml", "../../README.md"} {
		data, err := os.ReadFile(file)
		if err != nil {
			t.Fatal(err)
		}
		for _, re := range patterns {
			for _, m := range re.FindAllStringSubmatch(string(data), -1) {
				v := strings.Trim(m[1], "`'\"")
				if v == "" || strings.HasPrefix(v, "$") {
					continue
				}
				found++
				if _, err := loadConfig(env(map[string]string{"PREGON_SECRET": v})); err == nil {
					t.Errorf("%s: the example secret %q is accepted; make it one loadConfig refuses", file, v)
				}
			}
		}
	}
	t.Logf("%d example secrets found and refused", found)
}
