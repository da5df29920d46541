package web

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/auth"
	"github.com/pregon/pregon/dispatcher"
)

// The management pages (issue 14 item 5): pending and unavailable Telegram
// channels, API tokens made in the browser, people's roles, and one contact
// at a time, edited and with the reason it is not mailed.

// RoleSetter changes a person's role. *store.Store implements it; when
// Config.Store does not, the users page offers no role change.
type RoleSetter interface {
	// SetUserRole changes a person's role; dispatcher.ErrNotFound.
	SetUserRole(ctx context.Context, email string, role auth.Role) error
}

// approveChannel is POST /app/channels/{id}/approve: a channel the bot
// found (it was made an administrator there) starts receiving releases.
func (a *App) approveChannel(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if err := a.call(r, s, "POST", "/v1/telegram/channels/"+url.PathEscape(r.PathValue("id"))+"/approve", nil, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/app/channels?done=channel_approved", http.StatusSeeOther)
}

// channelsData is the channels page's: the pending ones first.
type channelsData struct {
	Pending, Unavailable, Active []*dispatcher.TelegramChannel
}

func splitChannels(all []*dispatcher.TelegramChannel) *channelsData {
	d := &channelsData{}
	for _, c := range all {
		switch c.Status {
		case dispatcher.ChannelPending:
			d.Pending = append(d.Pending, c)
		case dispatcher.ChannelUnavailable:
			d.Unavailable = append(d.Unavailable, c)
		default:
			d.Active = append(d.Active, c)
		}
	}
	return d
}

// tokensData is the tokens page's: the tokens, and the one just made, with
// its secret, shown this once.
type tokensData struct {
	Items []*auth.Token
	New   *api.NewToken
	Err   *Problem
}

func (d *tokensData) problem() *Problem { return d.Err }

func (a *App) showTokens(w http.ResponseWriter, r *http.Request, s *signedIn, status int, d *tokensData) {
	var p page[*auth.Token]
	if err := a.call(r, s, "GET", "/v1/tokens", nil, &p); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d.Items = p.Items
	a.render(w, r, s, status, "tokens", language(w, r).T("tokens.title"), d)
}

// createToken is POST /app/tokens (admins): name, role and, optionally, the
// days it works. The page that answers shows the secret once, in a field
// to copy; it is never shown again.
func (a *App) createToken(w http.ResponseWriter, r *http.Request, s *signedIn) {
	in := map[string]any{"name": strings.TrimSpace(r.PostFormValue("name")), "role": r.PostFormValue("role")}
	if v := strings.TrimSpace(r.PostFormValue("days")); v != "" {
		days, err := strconv.Atoi(v)
		if err != nil || days < 1 || days > 3650 {
			a.showTokens(w, r, s, http.StatusBadRequest, &tokensData{Err: &Problem{Status: http.StatusBadRequest, Detail: language(w, r).T("tokens.bad_days")}})
			return
		}
		in["expires_at"] = a.now().Add(time.Duration(days) * 24 * time.Hour).UTC().Format(time.RFC3339)
	}
	var tok api.NewToken
	if err := a.call(r, s, "POST", "/v1/tokens", in, &tok); err != nil {
		var p *Problem
		if !errors.As(err, &p) {
			a.failCall(w, r, s, err)
			return
		}
		a.showTokens(w, r, s, p.Status, &tokensData{Err: p})
		return
	}
	a.showTokens(w, r, s, http.StatusCreated, &tokensData{New: &tok})
}

// setRole is POST /app/users/role (admins): email and role. An admin may
// not change their own role (which could leave no admin).
func (a *App) setRole(w http.ResponseWriter, r *http.Request, s *signedIn) {
	l := language(w, r)
	email := strings.ToLower(strings.TrimSpace(r.PostFormValue("email")))
	role := auth.Role(r.PostFormValue("role"))
	if !role.Valid() {
		a.fail(w, r, s, http.StatusBadRequest, l.T("users.bad"))
		return
	}
	if email == s.user.Email {
		a.fail(w, r, s, http.StatusConflict, l.T("users.self_role"))
		return
	}
	rs, ok := a.cfg.Store.(RoleSetter)
	if !ok {
		a.fail(w, r, s, http.StatusNotImplemented, "")
		return
	}
	u, err := a.cfg.Store.User(r.Context(), email)
	if errors.Is(err, dispatcher.ErrNotFound) {
		a.fail(w, r, s, http.StatusNotFound, "")
		return
	} else if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	if err := rs.SetUserRole(r.Context(), email, role); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.record(r, s.user, audit.Entry{Action: audit.UserRole, Target: email, Detail: map[string]any{"role": string(role), "was": string(u.Role)}})
	http.Redirect(w, r, "/app/users?done=user_changed", http.StatusSeeOther)
}

// contactData is the contact page's.
type contactData struct {
	Email   string
	Contact *api.ContactView
	ListID  string
	Tags    string
	Attrs   string
	Err     *Problem
	Missing bool // no contact and not suppressed
}

func (d *contactData) problem() *Problem { return d.Err }

// contactPage is GET /app/contacts?email=&list=: one address, whatever
// lists it is on: why it is not mailed (suppressed: the reason, since when,
// from where), and a form to edit it. list is the list to go back to.
func (a *App) contactPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	d := &contactData{Email: strings.TrimSpace(r.URL.Query().Get("email")), ListID: r.URL.Query().Get("list")}
	status := http.StatusOK
	if d.Email != "" {
		var v api.ContactView
		err := a.call(r, s, "GET", "/v1/contacts/"+url.PathEscape(d.Email), nil, &v)
		var p *Problem
		switch {
		case err == nil:
			d.Contact = &v
			d.Tags = strings.Join(v.Tags, ", ")
			keys := make([]string, 0, len(v.Attributes))
			for k := range v.Attributes {
				keys = append(keys, k)
			}
			slices.Sort(keys)
			var b strings.Builder
			for _, k := range keys {
				b.WriteString(k + " = " + v.Attributes[k] + "\n")
			}
			d.Attrs = b.String()
		case errors.As(err, &p) && p.Status == http.StatusNotFound:
			d.Missing, status = true, http.StatusNotFound
		case errors.As(err, &p):
			d.Err, status = p, p.Status
		default:
			a.failCall(w, r, s, err)
			return
		}
	}
	a.render(w, r, s, status, "contact", language(w, r).T("contact.title"), d)
}

