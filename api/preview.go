package api

import (
	"net/http"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

type emailPreview struct {
	Channel  dispatcher.ChannelKind `json:"channel"`
	Language string                 `json:"language"`
	Copy     string                 `json:"copy"`
	Subject  string                 `json:"subject"`
	Text     string                 `json:"text"`
	HTML     string                 `json:"html"`
}

type telegramPreview struct {
	Channel  dispatcher.ChannelKind `json:"channel"`
	Language string                 `json:"language"`
	Messages []string               `json:"messages"`
}

// previewRecipient is the address the unsubscribe link of an email preview
// is made for (.invalid: no one can receive mail there).
const previewRecipient = "preview@example.invalid"

// The copies of a release: the one everyone gets, and the embargoed one
// its early lists get before the embargo (email only).
const (
	copyPublic = dispatcher.CopyPublic
	copyEarly  = dispatcher.CopyEarly
)

// checkCopy checks a "copy" parameter or field ("" is copyPublic) for
// channel ch ("" when the request may name both) and returns it.
func checkCopy(fe *fieldErrors, field, which string, ch dispatcher.ChannelKind) string {
	switch which {
	case "", copyPublic:
		return copyPublic
	case copyEarly:
		if ch == dispatcher.ChannelTelegram {
			fe.add(field, "%q is an email: the early copy goes only to early lists, never to Telegram channels, which are public", copyEarly)
		}
		return copyEarly
	}
	fe.add(field, "must be %q (what every audience gets, the default) or %q (the embargoed email the early lists get)", copyPublic, copyEarly)
	return ""
}

// earlyConflict returns a 409 problem unless rel has an early copy: an
// embargo and early lists.
func earlyConflict(rel *dispatcher.Release) error {
	if rel.EmbargoUntil != nil && len(rel.Audiences.EarlyLists) > 0 {
		return nil
	}
	return &Problem{Status: http.StatusConflict,
		Detail: "The release has no early copy: only a release with an embargo (embargo_until) and early lists (audiences.early_lists) sends one. Leave out copy, or use copy=public, for what its audiences get.",
		Errors: []FieldError{{Field: "copy", Message: "the release has no embargo and early lists"}}}
}

// previewRelease handles GET /v1/releases/{id}/preview?channel=&language=&copy=:
// the release as a recipient in that language would get it (the original
// when there is no translation; "language" in the answer says which). With
// copy=early (email only), it is the embargoed email the early lists get,
// exactly as they get it; a release without an embargo and early lists
// has none (409).
func (s *Server) previewRelease(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ch := dispatcher.ChannelKind(q.Get("channel"))
	lang := strings.TrimSpace(q.Get("language"))
	var fe fieldErrors
	if !ch.Valid() {
		fe.add("channel", "must be %q or %q", dispatcher.ChannelEmail, dispatcher.ChannelTelegram)
	}
	checkLanguage(&fe, "language", lang, false)
	which := checkCopy(&fe, "copy", strings.TrimSpace(q.Get("copy")), ch)
	if err := fe.err(); err != nil {
		return err
	}
	rel, err := s.store.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if which == copyEarly {
		if err := earlyConflict(rel); err != nil {
			return err
		}
	}
	if lang == "" {
		lang = rel.Language
	}
	lang = rel.Text(lang).Language
	if ch == dispatcher.ChannelEmail {
		render := s.previewer.Email
		if which == copyEarly {
			render = s.previewer.EmbargoedEmail
		}
		c, err := render(rel, lang)
		if err != nil {
			return err
		}
		// Each recipient's email ends with their own unsubscribe link; the
		// preview shows one made for an address that does not exist.
		link := ""
		if s.links != nil {
			link = s.links.UnsubscribeURL(previewRecipient, rel.ID)
		}
		c = c.WithUnsubscribe(link)
		return writeJSON(w, http.StatusOK, emailPreview{Channel: ch, Language: lang, Copy: which, Subject: c.Subject, Text: c.Text, HTML: c.HTML})
	}
	msgs, err := s.previewer.Telegram(rel, lang)
	if err != nil {
		return err
	}
	if msgs == nil {
		msgs = []string{}
	}
	return writeJSON(w, http.StatusOK, telegramPreview{Channel: ch, Language: lang, Messages: msgs})
}
