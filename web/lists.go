package web

import (
	"cmp"
	"io"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/api"
	"github.com/pregon/pregon/dispatcher"
)

// listsPage is GET /app/lists: every list, and a form for a new one.
func (a *App) listsPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	var p page[*dispatcher.List]
	if err := a.call(r, s, "GET", "/v1/lists?limit=200", nil, &p); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "lists", language(w, r).T("lists.title"), &p)
}

// createList is POST /app/lists.
func (a *App) createList(w http.ResponseWriter, r *http.Request, s *signedIn) {
	in := map[string]string{"name": strings.TrimSpace(r.PostFormValue("name")), "kind": r.PostFormValue("kind"),
		"description": strings.TrimSpace(r.PostFormValue("description"))}
	var l dispatcher.List
	if err := a.call(r, s, "POST", "/v1/lists", in, &l); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/app/lists/"+url.PathEscape(l.ID)+"?done=list_created", http.StatusSeeOther)
}

// member is a contact as a list shows it, with its suppression if any.
type member struct {
	dispatcher.Contact
	Status     string `json:"status"`
	Suppressed *struct {
		Reason string     `json:"reason"`
		At     *time.Time `json:"at"`
	} `json:"suppressed"`
}

// listData is the list page's.
type listData struct {
	List    *dispatcher.List
	Members []member
	Query   string
	More    bool
	Report  *api.ImportResult
}

// maxSearch is how many members a search reads at most.
const maxSearch = 5000

// listPage is GET /app/lists/{id}?q=: the list's members (those whose
// address, name or outlet contain q), why any is suppressed, and the
// import form.
func (a *App) listPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	a.showList(w, r, s, nil)
}

func (a *App) showList(w http.ResponseWriter, r *http.Request, s *signedIn, report *api.ImportResult) {
	id := url.PathEscape(r.PathValue("id"))
	d := &listData{Query: strings.TrimSpace(r.URL.Query().Get("q")), Report: report}
	if err := a.call(r, s, "GET", "/v1/lists/"+id, nil, &d.List); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	q := strings.ToLower(d.Query)
	cursor, read := "", 0
	for {
		var p page[member]
		if err := a.call(r, s, "GET", "/v1/lists/"+id+"/contacts?"+url.Values{"limit": {"500"}, "cursor": {cursor}}.Encode(), nil, &p); err != nil {
			a.failCall(w, r, s, err)
			return
		}
		for _, m := range p.Items {
			if q == "" || strings.Contains(strings.ToLower(m.Email+" "+m.Name+" "+m.Outlet), q) {
				d.Members = append(d.Members, m)
			}
		}
		read += len(p.Items)
		cursor = p.NextCursor
		if cursor == "" || len(d.Members) >= 200 || read >= maxSearch {
			d.More = cursor != ""
			break
		}
	}
	a.render(w, r, s, http.StatusOK, "list", d.List.Name, d)
}

// importContacts is POST /app/lists/{id}/import: a CSV file, saved by the
// API's import, whose row-by-row report the list page then shows.
func (a *App) importContacts(w http.ResponseWriter, r *http.Request, s *signedIn) {
	f, _, err := r.FormFile("file")
	if err != nil {
		a.fail(w, r, s, http.StatusBadRequest, language(w, r).T("import.nofile"))
		return
	}
	defer f.Close()
	var res api.ImportResult
	if err := a.callRaw(r, s, "POST", "/v1/lists/"+url.PathEscape(r.PathValue("id"))+"/contacts", "text/csv", io.Reader(f), &res); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	// The report reads top to bottom in file order (the API lists them so;
	// an older one did not).
	slices.SortStableFunc(res.Errors, func(x, y api.RowError) int { return cmp.Compare(x.Row, y.Row) })
	slices.SortStableFunc(res.Suppressed, func(x, y api.SuppressedRow) int { return cmp.Compare(x.Row, y.Row) })
	a.showList(w, r, s, &res)
}

// removeContact is POST /app/lists/{id}/remove: takes an address off the list.
func (a *App) removeContact(w http.ResponseWriter, r *http.Request, s *signedIn) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	if err := a.call(r, s, "DELETE", "/v1/lists/"+url.PathEscape(r.PathValue("id"))+"/contacts/"+url.PathEscape(email), nil, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/app/lists/"+url.PathEscape(r.PathValue("id"))+"?done=removed", http.StatusSeeOther)
}

// backToList sends a GET of a list's form address (an import report or an
// erase confirmation reloaded, bookmarked or shared) to the list's page.
func (a *App) backToList(w http.ResponseWriter, r *http.Request, _ *signedIn) {
	http.Redirect(w, r, "/app/lists/"+url.PathEscape(r.PathValue("id")), http.StatusSeeOther)
}
