package main

import (
	"slices"
	"strings"
	"testing"
)

// TestBounceProvidersConfig: each provider's variable turns on its webhook;
// a short Postmark secret or a SendGrid key that is not one stops the start,
// naming the variable.
func TestBounceProvidersConfig(t *testing.T) {
	env := func(kv map[string]string) func(string) string { return func(k string) string { return kv[k] } }
	c, err := loadConfig(env(map[string]string{
		"PREGON_MAILGUN_SIGNING_KEY":     "key-0123456789abcdef",
		"PREGON_POSTMARK_WEBHOOK_SECRET": "0123456789abcdef0123",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range c.BounceProviders {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"mailgun", "postmark"}) {
		t.Errorf("providers = %v, want mailgun and postmark", names)
	}
	_, err = loadConfig(env(map[string]string{"PREGON_POSTMARK_WEBHOOK_SECRET": "short", "PREGON_SENDGRID_WEBHOOK_KEY": "bm90IGEga2V5"}))
	if err == nil || !strings.Contains(err.Error(), "PREGON_POSTMARK_WEBHOOK_SECRET") || !strings.Contains(err.Error(), "PREGON_SENDGRID_WEBHOOK_KEY") {
		t.Errorf("err = %v, want both variables named", err)
	}
}
