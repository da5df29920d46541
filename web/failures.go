package web

import (
	"regexp"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// A delivery's last_error is the channel's error, classified at the channel
// boundary ("... (permanent)", "(transient)", "(uncertain)") and worded for
// operators: "send to x@y: RCPT TO: 550 5.1.1 no such user (permanent)",
// "telegram sendMessage: Forbidden: bot was kicked ...". failureKey finds
// the class of failure it says, for a sentence a press officer reads.

// failureClass maps what an error says to a message key.
type failureClass struct {
	re  *regexp.Regexp
	key string
}

// failureClasses are tried in order; the first that matches says it.
var failureClasses = []failureClass{
	{regexp.MustCompile(`(?i)release was cancelled`), "fail.cancelled"},
	{regexp.MustCompile(`(?i)bad bot token|unauthorized`), "fail.tg_token"},
	{regexp.MustCompile(`(?i)bot was kicked|bot is not a member|not enough rights|have no rights|chat not found|bot was blocked|forbidden|cannot post to this chat`), "fail.tg_gone"},
	{regexp.MustCompile(`(?i)too many requests|retry after`), "fail.tg_slow"},
	{regexp.MustCompile(`(?i)can't parse entities|message is too long|caption is too long`), "fail.tg_format"},
	{regexp.MustCompile(`(?i)migrat`), "fail.tg_migrated"},
	{regexp.MustCompile(`(?i)no answer from the bot api|\(uncertain\)`), "fail.uncertain"},
	{regexp.MustCompile(`(?i)\b5\d\d[ -]5\.1\.\d|\b55[03]\b.*(no such|unknown|does not exist|not exist|invalid recipient|user unknown)`), "fail.no_address"},
	{regexp.MustCompile(`(?i)\b5\d\d[ -]5\.2\.2|mailbox full|over quota|quota exceeded`), "fail.mailbox_full"},
	{regexp.MustCompile(`(?i)\b5\d\d[ -]5\.3\.4|\b552\b|too large|size limit`), "fail.too_big"},
	{regexp.MustCompile(`(?i)\b5\d\d[ -]5\.7\.\d|spam|blocked|blacklist|blocklist|policy|rejected for policy|dmarc|spf`), "fail.policy"},
	{regexp.MustCompile(`(?i)\b4\d\d[ -]4\.\d+\.\d+|\b4[25]\d\b|try again later|temporar|greylist`), "fail.later"},
	{regexp.MustCompile(`(?i)\b5\d\d\b`), "fail.refused"},
	{regexp.MustCompile(`(?i)connection refused|no such host|dial tcp|i/o timeout|timeout|connection reset|eof|tls|network is unreachable`), "fail.unreachable"},
	{regexp.MustCompile(`(?i)\(permanent\)`), "fail.permanent"},
}

// failureKey returns the message key of why d failed, "fail.unknown" when
// no class matches. A hard bounce or complaint the delivery carries says
// it first.
func failureKey(d *dispatcher.Delivery) string {
	if d.Bounce != nil {
		switch d.Bounce.Kind {
		case dispatcher.BounceHard:
			return "fail.no_address"
		case dispatcher.BounceComplaint:
			return "fail.complaint"
		}
	}
	if d.Status == dispatcher.DeliveryUncertain {
		return "fail.uncertain"
	}
	e := strings.TrimSpace(d.LastError)
	for _, c := range failureClasses {
		if c.re.MatchString(e) {
			return c.key
		}
	}
	return "fail.unknown"
}
