package api

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// Tester starts test sends of releases and reports on them.
// *dispatcher.Service implements it.
type Tester interface {
	// StartTest stores a test send and enqueues it, setting its ID, Status
	// and CreatedAt.
	StartTest(ctx context.Context, t *dispatcher.TestSend) error
	// Test returns a test send with its results so far, or
	// dispatcher.ErrNotFound (never made, or expired).
	Test(ctx context.Context, id string) (*dispatcher.TestSend, error)
}

// DefaultTestRate is how many test sends a minute one token may start,
// after a burst of as many as the rate limiter allows at once
// (ratelimit.ClientBurst, 10): ten at once, then one a minute, so at most
// about ten in ten minutes.
const DefaultTestRate = 1

type testInput struct {
	Emails          []string `json:"emails"`
	TelegramChatIDs []string `json:"telegram_chat_ids"`
	Language        string   `json:"language"`
	Copy            string   `json:"copy"`
}

// testRelease handles POST /v1/releases/{id}/test {emails, telegram_chat_ids,
// language?, copy?} → 202 test send: the release as it is now goes to the addresses
// and chats named, in one language (the one asked for, else the release's
// own), the email subject starting "[TEST] " and the Telegram post with a
// "[TEST]" line. It makes no deliveries and changes no counts or status. A
// release in any status but cancelled may be tested. Each token may start
// DefaultTestRate a minute after a burst (429 beyond). With "copy": "early"
// the emails are the embargoed copy the early lists get (subject "[TEST]
// EMBARGOED UNTIL ..."), for a release with an embargo and early lists
// (409 otherwise), and there may be no Telegram chats.
func (s *Server) testRelease(w http.ResponseWriter, r *http.Request) error {
	if s.tester == nil {
		return &Problem{Status: http.StatusNotImplemented, Detail: "Test sends are not available on this server."}
	}
	var in testInput
	if err := s.readJSON(w, r, &in, false); err != nil {
		return err
	}
	results, lang, err := checkTestInput(&in)
	if err != nil {
		return err
	}
	ctx := r.Context()
	rel, err := s.store.Release(ctx, r.PathValue("id"))
	if err != nil {
		return err
	}
	if rel.Status == dispatcher.ReleaseCancelled {
		return (&Problem{Status: http.StatusConflict,
			Detail: "The release was cancelled: it goes to no one, so there is nothing to test."}).coded("release.cancelled")
	}
	if in.Copy == copyEarly {
		if err := earlyConflict(rel); err != nil {
			return err
		}
	}
	if err := s.limitTests(r); err != nil {
		return err
	}
	if lang == "" {
		lang = rel.Language
	}
	t := &dispatcher.TestSend{ReleaseID: rel.ID, Version: rel.Version, Language: rel.Text(lang).Language, Copy: in.Copy,
		RequestedBy: infoFrom(ctx).token, Results: results}
	if err := s.tester.StartTest(ctx, t); err != nil {
		return err
	}
	if err := s.audit(r, audit.Entry{Action: audit.ReleaseTest, Target: rel.ID, Version: rel.Version,
		Detail: map[string]any{"test_id": t.ID, "emails": len(in.Emails), "telegram_chat_ids": len(in.TelegramChatIDs)}}); err != nil {
		return err
	}
	w.Header().Set("Location", "/v1/releases/"+rel.ID+"/tests/"+t.ID)
	return writeJSON(w, http.StatusAccepted, t)
}

