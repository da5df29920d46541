package web

import (
	"context"
	"crypto/subtle"
	"errors"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/store"
)

// signedIn is the person behind a request and their session.
type signedIn struct {
	user *auth.User
	sess *store.Session
	hash string // of the session id
}

// handler is a page for a signed-in person.
type handler func(w http.ResponseWriter, r *http.Request, s *signedIn)

// Cookie names. With https the session cookie takes the __Host- prefix, so
// that no subdomain can set it.
const (
	sessionCookie = "pregon_session"
	loginCookie   = "pregon_login" // the sign-in form's CSRF token (double submit)
	maxFormBytes  = 1 << 20
)

func (a *App) sessionCookieName() string {
	if a.secure {
		return "__Host-" + sessionCookie
	}
	return sessionCookie
}

// session returns the signed-in person behind r, or nil: no cookie, a
// session that ended or expired, or a user since disabled or deleted. The
// error is the store's, when it failed.
func (a *App) session(r *http.Request) (*signedIn, error) {
	c, err := r.Cookie(a.sessionCookieName())
	if err != nil || c.Value == "" {
		return nil, nil
	}
	hash := auth.Hash(c.Value)
	sess, err := a.cfg.Store.Session(r.Context(), hash)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	u, err := a.cfg.Store.User(r.Context(), sess.Email)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	if u.Disabled || !u.Role.Valid() {
		return nil, nil
	}
	return &signedIn{user: u, sess: sess, hash: hash}, nil
}

// person wraps a page: it needs someone signed in (else the sign-in page,
// coming back here after), whose role allows need (else 403), and on POST
// the session's CSRF token in the form's "csrf" field (else 403).
func (a *App) person(need auth.Role, h handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s, err := a.session(r)
		if err != nil {
			a.log.ErrorContext(r.Context(), "read session", "error", err)
			a.fail(w, r, nil, http.StatusServiceUnavailable, "")
			return
		}
		if s == nil {
			if r.Method == http.MethodGet {
				http.Redirect(w, r, "/app/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
				return
			}
			a.fail(w, r, nil, http.StatusUnauthorized, "")
			return
		}
		if !s.user.Role.Allows(need) {
			a.fail(w, r, s, http.StatusForbidden, language(w, r).T("error.role", string(s.user.Role), string(need)))
			return
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, a.maxForm(r))
			if !sameToken(formValue(r, "csrf"), s.sess.CSRF) {
				a.fail(w, r, s, http.StatusForbidden, language(w, r).T("error.csrf"))
				return
			}
		}
		h(w, r, s)
	})
}

// maxForm is how large a form may be: more for a contact upload.
func (a *App) maxForm(r *http.Request) int64 {
	if strings.HasSuffix(r.URL.Path, "/import") {
		return api.DefaultMaxUploadBytes + maxFormBytes
	}
	if r.URL.Path == "/app/releases" || strings.HasSuffix(r.URL.Path, "/edit") { // compose.go: with a file
		return maxComposeBytes
	}
	return maxFormBytes
}

// formValue reads a field of a urlencoded or multipart form.
func formValue(r *http.Request, name string) string {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "multipart/form-data") {
		if r.MultipartForm == nil {
			if err := r.ParseMultipartForm(maxFormBytes); err != nil {
				return ""
			}
		}
		if v := r.MultipartForm.Value[name]; len(v) > 0 {
			return v[0]
		}
		return ""
	}
	return r.PostFormValue(name)
}

func sameToken(got, want string) bool {
	return got != "" && want != "" && subtle.ConstantTimeCompare([]byte(got), []byte(want)) == 1
}

// loginPage is GET /app/login: the sign-in form, with a fresh CSRF token in
// a cookie of its own (there is no session yet to tie it to).
func (a *App) loginPage(w http.ResponseWriter, r *http.Request) {
	a.showLogin(w, r, http.StatusOK, "")
}

type loginData struct {
	Next  string
	Email string
	Token string
	Error string
}

func (a *App) showLogin(w http.ResponseWriter, r *http.Request, status int, msg string) {
	tok, err := auth.NewSessionID()
	if err != nil {
		a.fail(w, r, nil, http.StatusInternalServerError, "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Value: tok, Path: "/app/login", HttpOnly: true,
		Secure: a.secure, SameSite: http.SameSiteStrictMode, MaxAge: 3600})
	d := &loginData{Next: safeNext(r.FormValue("next")), Email: r.PostFormValue("email"), Token: tok, Error: msg}
	a.render(w, r, nil, status, "login", language(w, r).T("login.title"), d)
}

// safeNext keeps a "next" address only when it is a page of the app.
func safeNext(next string) string {
	if strings.HasPrefix(next, "/app/") && !strings.HasPrefix(next, "/app//") && !strings.ContainsAny(next, "\\\r\n") {
		return next
	}
	return "/app/releases"
}

