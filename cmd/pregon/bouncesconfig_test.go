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
		"PREGON_SES_TOPIC_ARN":           "arn:aws:sns:eu-west-1:123456789012:ses-bounces",
	}))
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for n := range c.BounceProviders {
		names = append(names, n)
	}
	slices.Sort(names)
	if !slices.Equal(names, []string{"mailgun", "postmark", "ses"}) {
		t.Errorf("providers = %v, want mailgun, postmark and ses", names)
	}
	_, err = loadConfig(env(map[string]string{"PREGON_POSTMARK_WEBHOOK_SECRET": "short", "PREGON_SENDGRID_WEBHOOK_KEY": "bm90IGEga2V5",
		"PREGON_SES_TOPIC_ARN": "ses-bounces"}))
	for _, name := range []string{"PREGON_POSTMARK_WEBHOOK_SECRET", "PREGON_SENDGRID_WEBHOOK_KEY", "PREGON_SES_TOPIC_ARN"} {
		if err == nil || !strings.Contains(err.Error(), name) {
			t.Errorf("err = %v, want %s named", err, name)
		}
	}
}
