package main

import (
	"net/mail"
	"os"
	"strconv"
	"strings"

	"github.com/pregon/pregon/channels/email"
)

// loadDKIM reads PREGON_DKIM_DOMAIN, PREGON_DKIM_SELECTOR (one selector per
// key, comma-separated, in the order of the keys in the file),
// PREGON_DKIM_KEY_FILE and PREGON_DKIM_ALLOW_MISALIGNED. It returns nil
// when DKIM is not configured, and reports each problem through bad.
func loadDKIM(get func(name, def string) string, from *mail.Address, bad func(name, format string, args ...any)) *email.DKIM {
	domain, selector, file := get("PREGON_DKIM_DOMAIN", ""), get("PREGON_DKIM_SELECTOR", ""), get("PREGON_DKIM_KEY_FILE", "")
	if domain == "" && selector == "" && file == "" {
		return nil
	}
	missing := false
	for name, v := range map[string]string{"PREGON_DKIM_DOMAIN": domain, "PREGON_DKIM_SELECTOR": selector, "PREGON_DKIM_KEY_FILE": file} {
		if v == "" {
			bad(name, "is needed with the other PREGON_DKIM_* variables (domain, selector and key file)")
			missing = true
		}
	}
	if missing {
		return nil
	}
	allow := false
	if v := get("PREGON_DKIM_ALLOW_MISALIGNED", ""); v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			bad("PREGON_DKIM_ALLOW_MISALIGNED", "want true or false, got %q", v)
		}
		allow = b
	}
	if from != nil {
		_, fromDomain, _ := strings.Cut(from.Address, "@")
		if !email.Aligned(fromDomain, domain) && !allow {
			bad("PREGON_DKIM_DOMAIN", "%q is not PREGON_FROM's domain %q nor a parent of it, so receivers' DMARC checks "+
				"would not count the signature; sign for %s, or set PREGON_DKIM_ALLOW_MISALIGNED=true", domain, fromDomain, fromDomain)
		}
	}
	data, err := os.ReadFile(file)
	if err != nil {
		bad("PREGON_DKIM_KEY_FILE", "%v", err)
		return nil
	}
	keys, err := email.ParseDKIMKeys(data)
	if err != nil {
		bad("PREGON_DKIM_KEY_FILE", "%s: %v", file, err)
		return nil
	}
	selectors := strings.Split(selector, ",")
	if len(selectors) != len(keys) {
		bad("PREGON_DKIM_SELECTOR", "%s holds %d keys, so give %d selectors separated by commas (one DNS record each, in the order of the keys), got %q",
			file, len(keys), len(keys), selector)
		return nil
	}
	d := &email.DKIM{Domain: domain}
	for i, k := range keys {
		d.Keys = append(d.Keys, email.DKIMKey{Selector: strings.TrimSpace(selectors[i]), Signer: k})
	}
	if err := d.Check(); err != nil {
		bad("PREGON_DKIM_KEY_FILE", "%s: %v", file, err)
		return nil
	}
	return d
}