// login is POST /app/login. It checks the form's token against the login
// cookie, then the rate limits (per client and per account), then the
// password; on success it starts a new session (whatever session id the
// browser had is ended, never reused) and records the sign-in.
func (a *App) login(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, maxFormBytes)
	l := language(w, r)
	c, err := r.Cookie(loginCookie)
	if err != nil || !sameToken(r.PostFormValue("csrf"), c.Value) {
		a.showLogin(w, r, http.StatusForbidden, l.T("login.expired"))
		return
	}
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	password := r.PostFormValue("password")
	client := api.ClientAddr(r, a.cfg.TrustedProxies)
	if a.cfg.Limiter != nil {
		for _, key := range []string{"web-login:client:" + client, "web-login:account:" + auth.Hash(email)} {
			wait, err := a.cfg.Limiter.Allow(r.Context(), key, a.cfg.LoginRate)
			if err != nil {
				a.log.ErrorContext(r.Context(), "sign-in rate limit", "error", err)
				a.fail(w, r, nil, http.StatusServiceUnavailable, "")
				return
			}
			if wait > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(int(wait.Round(time.Second)/time.Second)+1))
				a.showLogin(w, r, http.StatusTooManyRequests, l.T("login.limited"))
				return
			}
		}
	}
	u, err := a.cfg.Store.User(r.Context(), email)
	if err != nil && !errors.Is(err, dispatcher.ErrNotFound) {
		a.log.ErrorContext(r.Context(), "sign in", "error", err)
		a.fail(w, r, nil, http.StatusServiceUnavailable, "")
		return
	}
	if u == nil {
		auth.CheckPassword(a.dummyHash, password)
		a.showLogin(w, r, http.StatusUnauthorized, l.T("login.wrong"))
		return
	}
	if !auth.CheckPassword(u.PasswordHash, password) || u.Disabled {
		a.showLogin(w, r, http.StatusUnauthorized, l.T("login.wrong"))
		return
	}
	if old, err := r.Cookie(a.sessionCookieName()); err == nil && old.Value != "" {
		_ = a.cfg.Store.DeleteSession(r.Context(), auth.Hash(old.Value))
	}
	id, err1 := auth.NewSessionID()
	csrf, err2 := auth.NewSessionID()
	if err := errors.Join(err1, err2); err != nil {
		a.fail(w, r, nil, http.StatusInternalServerError, "")
		return
	}
	if err := a.cfg.Store.CreateSession(r.Context(), auth.Hash(id), &store.Session{Email: u.Email, CSRF: csrf}, a.cfg.SessionTTL); err != nil {
		a.log.ErrorContext(r.Context(), "create session", "error", err)
		a.fail(w, r, nil, http.StatusServiceUnavailable, "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: a.sessionCookieName(), Value: id, Path: "/", HttpOnly: true, Secure: a.secure,
		SameSite: http.SameSiteLaxMode, MaxAge: int(a.cfg.SessionTTL / time.Second)})
	http.SetCookie(w, &http.Cookie{Name: loginCookie, Path: "/app/login", MaxAge: -1, HttpOnly: true, Secure: a.secure})
	a.record(r, u, audit.Entry{Action: audit.UserSignIn, Target: u.Email})
	http.Redirect(w, r, safeNext(r.PostFormValue("next")), http.StatusSeeOther)
}

// logout is POST /app/logout: the session ends in the store, not only in
// the browser.
func (a *App) logout(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if err := a.cfg.Store.DeleteSession(r.Context(), s.hash); err != nil {
		a.log.ErrorContext(r.Context(), "sign out", "error", err)
		a.fail(w, r, s, http.StatusServiceUnavailable, "")
		return
	}
	http.SetCookie(w, &http.Cookie{Name: a.sessionCookieName(), Path: "/", MaxAge: -1, HttpOnly: true, Secure: a.secure, SameSite: http.SameSiteLaxMode})
	a.record(r, s.user, audit.Entry{Action: audit.UserSignOut, Target: s.user.Email})
	http.Redirect(w, r, "/", http.StatusSeeOther)
}

// record appends an audit entry of the app's own (signing in and out,
// managing people) under the person's name; a failure is logged, since
// the change was made.
func (a *App) record(r *http.Request, u *auth.User, e audit.Entry) {
	e.Actor = u.Actor()
	e.Client = api.ClientAddr(r, a.cfg.TrustedProxies)
	e.At = a.now()
	ctx, cancel := context.WithTimeout(context.WithoutCancel(r.Context()), 5*time.Second)
	defer cancel()
	if err := a.cfg.Store.AppendAudit(ctx, &e); err != nil {
		a.log.ErrorContext(r.Context(), "change made but not recorded in the audit log",
			"action", string(e.Action), "target", e.Target, "actor", e.Actor, "error", err)
	}
}