// parseAttributes reads "key = value" lines (blank lines skipped), or
// returns the number of the first line that is not one.
func parseAttributes(s string) (map[string]string, int) {
	out := map[string]string{}
	for i, line := range strings.Split(strings.ReplaceAll(s, "\r\n", "\n"), "\n") {
		if strings.TrimSpace(line) == "" {
			continue
		}
		k, v, ok := strings.Cut(line, "=")
		if !ok || strings.TrimSpace(k) == "" {
			return nil, i + 1
		}
		out[strings.TrimSpace(k)] = strings.TrimSpace(v)
	}
	return out, 0
}

// editContact is POST /app/contacts: the contact's name, outlet, language,
// tags (separated by commas) and attributes ("key = value" a line), all
// replaced (PATCH /v1/contacts/{email}).
func (a *App) editContact(w http.ResponseWriter, r *http.Request, s *signedIn) {
	l := language(w, r)
	email := strings.TrimSpace(r.PostFormValue("email"))
	list := r.PostFormValue("list")
	back := "/app/contacts?" + url.Values{"email": {email}, "list": {list}}.Encode()
	tags := []string{}
	for _, t := range strings.Split(r.PostFormValue("tags"), ",") {
		if t = strings.TrimSpace(t); t != "" {
			tags = append(tags, t)
		}
	}
	attrs, bad := parseAttributes(r.PostFormValue("attributes"))
	var err error
	if bad > 0 {
		err = &Problem{Status: http.StatusBadRequest, Detail: l.T("contact.bad_attr", bad)}
	} else {
		in := map[string]any{"name": r.PostFormValue("name"), "outlet": r.PostFormValue("outlet"),
			"language": strings.TrimSpace(r.PostFormValue("language")), "tags": tags, "attributes": attrs}
		err = a.call(r, s, "PATCH", "/v1/contacts/"+url.PathEscape(email), in, nil)
	}
	if err != nil {
		var p *Problem
		if !errors.As(err, &p) {
			a.failCall(w, r, s, err)
			return
		}
		d := &contactData{Email: email, ListID: list, Err: p, Tags: r.PostFormValue("tags"), Attrs: r.PostFormValue("attributes"),
			Contact: &api.ContactView{Known: true, Contact: dispatcher.Contact{Email: email, Name: r.PostFormValue("name"),
				Outlet: r.PostFormValue("outlet"), Language: r.PostFormValue("language")}}}
		a.render(w, r, s, p.Status, "contact", l.T("contact.title"), d)
		return
	}
	http.Redirect(w, r, back+"&done=contact_saved", http.StatusSeeOther)
}

// usersData is the users page's: people, and the roles to choose from.
type usersData struct {
	Users []*auth.User
	Roles []string
}
