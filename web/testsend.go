package web

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/dispatcher"
)

// Test sends (issue 14): the form on the release page, and the result
// page, which keeps itself up to date until every recipient has a result.

// testForm is the test-send form as it was typed, shown again with what
// is wrong beside each field when the API refuses it (nothing is sent
// then: the API refuses the whole request).
type testForm struct {
	Emails, Chats, Language string
	// EmailErrs and ChatErrs name the bad lines, in the person's language.
	EmailErrs, ChatErrs []string
}

// item is one address or chat typed, and the line it is on (from 1).
type item struct {
	Line int
	Text string
}

// splitLines reads addresses or chat ids typed one a line (or several on
// a line, separated by commas, semicolons or spaces), each with its line.
func splitLines(s string) []item {
	var out []item
	for i, line := range strings.Split(s, "\n") {
		for _, f := range strings.FieldsFunc(line, func(r rune) bool { return strings.ContainsRune(",; \t\r", r) }) {
			out = append(out, item{Line: i + 1, Text: f})
		}
	}
	return out
}

func texts(items []item) []string {
	out := make([]string, 0, len(items))
	for _, it := range items {
		out = append(out, it.Text)
	}
	return out
}

// testSend is POST /app/releases/{id}/test: sends the release, marked as a
// test, to the addresses and chats given, and shows how it went. When the
// API refuses the input, the release page comes back with the form as it
// was typed, each bad line named beside its field.
func (a *App) testSend(w http.ResponseWriter, r *http.Request, s *signedIn) {
	tf := &testForm{Emails: r.PostFormValue("emails"), Chats: r.PostFormValue("chats"), Language: strings.TrimSpace(r.PostFormValue("language"))}
	emails, chats := splitLines(tf.Emails), splitLines(tf.Chats)
	in := map[string]any{"emails": texts(emails), "telegram_chat_ids": texts(chats),
		"language": tf.Language, "copy": strings.TrimSpace(r.PostFormValue("copy"))}
	var t dispatcher.TestSend
	err := a.call(r, s, "POST", v1Path(r, "/test"), in, &t)
	if err == nil {
		http.Redirect(w, r, relPath(r, "/tests/"+url.PathEscape(t.ID), ""), http.StatusSeeOther)
		return
	}
	p, ok := err.(*Problem)
	if !ok || p.Status == http.StatusNotFound || p.Status == http.StatusForbidden {
		a.failCall(w, r, s, err)
		return
	}
	if rest := tf.explain(language(w, r), p, emails, chats); rest != nil {
		a.releaseAgain(w, r, s, p.Status, tf, rest)
		return
	}
	a.releaseAgain(w, r, s, http.StatusUnprocessableEntity, tf, nil)
}

// explain puts the API's field errors about the recipients beside their
// fields, naming each bad line as typed; it returns what else the API
// said (to be shown above the page), or nil when that was all.
func (tf *testForm) explain(l *Lang, p *Problem, emails, chats []item) *Problem {
	var rest []api.FieldError
	for _, fe := range p.Errors {
		field, idx := fe.Field, -1
		if i := strings.IndexByte(field, '['); i > 0 && strings.HasSuffix(field, "]") {
			if n, err := strconv.Atoi(field[i+1 : len(field)-1]); err == nil {
				field, idx = field[:i], n
			}
		}
		switch {
		case field == "emails" && idx >= 0 && idx < len(emails):
			tf.EmailErrs = append(tf.EmailErrs, l.T("test.bad_email", emails[idx].Line, emails[idx].Text))
		case field == "telegram_chat_ids" && idx >= 0 && idx < len(chats):
			tf.ChatErrs = append(tf.ChatErrs, l.T("test.bad_chat", chats[idx].Line, chats[idx].Text))
		case field == "emails" && len(emails) > dispatcher.MaxTestEmails:
			tf.EmailErrs = append(tf.EmailErrs, l.T("test.too_many_emails", len(emails), dispatcher.MaxTestEmails))
		case field == "emails" && len(emails) == 0 && len(chats) == 0:
			tf.EmailErrs = append(tf.EmailErrs, l.T("test.none"))
		case field == "telegram_chat_ids" && len(chats) > dispatcher.MaxTestChats:
			tf.ChatErrs = append(tf.ChatErrs, l.T("test.too_many_chats", len(chats), dispatcher.MaxTestChats))
		default:
			rest = append(rest, fe)
		}
	}
	if len(p.Errors) > 0 && len(rest) == 0 {
		return nil
	}
	out := *p
	out.Errors = rest
	return &out
}

// testPage is GET /app/releases/{id}/tests/{test_id}: a test send's result
// per address and chat. While one is pending the page reloads itself
// (test.js updates it in place; without JavaScript a refresh tag does).
func (a *App) testPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	var t dispatcher.TestSend
	if err := a.call(r, s, "GET", v1Path(r, "/tests/"+url.PathEscape(r.PathValue("test_id"))), nil, &t); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "test", language(w, r).T("test.title"), &testData{TestSend: &t})
}

// testData is the test result page's.
type testData struct {
	*dispatcher.TestSend
}

// Waiting reports whether some result is still to come.
func (d *testData) Waiting() bool { return d.Status == dispatcher.TestPending || d.Pending() }
