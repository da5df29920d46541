package main

import (
	"time"

	"github.com/pregon/pregon/bouncebox"
	"github.com/pregon/pregon/bounces"
)

// bounceBoxConfig is the bounce address and its mailbox (bouncebox).
type bounceBoxConfig struct {
	// VERP makes every email's envelope sender bounces+TOKEN@domain
	// (PREGON_BOUNCE_ADDRESS); nil keeps PREGON_FROM's address.
	VERP *bounces.VERP
	// Mailbox is the bounce mailbox read over IMAP (PREGON_BOUNCE_IMAP_URL);
	// nil: none is read.
	Mailbox *bouncebox.Mailbox
	// Interval is the time between polls (PREGON_BOUNCE_IMAP_INTERVAL).
	Interval time.Duration
}

// loadBounceBox reads PREGON_BOUNCE_ADDRESS (a bare address; its token is
// signed with PREGON_SECRET, which it then requires), PREGON_BOUNCE_IMAP_URL
// (which requires the bounce address) and PREGON_BOUNCE_IMAP_INTERVAL
// (default 1m, from 5s to 24h). bad reports a variable set and wrong.
func loadBounceBox(get func(name, def string) string, secret string, bad func(name, format string, args ...any)) bounceBoxConfig {
	var c bounceBoxConfig
	addr := get("PREGON_BOUNCE_ADDRESS", "")
	if addr != "" {
		if secret == "" {
			bad("PREGON_BOUNCE_ADDRESS", "needs PREGON_SECRET, which signs the token in each bounce address so that forged bounces cannot suppress anyone")
		} else if v, err := bounces.NewVERP(addr, []byte(secret)); err != nil {
			bad("PREGON_BOUNCE_ADDRESS", "%v", err)
		} else {
			c.VERP = v
		}
	}
	c.Interval = bouncebox.DefaultInterval
	if v := get("PREGON_BOUNCE_IMAP_INTERVAL", ""); v != "" {
		d, err := time.ParseDuration(v)
		if err != nil || d < 5*time.Second || d > 24*time.Hour {
			bad("PREGON_BOUNCE_IMAP_INTERVAL", "want a duration from 5s to 24h such as 1m, got %q", v)
		}
		c.Interval = d
	}
	if raw := get("PREGON_BOUNCE_IMAP_URL", ""); raw != "" {
		m, err := bouncebox.ParseURL(raw)
		switch {
		case err != nil:
			bad("PREGON_BOUNCE_IMAP_URL", "%v", err)
		case addr == "":
			bad("PREGON_BOUNCE_IMAP_URL", "needs PREGON_BOUNCE_ADDRESS: reports are matched by the token of the bounce address they come back to")
		default:
			c.Mailbox = m
		}
	}
	return c
}
