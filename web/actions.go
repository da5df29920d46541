package web

import (
	"net/http"
	"net/url"
	"strings"

	"github.com/pregon/pregon/dispatcher"
)

// relPath is the app's page of the request's release, with an optional
// suffix and "done" message.
func relPath(r *http.Request, suffix, done string) string {
	p := "/app/releases/" + url.PathEscape(r.PathValue("id")) + suffix
	if done != "" {
		p += "?done=" + done
	}
	return p
}

// v1Path is the API's address of the request's release, with a suffix.
func v1Path(r *http.Request, suffix string) string {
	return "/v1/releases/" + url.PathEscape(r.PathValue("id")) + suffix
}

// approve is POST /app/releases/{id}/approve: approves the version shown.
func (a *App) approve(w http.ResponseWriter, r *http.Request, s *signedIn) {
	var version int
	if _, err := parseInt(r.PostFormValue("version"), &version); err != nil {
		a.fail(w, r, s, http.StatusBadRequest, "version")
		return
	}
	if err := a.call(r, s, "POST", v1Path(r, "/approve"), map[string]int{"version": version}, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, relPath(r, "", "approved"), http.StatusSeeOther)
}

// sendData is the send confirmation's.
type sendData struct {
	Rel    *releaseView
	Checks []dispatcher.Check
	Errors bool
	Err    *Problem // the API's refusal of a send, shown above the checks
}

func (d *sendData) problem() *Problem { return d.Err }

// sendPage is GET /app/releases/{id}/send: what will happen, in words (the
// audiences counted after de-duplication and suppression, the embargo),
// before the button that does it.
func (a *App) sendPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	a.sendAgain(w, r, s, http.StatusOK, nil)
}

// sendAgain shows the send confirmation, with p, the API's refusal of the
// send, when it is not nil: the checks say what to fix, and link to it.
func (a *App) sendAgain(w http.ResponseWriter, r *http.Request, s *signedIn, status int, p *Problem) {
	rel, err := a.release(r, s)
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d := &sendData{Rel: rel, Err: p}
	if err := a.call(r, s, "GET", v1Path(r, "/checks"), nil, &d.Checks); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	for _, c := range d.Checks {
		d.Errors = d.Errors || c.Level == dispatcher.CheckError
	}
	a.render(w, r, s, status, "send", language(w, r).T("send.title"), d)
}

// send is POST /app/releases/{id}/send; then the watch page. A send the
// checks refuse (no audience, no text, ...) shows the confirmation again,
// with the refusal and a link to the compose page.
func (a *App) send(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if err := a.call(r, s, "POST", v1Path(r, "/send"), map[string]any{}, nil); err != nil {
		if p, ok := err.(*Problem); ok && p.Status == http.StatusConflict {
			a.sendAgain(w, r, s, p.Status, p)
			return
		}
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, relPath(r, "/watch", "sent"), http.StatusSeeOther)
}

// watchRow is one channel's counts on the watch page.
type watchRow struct {
	Channel string
	Counts  map[string]float64
	Done    float64
	Total   float64
	Percent int
}

// watchData is the watch page's.
type watchData struct {
	Rel      *releaseView
	Rows     []watchRow
	Statuses []string
	Failures []*dispatcher.Delivery
	Final    bool
	Failed   bool
	Chart    *chartView // chart.go; nil before anything was sent
}

// watchPage is GET /app/releases/{id}/watch: counts per channel and status,
// the failures with their reasons, and retry, cancel and correct. It is
// whole on every load; watch.js updates it live from the event stream.
func (a *App) watchPage(w http.ResponseWriter, r *http.Request, s *signedIn) {
	rel, err := a.release(r, s)
	if err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d := &watchData{Rel: rel, Statuses: []string{"queued", "sending", "retrying", "sent", "failed", "uncertain", "suppressed", "skipped", "cancelled"}}
	if bc, ok := rel.Counts["by_channel"].(map[string]any); ok {
		for _, ch := range []string{"email", "telegram"} {
			m, ok := bc[ch].(map[string]any)
			if !ok {
				continue
			}
			row := watchRow{Channel: ch, Counts: map[string]float64{}}
			for k, v := range m {
				if n, ok := v.(float64); ok {
					row.Counts[k] = n
				}
			}
			row.Total = row.Counts["total"]
			row.Done = row.Total - row.Counts["queued"] - row.Counts["sending"] - row.Counts["retrying"]
			if row.Total > 0 {
				row.Percent = int(row.Done * 100 / row.Total)
			}
			d.Rows = append(d.Rows, row)
		}
	}
	switch rel.Status {
	case dispatcher.ReleaseSent, dispatcher.ReleaseSentWithFailures, dispatcher.ReleaseCancelled:
		d.Final = true
	}
	var fails page[*dispatcher.Delivery]
	if err := a.call(r, s, "GET", v1Path(r, "/deliveries?status=failed&limit=100"), nil, &fails); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	d.Failures, d.Failed = fails.Items, len(fails.Items) > 0
	total, _ := rel.Counts["total"].(float64)
	if d.Chart, err = a.chart(r, s, rel, int(total)); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	a.render(w, r, s, http.StatusOK, "watch", language(w, r).T("watch.title"), d)
}

// events is GET /app/releases/{id}/events: the API's event stream of the
// release, for the person signed in (watch.js listens to it).
func (a *App) events(w http.ResponseWriter, r *http.Request, s *signedIn) {
	req := a.apiRequest(r, s, "GET", v1Path(r, "/events"), "", nil)
	req.Header.Set("Accept", "text/event-stream")
	w.Header().Set("X-Accel-Buffering", "no")
	a.cfg.API.ServeHTTP(w, req)
}

// retry is POST /app/releases/{id}/retry: the failed deliveries again.
func (a *App) retry(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if err := a.call(r, s, "POST", v1Path(r, "/retry"), nil, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, relPath(r, "/watch", "retried"), http.StatusSeeOther)
}

// cancel is POST /app/releases/{id}/cancel.
func (a *App) cancel(w http.ResponseWriter, r *http.Request, s *signedIn) {
	if err := a.call(r, s, "POST", v1Path(r, "/cancel"), nil, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, relPath(r, "", "cancelled"), http.StatusSeeOther)
}

// correct is POST /app/releases/{id}/corrections: a note, and a new body
// when one is given (a retraction when asked).
func (a *App) correct(w http.ResponseWriter, r *http.Request, s *signedIn) {
	in := map[string]any{"note": strings.TrimSpace(r.PostFormValue("note")), "retraction": r.PostFormValue("retraction") == "on"}
	if b := r.PostFormValue("body"); strings.TrimSpace(b) != "" {
		in["body"] = b
	}
	if err := a.call(r, s, "POST", v1Path(r, "/corrections"), in, nil); err != nil {
		a.failCall(w, r, s, err)
		return
	}
	http.Redirect(w, r, relPath(r, "/watch", "corrected"), http.StatusSeeOther)
}
