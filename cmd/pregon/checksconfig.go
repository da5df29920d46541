package main

import (
	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/linkcheck"
)

// checksConfig configures the pre-send checks of releases.
type checksConfig struct {
	// Links is how links are checked: by default, never on a private,
	// loopback or other non-public address.
	Links linkcheck.Config
}

// loadChecks reads PREGON_CHECK_PRIVATE_LINKS ("false", the default; "true"
// to let the link check reach any address; or IP addresses and CIDR
// prefixes, comma-separated, for those networks alone), and reports a
// problem through bad.
func loadChecks(get func(name, def string) string, bad func(name, format string, args ...any)) checksConfig {
	var c checksConfig
	switch v := get("PREGON_CHECK_PRIVATE_LINKS", "false"); v {
	case "false":
	case "true":
		c.Links.AllowPrivate = true
	default:
		ps, err := api.ParseProxies(v)
		if err != nil || len(ps) == 0 {
			bad("PREGON_CHECK_PRIVATE_LINKS", "want true, false, or IP addresses or CIDR prefixes separated by commas such as 10.1.2.0/24, got %q", v)
		}
		c.Links.Allow = ps
	}
	return c
}
