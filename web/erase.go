package web

import (
	"net/http"
	"net/url"
	"strings"
)

// eraseData is the erasure's confirmation page's.
type eraseData struct {
	ListID string // the list page it came from, to go back to
	Email  string
}

// eraseContact is POST /app/lists/{id}/erase (issue 14 item 5). Without
// confirm=yes it shows what erasing the address does, with a form that
// confirms; with it, it erases the address through the API (which takes it
// off every list and keeps only a keyed hash) and goes back to the list.
// Both steps are POSTs, so that the address is never in a URL (and so in
// no access log), and both are checked for the session's CSRF token.
func (a *App) eraseContact(w http.ResponseWriter, r *http.Request, s *signedIn) {
	email := strings.TrimSpace(r.PostFormValue("email"))
	d := &eraseData{ListID: r.PathValue("id"), Email: email}
	if r.PostFormValue("confirm") != "yes" {
		a.render(w, r, s, http.StatusOK, "erase", language(w, r).T("erase.title"), d)
		return
	}
	if err := a.call(r, s, "POST", "/v1/contacts/"+url.PathEscape(email)+"/erase", nil, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, "/app/lists/"+url.PathEscape(d.ListID)+"?done=erased", http.StatusSeeOther)
}
