package main

import (
	"strings"
	"testing"
	"time"
)

func TestConfigBounceBox(t *testing.T) {
	const secret = "a-secret-of-our-own-0123456789"
	good := map[string]string{"PREGON_SECRET": secret, "PREGON_BOUNCE_ADDRESS": "bounces@rio-vivo.example",
		"PREGON_BOUNCE_IMAP_URL": "imaps://bounces:pw@mail.rio-vivo.example/INBOX", "PREGON_BOUNCE_IMAP_INTERVAL": "30s"}
	c, err := loadConfig(env(good))
	if err != nil {
		t.Fatal(err)
	}
	bc := c.BounceBox
	if bc.VERP == nil || bc.VERP.Address() != "bounces@rio-vivo.example" || bc.Mailbox == nil ||
		bc.Mailbox.Addr != "mail.rio-vivo.example:993" || bc.Interval != 30*time.Second {
		t.Errorf("bounce box = %+v", bc)
	}
	if c, err := loadConfig(env(map[string]string{})); err != nil || c.BounceBox.VERP != nil || c.BounceBox.Mailbox != nil {
		t.Errorf("without the variables: %+v, %v", c.BounceBox, err)
	}
	for _, bad := range []struct {
		over map[string]string
		name string
	}{
		{map[string]string{"PREGON_BOUNCE_ADDRESS": "Bounces <bounces@rio-vivo.example>"}, "PREGON_BOUNCE_ADDRESS"},
		{map[string]string{"PREGON_BOUNCE_ADDRESS": "bounces+x@rio-vivo.example"}, "PREGON_BOUNCE_ADDRESS"},
		{map[string]string{"PREGON_SECRET": ""}, "PREGON_BOUNCE_ADDRESS"},
		{map[string]string{"PREGON_BOUNCE_ADDRESS": ""}, "PREGON_BOUNCE_IMAP_URL"},
		{map[string]string{"PREGON_BOUNCE_IMAP_URL": "imap://bounces:pw@mail.rio-vivo.example/INBOX"}, "PREGON_BOUNCE_IMAP_URL"},
		{map[string]string{"PREGON_BOUNCE_IMAP_INTERVAL": "1s"}, "PREGON_BOUNCE_IMAP_INTERVAL"},
	} {
		vars := map[string]string{}
		for k, v := range good {
			vars[k] = v
		}
		for k, v := range bad.over {
			vars[k] = v
		}
		_, err := loadConfig(env(vars))
		if err == nil || !strings.Contains(err.Error(), bad.name) {
			t.Errorf("%v: error %v, want one naming %s", bad.over, err, bad.name)
		} else if strings.Contains(err.Error(), ":pw@") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
