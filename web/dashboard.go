package web

import (
	"net/http"
	"net/url"
	"strconv"

	"github.com/pregon/pregon/dispatcher"
)

// The releases page opens with what needs a press officer now (issue 14):
// the sends in progress, the drafts that wait for a second coordinator's
// approval, and the latest release that had failures.

// dashLimit bounds each part of the dashboard.
const dashLimit = 5

// sendingView is a release being sent, with its progress.
type sendingView struct {
	*releaseView
	Done, Total int
	Percent     int
}

// dashboard is the top of the releases page; nil parts are left out.
type dashboard struct {
	Sending []sendingView
	// Approval: drafts whose current version nobody has approved yet
	// (only when PREGON_REQUIRE_APPROVAL is on).
	Approval []*releaseView
	// Failed is the newest release sent with failures, and how many.
	Failed      *releaseView
	FailedCount int
}

// Empty reports whether there is nothing to show.
func (d *dashboard) Empty() bool {
	return len(d.Sending) == 0 && len(d.Approval) == 0 && d.Failed == nil
}

// releasesData is the releases page's: a page of releases and, on the
// first page, the dashboard.
type releasesData struct {
	*page[releaseView]
	Dash *dashboard
}

// dashboard reads the releases by status for the top of the releases page.
func (a *App) dashboard(r *http.Request, s *signedIn) (*dashboard, error) {
	byStatus := func(st dispatcher.ReleaseStatus, limit int) ([]releaseView, error) {
		var p page[releaseView]
		q := url.Values{"status": {string(st)}, "limit": {strconv.Itoa(limit)}}
		err := a.call(r, s, "GET", "/v1/releases?"+q.Encode(), nil, &p)
		return p.Items, err
	}
	d := &dashboard{}
	sending, err := byStatus(dispatcher.ReleaseSending, dashLimit)
	if err != nil {
		return nil, err
	}
	for i := range sending {
		rel := &sending[i]
		total, _ := rel.Counts["total"].(float64)
		left := 0.0
		for _, st := range []string{"queued", "sending", "retrying"} {
			n, _ := rel.Counts[st].(float64)
			left += n
		}
		v := sendingView{releaseView: rel, Done: int(total - left), Total: int(total)}
		if v.Total > 0 {
			v.Percent = v.Done * 100 / v.Total
		}
		d.Sending = append(d.Sending, v)
	}
	if a.cfg.RequireApproval {
		drafts, err := byStatus(dispatcher.ReleaseDraft, 50)
		if err != nil {
			return nil, err
		}
		for i := range drafts {
			if rel := &drafts[i]; (rel.ApprovedBy == "" || rel.ApprovedVersion != rel.Version) && len(d.Approval) < dashLimit {
				d.Approval = append(d.Approval, rel)
			}
		}
	}
	failed, err := byStatus(dispatcher.ReleaseSentWithFailures, 1)
	if err != nil {
		return nil, err
	}
	if len(failed) > 0 {
		d.Failed = &failed[0]
		for _, st := range []string{"failed", "uncertain"} {
			n, _ := d.Failed.Counts[st].(float64)
			d.FailedCount += int(n)
		}
	}
	return d, nil
}
