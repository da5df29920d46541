package tgbot

import (
	"crypto/subtle"
	"encoding/json"
	"io"
	"net/http"

	"github.com/go-telegram/bot/models"
)

// maxUpdateBytes caps the body of a webhook request.
const maxUpdateBytes = 1 << 20

// SecretHeader is the header in which Telegram sends the webhook's secret.
const SecretHeader = "X-Telegram-Bot-Api-Secret-Token"

// WebhookHandler returns the handler of the updates Telegram posts to
// Config.WebhookURL: 401 without the right secret-token header (compared
// in constant time), 400 for a body that is no update, 500 when handling
// failed (Telegram sends it again), 200 otherwise.
func (b *Bot) WebhookHandler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		got := r.Header.Get(SecretHeader)
		if b.cfg.WebhookSecret == "" || subtle.ConstantTimeCompare([]byte(got), []byte(b.cfg.WebhookSecret)) != 1 {
			http.Error(w, "wrong or missing "+SecretHeader, http.StatusUnauthorized)
			return
		}
		var u models.Update
		if err := json.NewDecoder(io.LimitReader(r.Body, maxUpdateBytes)).Decode(&u); err != nil {
			http.Error(w, "not a Telegram update", http.StatusBadRequest)
			return
		}
		if err := b.Handle(r.Context(), &u); err != nil {
			b.log.Error("telegram update not handled", "channel", "telegram", "update_id", u.ID, "error", err)
			http.Error(w, "the update could not be handled", http.StatusInternalServerError)
			return
		}
		w.WriteHeader(http.StatusOK)
	})
}
