package web

import (
	"strings"
	"testing"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/dispatcher"
)

// TestManageMessages checks that every message of the management pages is
// in both languages, with the same verbs, and that every key the code
// names by rule (failures, problems, field errors, suppression reasons)
// has one.
func TestManageMessages(t *testing.T) {
	for k, two := range manageMessages {
		if strings.TrimSpace(two[0]) == "" || strings.TrimSpace(two[1]) == "" {
			t.Errorf("%q lacks a language: %q", k, two)
		}
		if strings.Count(two[0], "%") != strings.Count(two[1], "%") {
			t.Errorf("%q: Spanish and English take different arguments: %q", k, two)
		}
		if _, ok := messagesES[k]; ok {
			t.Errorf("%q is in messages.go too", k)
		}
	}
	keys := []string{"fail.complaint", "fail.unknown", "fail.attempts", "fail.details", "problem.fields", "problem.field", "problem.original"}
	for _, c := range failureClasses {
		keys = append(keys, c.key)
	}
	for _, r := range fieldRules {
		keys = append(keys, r.key)
	}
	for _, r := range []dispatcher.SuppressionReason{dispatcher.ReasonUnsubscribed, dispatcher.ReasonHardBounce, dispatcher.ReasonComplaint, dispatcher.ReasonErased} {
		keys = append(keys, "why."+string(r))
	}
	for _, k := range keys {
		_, ok1 := manageMessages[k]
		_, ok2 := messagesES[k]
		if !ok1 && !ok2 {
			t.Errorf("%q has no message", k)
		}
	}
}

// TestFailureKey reads real channel errors, as deliveries record them, as
// a press officer should: each in its class.
func TestFailureKey(t *testing.T) {
	for _, c := range []struct {
		err  string
		st   dispatcher.DeliveryStatus
		want string
	}{
		{"send to john@wire.example: RCPT TO: 451 4.3.0 mailbox unavailable (transient)", dispatcher.DeliveryFailed, "fail.later"},
		{"send to x@y.example: RCPT TO: 550 5.1.1 no such user (permanent)", dispatcher.DeliveryFailed, "fail.no_address"},
		{"send to x@y.example: end of data: 552 5.3.4 message too big (permanent)", dispatcher.DeliveryFailed, "fail.too_big"},
		{"send to x@y.example: end of data: 550 5.7.1 rejected as spam (permanent)", dispatcher.DeliveryFailed, "fail.policy"},
		{"send to x@y.example: RCPT TO: 552 5.2.2 mailbox full (permanent)", dispatcher.DeliveryFailed, "fail.mailbox_full"},
		{"send to x@y.example: dial tcp 10.0.0.1:25: connect: connection refused (transient)", dispatcher.DeliveryFailed, "fail.unreachable"},
		{"send to x@y.example: end of data: EOF (uncertain)", dispatcher.DeliveryUncertain, "fail.uncertain"},
		{"telegram sendMessage: forbidden, Forbidden: bot was kicked from the channel chat (the bot cannot post to this chat) (permanent)", dispatcher.DeliveryFailed, "fail.tg_gone"},
		{"telegram sendMessage: bad request, Bad Request: chat not found (the bot cannot post to this chat) (permanent)", dispatcher.DeliveryFailed, "fail.tg_gone"},
		{"telegram sendMessage: too many requests, retry_after 30 (transient, retry after 30s)", dispatcher.DeliveryFailed, "fail.tg_slow"},
		{"telegram sendMessage: bad request, Bad Request: can't parse entities: unexpected end tag (permanent)", dispatcher.DeliveryFailed, "fail.tg_format"},
		{"telegram sendMessage: bad bot token (unauthorized) (permanent)", dispatcher.DeliveryFailed, "fail.tg_token"},
		{"the release was cancelled while its worker, since gone, was sending it", dispatcher.DeliveryCancelled, "fail.cancelled"},
		{"something nobody foresaw", dispatcher.DeliveryFailed, "fail.unknown"},
	} {
		if got := failureKey(&dispatcher.Delivery{LastError: c.err, Status: c.st}); got != c.want {
			t.Errorf("%q: %s, want %s", c.err, got, c.want)
		}
	}
	hard := &dispatcher.Delivery{LastError: "send to x@y.example: end of data: 250 ok", Status: dispatcher.DeliveryFailed, Bounce: &dispatcher.Bounce{Kind: dispatcher.BounceHard}}
	if got := failureKey(hard); got != "fail.no_address" {
		t.Errorf("a hard bounce: %s", got)
	}
}

