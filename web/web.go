// Package web is the web app for coordinators (issue 14): press officers
// sign in with a password and write, check, approve, send and watch
// releases, and keep their lists, without a terminal.
//
// Pages are rendered on the server with html/template from embedded files;
// two small scripts update the watch page live and enhance the compose page
// (compose.go: live preview and counts, autosave); every page works without
// them. The interface speaks Spanish and English, chosen
// from the browser's Accept-Language or the "lang" cookie.
//
// People are users kept in the store (pregon user create), with the API
// tokens' roles. A session lives in Redis under the hash of its id, which a
// Secure (when the public URL is https), HttpOnly, SameSite=Lax cookie
// carries; every form posts the session's CSRF token. The app changes
// nothing itself but sessions and users: it calls the API in process
// (api.Server.People), so a person's actions are decoded, checked and
// recorded in the audit log exactly as a token's, under the person's name.
package web

import (
	"context"
	"embed"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/netip"
	"strings"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/store"
)

//go:embed templates static
var files embed.FS

// Store is what the app keeps itself: people and their sessions, and the
// audit entries of signing in and out and of managing people.
type Store interface {
	// User returns the user with an email, or dispatcher.ErrNotFound.
	User(ctx context.Context, email string) (*auth.User, error)
	// Users returns every user, by email.
	Users(ctx context.Context) ([]*auth.User, error)
	// CreateUser stores a new user; dispatcher.ErrConflict when the email is taken.
	CreateUser(ctx context.Context, u *auth.User) error
	// SetUserDisabled disables or enables a user; dispatcher.ErrNotFound.
	SetUserDisabled(ctx context.Context, email string, disabled bool) error
	// CreateSession, Session and DeleteSession keep sessions under the
	// hash of their id (Session: dispatcher.ErrNotFound once gone).
	CreateSession(ctx context.Context, hash string, s *store.Session, ttl time.Duration) error
	Session(ctx context.Context, hash string) (*store.Session, error)
	DeleteSession(ctx context.Context, hash string) error
	// AppendAudit appends an entry to the audit log.
	AppendAudit(ctx context.Context, e *audit.Entry) error
}

// Limiter limits sign-in attempts: Allow returns 0 when one more request
// under key is allowed at rate a minute, else how long to wait.
// *ratelimit.PerClient implements it.
type Limiter interface {
	Allow(ctx context.Context, key string, rate int) (time.Duration, error)
}

// Defaults.
const (
	// DefaultSessionTTL is how long a session lasts after sign-in.
	DefaultSessionTTL = 12 * time.Hour
	// DefaultLoginRate is how many sign-in attempts a minute one client,
	// and one account, may make after a small burst.
	DefaultLoginRate = 5
)

// Config configures an App. Store and API are required.
type Config struct {
	Store Store
	// API serves the API's /v1 endpoints to the person in a request's
	// context: api.Server.People.
	API http.Handler
	// Limiter limits sign-ins (nil: no limit, tests only); LoginRate is the
	// rate a minute per client and per account (0: DefaultLoginRate).
	Limiter   Limiter
	LoginRate int
	// PublicURL is PREGON_PUBLIC_URL: when it is https, cookies are Secure.
	PublicURL string
	// TrustedProxies are believed for the client's address (as the API's).
	TrustedProxies []netip.Prefix
	// SessionTTL is how long a session lasts (0: DefaultSessionTTL).
	SessionTTL time.Duration
	// RequireApproval says that a release needs a second coordinator's
	// approval before it is sent (PREGON_REQUIRE_APPROVAL).
	RequireApproval bool
	Logger          *slog.Logger
	Now             func() time.Time

	// Renderer renders the compose page's Markdown preview and names the
	// deployment's time zone (nil: templates' defaults, in UTC).
	Renderer Pager
}

// App is the web app's HTTP handler.
type App struct {
	cfg     Config
	log     *slog.Logger
	now     func() time.Time
	secure  bool
	pages   map[string]*template.Template
	handler http.Handler
	// dummyHash is checked against when the account does not exist, so
	// that a wrong email takes as long to refuse as a wrong password.
	dummyHash string
}

