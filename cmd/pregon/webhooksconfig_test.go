package main

import (
	"strings"
	"testing"
	"time"
)

func TestWebhooksConfig(t *testing.T) {
	c, err := loadConfig(env(nil))
	if err != nil {
		t.Fatal(err)
	}
	if c.Webhooks.Policy.AllowPrivate || c.Webhooks.Policy.AllowHTTP || c.Webhooks.DisableAfter != 24*time.Hour {
		t.Errorf("defaults %+v, want https to public addresses, disabled after 24h", c.Webhooks)
	}
	c, err = loadConfig(env(map[string]string{"PREGON_WEBHOOKS_ALLOW_PRIVATE": "true", "PREGON_WEBHOOKS_ALLOW_HTTP": "true",
		"PREGON_WEBHOOK_DISABLE_AFTER": "6h"}))
	if err != nil {
		t.Fatal(err)
	}
	if !c.Webhooks.Policy.AllowPrivate || !c.Webhooks.Policy.AllowHTTP || c.Webhooks.DisableAfter != 6*time.Hour {
		t.Errorf("set %+v", c.Webhooks)
	}
	for _, bad := range []map[string]string{
		{"PREGON_WEBHOOKS_ALLOW_HTTP": "true"}, // without private
		{"PREGON_WEBHOOKS_ALLOW_PRIVATE": "yes"},
		{"PREGON_WEBHOOK_DISABLE_AFTER": "1s"},
		{"PREGON_WEBHOOK_DISABLE_AFTER": "a day"},
	} {
		_, err := loadConfig(env(bad))
		for name := range bad {
			if err == nil || !strings.Contains(err.Error(), name) {
				t.Errorf("%v: %v, want an error naming %s", bad, err, name)
			}
		}
	}
}