// checkTestInput validates a test send's recipients and language and returns
// one pending result per recipient (emails normalised, chat ids as a
// channel stores them, each once), or a 400 problem naming every bad field.
// Over the limits, the list is refused whole and its items are not checked.
func checkTestInput(in *testInput) ([]dispatcher.TestResult, string, error) {
	var fe fieldErrors
	var out []dispatcher.TestResult
	seen := map[string]bool{}
	add := func(ch dispatcher.ChannelKind, to string) {
		if !seen[string(ch)+" "+to] {
			seen[string(ch)+" "+to] = true
			out = append(out, dispatcher.TestResult{Channel: ch, Recipient: to, Status: dispatcher.TestPending, MessageIDs: []string{}})
		}
	}
	switch n := len(in.Emails); {
	case n > dispatcher.MaxTestEmails:
		fe.add("emails", "holds %d addresses; a test send goes to at most %d (send the release itself to reach more)", n, dispatcher.MaxTestEmails)
	default:
		for i, e := range in.Emails {
			email, err := dispatcher.NormalizeEmail(e)
			if err != nil {
				fe.add("emails["+strconv.Itoa(i)+"]", "must be an email address (%s)", err)
				continue
			}
			add(dispatcher.ChannelEmail, email)
		}
	}
	switch n := len(in.TelegramChatIDs); {
	case n > dispatcher.MaxTestChats:
		fe.add("telegram_chat_ids", "holds %d chats; a test send goes to at most %d", n, dispatcher.MaxTestChats)
	default:
		for i, c := range in.TelegramChatIDs {
			c = strings.TrimSpace(c)
			if !validChatID(c) {
				fe.add("telegram_chat_ids["+strconv.Itoa(i)+"]", "must be \"@name\" (5 to 32 letters, digits or _) or a negative number like -1001234567890")
				continue
			}
			add(dispatcher.ChannelTelegram, normalizeChatID(c))
		}
	}
	if len(in.Emails) == 0 && len(in.TelegramChatIDs) == 0 {
		fe.add("emails", "name at least one address here or one chat in telegram_chat_ids")
	}
	lang := strings.TrimSpace(in.Language)
	checkLanguage(&fe, "language", lang, false)
	in.Copy = checkCopy(&fe, "copy", strings.TrimSpace(in.Copy), "")
	if in.Copy == copyEarly && len(in.TelegramChatIDs) > 0 {
		fe.add("copy", "%q is an email: the early copy goes only to early lists, never to Telegram channels, which are public; leave out telegram_chat_ids", copyEarly)
	}
	if err := fe.err(); err != nil {
		return nil, "", err
	}
	return out, lang, nil
}

// limitTests takes a turn for the request's token under the test send rate,
// or returns a 429 problem with a Retry-After. Without a limiter (tests)
// there is no limit; when the limiter fails (Redis is down) the request
// goes ahead, logged, and fails on its own if Redis is really gone.
func (s *Server) limitTests(r *http.Request) error {
	if s.limiter == nil {
		return nil
	}
	ctx, cancel := context.WithTimeout(r.Context(), limiterTimeout)
	defer cancel()
	key := rateKey("release-test:token:" + infoFrom(r.Context()).token)
	wait, err := s.limiter.Allow(ctx, key, s.testRate)
	if err != nil {
		s.log.WarnContext(r.Context(), "rate limiter unavailable; test send let through", "error", err)
		return nil
	}
	if wait <= 0 {
		return nil
	}
	secs := int((wait + time.Second - 1) / time.Second)
	return &Problem{Status: http.StatusTooManyRequests, retryAfter: secs,
		Detail: "This token has started too many test sends; try again in " + strconv.Itoa(secs) + " s."}
}

// getTest handles GET /v1/releases/{id}/tests/{test_id} → test send, with
// each recipient's result: "pending" until the worker has tried it, then
// "sent", "failed" (with the error) or "suppressed". Results are kept for
// dispatcher.TestTTL (7 days).
func (s *Server) getTest(w http.ResponseWriter, r *http.Request) error {
	if s.tester == nil {
		return &Problem{Status: http.StatusNotImplemented, Detail: "Test sends are not available on this server."}
	}
	t, err := s.tester.Test(r.Context(), r.PathValue("test_id"))
	if err == nil && t.ReleaseID != r.PathValue("id") {
		err = dispatcher.ErrNotFound
	}
	if errors.Is(err, dispatcher.ErrNotFound) {
		return &Problem{Status: http.StatusNotFound,
			Detail: "There is no test send " + r.PathValue("test_id") + " of this release (results are kept for 7 days)."}
	}
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, t)
}