// New returns the web app, or an error when Config lacks Store or API or a
// template does not parse.
func New(cfg Config) (*App, error) {
	if cfg.Store == nil || cfg.API == nil {
		return nil, errors.New("web: Config.Store and Config.API are required")
	}
	a := &App{cfg: cfg, log: cfg.Logger, now: cfg.Now, secure: strings.HasPrefix(strings.ToLower(cfg.PublicURL), "https://")}
	if a.log == nil {
		a.log = slog.New(slog.DiscardHandler)
	}
	if a.now == nil {
		a.now = time.Now
	}
	if a.cfg.SessionTTL <= 0 {
		a.cfg.SessionTTL = DefaultSessionTTL
	}
	if a.cfg.LoginRate <= 0 {
		a.cfg.LoginRate = DefaultLoginRate
	}
	dummy, err := auth.NewSessionID()
	if err != nil {
		return nil, err
	}
	if a.dummyHash, err = auth.HashPassword(dummy); err != nil {
		return nil, err
	}
	if err := a.composeDefaults(); err != nil {
		return nil, err
	}
	pages, err := parsePages()
	if err != nil {
		return nil, err
	}
	a.pages = pages
	a.handler = a.routes()
	return a, nil
}

// Mount returns a handler that serves the app at GET / and under /app/,
// and everything else with next (the API and the public pages).
func (a *App) Mount(next http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/", next)
	mux.Handle("GET /{$}", a)
	mux.Handle("/app/", a)
	return mux
}

// ServeHTTP serves one request of the app.
func (a *App) ServeHTTP(w http.ResponseWriter, r *http.Request) { a.handler.ServeHTTP(w, r) }

func (a *App) routes() http.Handler {
	mux := http.NewServeMux()
	static, _ := fs.Sub(files, "static")
	mux.Handle("GET /app/static/", http.StripPrefix("/app/static/", http.FileServerFS(static)))
	mux.HandleFunc("GET /{$}", a.home)
	mux.HandleFunc("GET /app/login", a.loginPage)
	mux.HandleFunc("POST /app/login", a.login)
	mux.Handle("POST /app/logout", a.person(auth.RoleViewer, a.logout))

	// Releases (releases.go).
	mux.Handle("GET /app/releases", a.person(auth.RoleViewer, a.releasesPage))
	mux.Handle("GET /app/releases/new", a.person(auth.RoleCoordinator, a.newReleasePage))
	mux.Handle("POST /app/releases", a.person(auth.RoleCoordinator, a.createRelease))
	mux.Handle("GET /app/releases/{id}", a.person(auth.RoleViewer, a.releasePage))
	mux.Handle("GET /app/releases/{id}/edit", a.person(auth.RoleCoordinator, a.editReleasePage))
	mux.Handle("POST /app/releases/{id}/edit", a.person(auth.RoleCoordinator, a.editRelease))
	mux.Handle("GET /app/releases/{id}/preview", a.person(auth.RoleViewer, a.previewPage))
	mux.Handle("GET /app/releases/{id}/preview/email", a.person(auth.RoleViewer, a.previewEmail))
	mux.Handle("POST /app/releases/{id}/test", a.person(auth.RoleCoordinator, a.testSend))
	mux.Handle("GET /app/releases/{id}/tests/{test_id}", a.person(auth.RoleViewer, a.testPage))
	mux.Handle("POST /app/releases/{id}/approve", a.person(auth.RoleCoordinator, a.approve))
	mux.Handle("GET /app/releases/{id}/send", a.person(auth.RoleCoordinator, a.sendPage))
	mux.Handle("POST /app/releases/{id}/send", a.person(auth.RoleCoordinator, a.send))
	mux.Handle("GET /app/releases/{id}/watch", a.person(auth.RoleViewer, a.watchPage))
	mux.Handle("GET /app/releases/{id}/events", a.person(auth.RoleViewer, a.events))
	mux.Handle("POST /app/releases/{id}/retry", a.person(auth.RoleCoordinator, a.retry))
	mux.Handle("POST /app/releases/{id}/cancel", a.person(auth.RoleCoordinator, a.cancel))
	mux.Handle("POST /app/releases/{id}/corrections", a.person(auth.RoleCoordinator, a.correct))
	a.composeRoutes(mux) // compose.go

	// Lists and contacts (lists.go).
	mux.Handle("GET /app/lists", a.person(auth.RoleViewer, a.listsPage))
	mux.Handle("POST /app/lists", a.person(auth.RoleCoordinator, a.createList))
	mux.Handle("GET /app/lists/{id}", a.person(auth.RoleViewer, a.listPage))
	mux.Handle("POST /app/lists/{id}/import", a.person(auth.RoleCoordinator, a.importContacts))
	mux.Handle("POST /app/lists/{id}/remove", a.person(auth.RoleCoordinator, a.removeContact))
	mux.Handle("POST /app/lists/{id}/erase", a.person(auth.RoleCoordinator, a.eraseContact)) // erase.go
	// The import report and the erase confirmation answer a POST at their
	// own address: reloading or sharing it (a GET) goes back to the list.
	mux.Handle("GET /app/lists/{id}/import", a.person(auth.RoleViewer, a.backToList))
	mux.Handle("GET /app/lists/{id}/erase", a.person(auth.RoleViewer, a.backToList))

	// Channels, tokens and people (admin.go).
	mux.Handle("GET /app/channels", a.person(auth.RoleViewer, a.channelsPage))
	mux.Handle("POST /app/channels/{id}/enable", a.person(auth.RoleCoordinator, a.enableChannel))
	mux.Handle("GET /app/users", a.person(auth.RoleAdmin, a.usersPage))
	mux.Handle("POST /app/users", a.person(auth.RoleAdmin, a.createUser))
	mux.Handle("POST /app/users/disable", a.person(auth.RoleAdmin, a.disableUser))
	mux.Handle("GET /app/tokens", a.person(auth.RoleAdmin, a.tokensPage))
	mux.Handle("POST /app/tokens/{id}/revoke", a.person(auth.RoleAdmin, a.revokeToken))

	// Management (manage.go; issue 14 item 5).
	mux.Handle("POST /app/channels/{id}/approve", a.person(auth.RoleCoordinator, a.approveChannel))
	mux.Handle("POST /app/tokens", a.person(auth.RoleAdmin, a.createToken))
	mux.Handle("POST /app/users/role", a.person(auth.RoleAdmin, a.setRole))
	mux.Handle("GET /app/contacts", a.person(auth.RoleViewer, a.contactPage))
	mux.Handle("POST /app/contacts", a.person(auth.RoleCoordinator, a.editContact))

	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		a.fail(w, r, nil, http.StatusNotFound, "")
	})
	return headers(withLanguage(mux))
}

