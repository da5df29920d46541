package main

import (
	"strings"

	"github.com/pregon/pregon/bounces"
)

// bounceProviders returns the provider webhooks configured by their
// secrets, POST /webhooks/{name}: PREGON_MAILGUN_SIGNING_KEY,
// PREGON_POSTMARK_WEBHOOK_SECRET (the basic-auth password in the webhook
// URL, at least 16 characters), PREGON_SENDGRID_WEBHOOK_KEY (the signed
// event webhook's verification key), PREGON_SES_TOPIC_ARN (the SNS topics,
// comma-separated, that Amazon SES publishes bounces and complaints to). A
// provider without its variable has
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
	if v := get("PREGON_SES_TOPIC_ARN", ""); v != "" {
		var topics []string
		for _, t := range strings.Split(v, ",") {
			t = strings.TrimSpace(t)
			if !strings.HasPrefix(t, "arn:aws") || strings.Count(t, ":") != 5 {
				bad("PREGON_SES_TOPIC_ARN", "want SNS topic ARNs like arn:aws:sns:eu-west-1:123456789012:ses-bounces, got %q", t)
				continue
			}
			topics = append(topics, t)
		}
		if len(topics) > 0 {
			ps["ses"] = &bounces.SES{Topics: topics}
		}
	}
	return ps
}
