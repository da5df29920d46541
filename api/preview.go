package api

import (
	"net/http"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

type emailPreview struct {
	Channel  dispatcher.ChannelKind `json:"channel"`
	Language string                 `json:"language"`
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

// previewRelease handles GET /v1/releases/{id}/preview?channel=&language=:
// the release as a recipient in that language would get it (the original
// when there is no translation; "language" in the answer says which).
func (s *Server) previewRelease(w http.ResponseWriter, r *http.Request) error {
	q := r.URL.Query()
	ch := dispatcher.ChannelKind(q.Get("channel"))
	lang := strings.TrimSpace(q.Get("language"))
	var fe fieldErrors
	if !ch.Valid() {
		fe.add("channel", "must be %q or %q", dispatcher.ChannelEmail, dispatcher.ChannelTelegram)
	}
	checkLanguage(&fe, "language", lang, false)
	if err := fe.err(); err != nil {
		return err
	}
	rel, err := s.store.Release(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	if lang == "" {
		lang = rel.Language
	}
	lang = rel.Text(lang).Language
	if ch == dispatcher.ChannelEmail {
		c, err := s.previewer.Email(rel, lang)
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
		return writeJSON(w, http.StatusOK, emailPreview{Channel: ch, Language: lang, Subject: c.Subject, Text: c.Text, HTML: c.HTML})
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
