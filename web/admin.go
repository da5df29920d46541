package web

import (
	"errors"
	"net/http"
	"net/url"
	"strings"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// channelsPage is GET /app/channels: the Telegram channels, their status
// and, for an unavailable one, why.
func (a *App) channelsPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	var p page[*dispatcher.TelegramChannel]
	if err := a.call(r, s, "GET", "/v1/telegram/channels?limit=200", nil, &p); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "channels", language(w, r).T("channels.title"), splitChannels(p.Items))
}

// enableChannel is POST /app/channels/{id}/enable.
func (a *App) enableChannel(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if err := a.call(r, s, "POST", "/v1/telegram/channels/"+url.PathEscape(r.PathValue("id"))+"/enable", nil, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/app/channels?done=enabled", http.StatusSeeOther)
}

// usersPage is GET /app/users (admins): people, and a form for a new one.
func (a *App) usersPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	us, err := a.cfg.Store.Users(r.Context())
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "users", language(w, r).T("users.title"), &usersData{Users: us, Roles: []string{"viewer", "coordinator", "admin"}})
}

// createUser is POST /app/users (admins).
func (a *App) createUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	l := language(w, r)
	u := &auth.User{Email: strings.ToLower(strings.TrimSpace(r.PostFormValue("email"))), Name: strings.TrimSpace(r.PostFormValue("name")),
		Role: auth.Role(r.PostFormValue("role"))}
	if _, err := dispatcher.NormalizeEmail(u.Email); err != nil || !u.Role.Valid() {
		a.fail(w, r, s, http.StatusBadRequest, l.T("users.bad"))
		return
	}
	hash, err := auth.HashPassword(r.PostFormValue("password"))
	if err != nil {
		a.fail(w, r, s, http.StatusBadRequest, l.T("users.weak", auth.MinPasswordLen))
		return
	}
	u.PasswordHash = hash
	if err := a.cfg.Store.CreateUser(r.Context(), u); errors.Is(err, dispatcher.ErrConflict) {
		a.fail(w, r, s, http.StatusConflict, l.T("users.taken"))
		return
	} else if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.record(r, s.user, audit.Entry{Action: audit.UserCreate, Target: u.Email, Detail: map[string]any{"role": string(u.Role)}})
	http.Redirect(w, r, "/app/users?done=user_created", http.StatusSeeOther)
}

// disableUser is POST /app/users/disable (admins): disable=true or false.
func (a *App) disableUser(w http.ResponseWriter, r *http.Request, s *signedIn) {
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	disabled := r.PostFormValue("disabled") != "false"
	if email == s.user.Email && disabled {
		a.fail(w, r, s, http.StatusConflict, language(w, r).T("users.self"))
		return
	}
	if err := a.cfg.Store.SetUserDisabled(r.Context(), email, disabled); errors.Is(err, dispatcher.ErrNotFound) {
		a.fail(w, r, s, http.StatusNotFound, "")
		return
	} else if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.record(r, s.user, audit.Entry{Action: audit.UserDisable, Target: email, Detail: map[string]any{"disabled": disabled}})
	http.Redirect(w, r, "/app/users?done=user_changed", http.StatusSeeOther)
}

// tokensPage is GET /app/tokens (admins): the API tokens, never their secrets.
func (a *App) tokensPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	a.showTokens(w, r, s, http.StatusOK, &tokensData{})
}

// revokeToken is POST /app/tokens/{id}/revoke (admins).
func (a *App) revokeToken(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if err := a.call(r, s, "DELETE", "/v1/tokens/"+url.PathEscape(r.PathValue("id")), nil, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/app/tokens?done=revoked", http.StatusSeeOther)
}