// headers sets the security headers of every page: nothing from other
// origins, no framing but of the app's own email preview, no caching.
func headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; "+
			"frame-src 'self'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'; object-src 'none'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		h.Set("X-Frame-Options", "DENY")
		if !strings.HasPrefix(r.URL.Path, "/app/static/") {
			h.Set("Cache-Control", "no-store")
		}
		next.ServeHTTP(w, r)
	})
}

// home is GET /: the releases for someone signed in, else the sign-in page.
func (a *App) home(w http.ResponseWriter, r *http.Request) {
	if s, _ := a.session(r); s != nil {
		http.Redirect(w, r, "/app/releases", http.StatusSeeOther)
		return
	}
	a.loginPage(w, r)
}

// view is what every page's template gets.
type view struct {
	L       *Lang
	User    *auth.User
	CSRF    string
	Title   string
	Path    string
	Flash   string
	Error   string
	Problem *Problem
	Data    any
}

// render writes page name with data and status.
func (a *App) render(w http.ResponseWriter, r *http.Request, s *signedIn, status int, name, title string, data any) {
	v := &view{L: language(w, r), Title: title, Path: r.URL.Path, Data: data, Flash: r.URL.Query().Get("done")}
	if s != nil {
		v.User, v.CSRF = s.user, s.sess.CSRF
	}
	if p, ok := data.(*Problem); ok {
		v.Problem = p
	}
	if f, ok := data.(interface{ problem() *Problem }); ok {
		v.Problem = f.problem()
	}
	v.Problem = localize(v.L, v.Problem)
	t, ok := a.pages[name]
	if !ok {
		http.Error(w, "no page "+name, http.StatusInternalServerError)
		return
	}
	var buf strings.Builder
	if err := t.ExecuteTemplate(&buf, "layout", v); err != nil {
		a.log.ErrorContext(r.Context(), "render page", "page", name, "error", err)
		http.Error(w, "The page could not be shown.", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	fmt.Fprint(w, buf.String())
}

// fail shows an error page: p when the API refused, else status with msg.
func (a *App) fail(w http.ResponseWriter, r *http.Request, s *signedIn, status int, msg string) {
	l := language(w, r)
	if msg == "" {
		msg = l.T(fmt.Sprintf("error.%d", status))
	}
	a.render(w, r, s, status, "error", l.T("error.title"), &Problem{Status: status, Detail: msg})
}
