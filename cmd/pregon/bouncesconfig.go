package main

import (
	"github.com/pregon/pregon/bounces"
)

// bounceProviders returns the provider webhooks configured by their
// secrets, POST /webhooks/{name}: PREGON_MAILGUN_SIGNING_KEY,
// PREGON_POSTMARK_WEBHOOK_SECRET (the basic-auth password in the webhook
// URL, at least 16 characters), PREGON_SENDGRID_WEBHOOK_KEY (the signed
// event webhook's verification key). A provider without its variable has
// no webhook (404). bad reports a variable that is set and wrong.
func bounceProviders(get func(name, def string) string, bad func(name, format string, args ...any)) map[string]bounces.Provider {
	ps := map[string]bounces.Provider{}
	if k := get("PREGON_MAILGUN_SIGNING_KEY", ""); k != "" {
		ps["mailgun"] = &bounces.Mailgun{SigningKey: k}
	}
	if s := get("PREGON_POSTMARK_WEBHOOK_SECRET", ""); s != "" {
		if len(s) < 16 {
			bad("PREGON_POSTMARK_WEBHOOK_SECRET", "must be at least 16 characters")
		} else {
			ps["postmark"] = &bounces.Postmark{Secret: s}
		}
	}
	if k := get("PREGON_SENDGRID_WEBHOOK_KEY", ""); k != "" {
		sg, err := bounces.NewSendGrid(k, nil)
		if err != nil {
			bad("PREGON_SENDGRID_WEBHOOK_KEY", "%v", err)
		} else {
			ps["sendgrid"] = sg
		}
	}
	return ps
}