// TestLocalize says the API's common problems in Spanish, keeping the
// English for whoever asks for help, and leaves English alone.
func TestLocalize(t *testing.T) {
	es, en := newLang("es"), newLang("en")
	p := &Problem{FromAPI: true, Status: 400, Detail: "2 fields are not valid: name, role.", Errors: []api.FieldError{{Field: "name", Message: "is required"}, {Field: "role", Message: `must be "admin", "coordinator" or "viewer"`}}}
	got := localize(es, p)
	if got.Detail != "Campos que no son válidos: 2. Corrígelos:" || got.Original != p.Detail {
		t.Errorf("detail %q, original %q", got.Detail, got.Original)
	}
	if got.Errors[0].Field != "Nombre" || got.Errors[0].Message != "es obligatorio" || got.Errors[1].Message != "debe ser admin, coordinación o lectura" {
		t.Errorf("field errors %+v", got.Errors)
	}
	if p.Errors[0].Message != "is required" {
		t.Errorf("localize changed the problem it was given: %+v", p.Errors)
	}
	c := localize(es, &Problem{FromAPI: true, Status: 409, Detail: "The bot cannot post to @canal (Forbidden: bot is not a member); add it to the channel as an administrator allowed to post messages, then enable the channel again."})
	if !strings.HasPrefix(c.Detail, "El bot no puede publicar en @canal:") {
		t.Errorf("bot problem: %q", c.Detail)
	}
	u := localize(es, &Problem{FromAPI: true, Status: 409, Detail: "Something new the API says."})
	if u.Detail != es.T("error.409") || u.Original != "Something new the API says." {
		t.Errorf("unknown conflict: %+v", u)
	}
	if e := localize(en, p); e.Detail != p.Detail || e.Errors[0].Message != "is required" || e.Original != "" {
		t.Errorf("English: %+v", e)
	}
	if own := (&Problem{Status: 400, Detail: es.T("tokens.bad_days")}); localize(es, own) != own {
		t.Errorf("the app's own problem was said anew")
	}
	if again := localize(es, got); again != got {
		t.Errorf("a problem said anew was said anew again")
	}
}

// TestChartThin keeps the first and last points and at most n in all, and
// the lines' heights never go down.
func TestChartThin(t *testing.T) {
	var pts []chartPoint
	for i := range 5000 {
		pts = append(pts, chartPoint{T: int64(i * 37), Sent: i, Failed: i / 10})
	}
	got := thin(pts, chartMaxPoints)
	if len(got) > chartMaxPoints || got[0] != pts[0] || got[len(got)-1] != pts[len(pts)-1] {
		t.Fatalf("thin: %d points, first %+v, last %+v", len(got), got[0], got[len(got)-1])
	}
	for i := 1; i < len(got); i++ {
		if got[i].T < got[i-1].T || got[i].Sent < got[i-1].Sent || got[i].Failed < got[i-1].Failed {
			t.Fatalf("point %d %+v after %+v", i, got[i], got[i-1])
		}
	}
	c := &chartView{Total: 5000}
	c.draw(got)
	if n := strings.Count(c.Sent, " ") + 1; n != 2*len(got)-1 {
		t.Errorf("the sent line has %d points, want %d (a step for each)", n, 2*len(got)-1)
	}
	if !strings.HasPrefix(c.Sent, "48.0,192.0 ") || !strings.HasSuffix(c.Sent, " 628.0,12.0") {
		t.Errorf("the sent line does not run from the bottom left to the top right: %.40s … %s", c.Sent, c.Sent[len(c.Sent)-20:])
	}
}

// TestLocalizeDraftProblems: what the API says of a release that cannot
// be sent yet (no audience, no text) is said in Spanish.
func TestLocalizeDraftProblems(t *testing.T) {
	es := newLang("es")
	for _, c := range []struct{ detail, want string }{
		{"The release cannot be sent while a pre-send check is an error. audiences: The release has no audience: add a list or a Telegram channel.",
			"El comunicado no se puede enviar todavía"},
		{"Version 2 cannot be sent as it is, so it cannot be approved: audiences: The release has no audience: add a list or a Telegram channel. Approve the version that adds them (an edit withdraws an approval).",
			"La versión 2 todavía no se puede enviar"},
		{"The release was scheduled to go out while this edit was being made, so it must keep at least one audience and a text in every version; the edit was not saved. Read it again (GET /v1/releases/rel_x) and edit it.",
			"El comunicado ya está programado para salir"},
	} {
		if got := localize(es, &Problem{FromAPI: true, Status: 409, Detail: c.detail}); !strings.HasPrefix(got.Detail, c.want) || got.Original != c.detail {
			t.Errorf("%q said as %q, want %q…", c.detail, got.Detail, c.want)
		}
	}
	p := localize(es, &Problem{FromAPI: true, Status: 400, Detail: "audiences: ...",
		Errors: []api.FieldError{{Field: "audiences", Message: "needs at least one list or Telegram channel (or telegram_followers: true) while it is scheduled to go out"}}})
	if p.Errors[0].Message != "elige al menos una lista o un canal de Telegram" {
		t.Errorf("the audiences field: %q", p.Errors[0].Message)
	}
}
