package web

import (
	"cmp"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"

	"github.com/pregon/pregon/dispatcher"
)

// The watch page's chart: how many deliveries had been sent, and how many
// had failed, over the time of the sending, as two rising lines drawn by
// the server in inline SVG (it needs no script); watch.js adds a point to
// them at each "counts" event and redraws them with the same scales.

// chartMaxDeliveries is how many deliveries the chart reads at most; a
// larger release is drawn from the first ones and says so.
const chartMaxDeliveries = 5000

// Chart geometry, in SVG user units (it scales to the page's width).
const (
	chartW, chartH       = 640.0, 220.0
	chartLeft, chartTop  = 48.0, 12.0
	chartRight, chartBot = 12.0, 28.0
	chartMaxPoints       = 240 // points per line, at most
)

// chartPoint is the cumulative counts at a time (ms since the epoch).
type chartPoint struct {
	T      int64
	Sent   int
	Failed int
}

// chartView is what the template draws.
type chartView struct {
	W, H           float64
	Left, Top      float64
	PlotW, PlotH   float64
	Sent, Failed   string // polyline points
	Total          int
	Start, End     string // axis labels, UTC
	Capped         int    // deliveries read, when capped; 0 when all were
	SentN, FailedN int
	Span           int64  // ms from the first point to the last
	Data           string // JSON for watch.js: {"t0","total","pts":[[t,sent,failed],...]}
	Now            int64  // the server's time, ms
}

// done reports whether a delivery's status is final for the chart: sent,
// or failed (failed and uncertain).
func chartKind(st dispatcher.DeliveryStatus) (sent, failed bool) {
	switch st {
	case dispatcher.DeliverySent:
		return true, false
	case dispatcher.DeliveryFailed, dispatcher.DeliveryUncertain:
		return false, true
	}
	return false, false
}

// chart reads the release's deliveries (at most chartMaxDeliveries) and
// returns the chart of their sending; nil when nothing was sent or failed.
func (a *App) chart(r *http.Request, s *signedIn, rel *releaseView, total int) (*chartView, error) {
	type ev struct {
		t            int64
		sent, failed bool
	}
	var evs []ev
	var start time.Time
	cursor, read := "", 0
	for {
		var p page[*dispatcher.Delivery]
		q := url.Values{"limit": {"1000"}}
		if cursor != "" {
			q.Set("cursor", cursor)
		}
		if err := a.call(r, s, "GET", "/v1/releases/"+url.PathEscape(rel.ID)+"/deliveries?"+q.Encode(), nil, &p); err != nil {
			return nil, err
		}
		for _, d := range p.Items {
			if start.IsZero() || d.CreatedAt.Before(start) {
				start = d.CreatedAt
			}
			if sent, failed := chartKind(d.Status); sent || failed {
				evs = append(evs, ev{d.UpdatedAt.UnixMilli(), sent, failed})
			}
		}
		read += len(p.Items)
		cursor = p.NextCursor
		if cursor == "" || read >= chartMaxDeliveries {
			break
		}
	}
	if len(evs) == 0 {
		return nil, nil
	}
	slices.SortFunc(evs, func(x, y ev) int { return cmp.Compare(x.t, y.t) })
	pts := []chartPoint{{T: min(start.UnixMilli(), evs[0].t)}}
	var sent, failed int
	for _, e := range evs {
		if e.sent {
			sent++
		} else {
			failed++
		}
		pts = append(pts, chartPoint{T: e.t, Sent: sent, Failed: failed})
	}
	now := a.now().UnixMilli()
	c := &chartView{Now: now, SentN: sent, FailedN: failed, Total: max(total, sent+failed)}
	if cursor != "" {
		c.Capped = read
	}
	final := rel.Status == dispatcher.ReleaseSent || rel.Status == dispatcher.ReleaseSentWithFailures || rel.Status == dispatcher.ReleaseCancelled
	if !final && now > pts[len(pts)-1].T {
		pts = append(pts, chartPoint{T: now, Sent: sent, Failed: failed})
	}
	pts = thin(pts, chartMaxPoints)
	c.draw(pts)
	raw := make([][3]int64, len(pts))
	for i, p := range pts {
		raw[i] = [3]int64{p.T, int64(p.Sent), int64(p.Failed)}
	}
	b, _ := json.Marshal(map[string]any{"total": c.Total, "pts": raw})
	c.Data = string(b)
	return c, nil
}

// thin keeps at most n points: the first, the last, and the last of each
// of n-2 equal stretches of time between (the lines only rise, so the
// last point of a stretch keeps its height).
func thin(pts []chartPoint, n int) []chartPoint {
	if len(pts) <= n {
		return pts
	}
	t0, t1 := pts[0].T, pts[len(pts)-1].T
	out := []chartPoint{pts[0]}
	slot := float64(t1-t0) / float64(n-2)
	for i := 1; i < len(pts)-1; i++ {
		cur := int(float64(pts[i].T-t0) / slot)
		next := int(float64(pts[i+1].T-t0) / slot)
		if next != cur {
			out = append(out, pts[i])
		}
	}
	return append(out, pts[len(pts)-1])
}

// draw sets the lines' points and the axis labels from pts.
func (c *chartView) draw(pts []chartPoint) {
	c.W, c.H, c.Left, c.Top = chartW, chartH, chartLeft, chartTop
	c.PlotW, c.PlotH = chartW-chartLeft-chartRight, chartH-chartTop-chartBot
	t0, t1 := pts[0].T, pts[len(pts)-1].T
	span := max(t1-t0, 1)
	ymax := float64(max(c.Total, 1))
	var sent, failed strings.Builder
	y := func(v int) float64 { return c.Top + c.PlotH - float64(v)/ymax*c.PlotH }
	for i, p := range pts {
		x := c.Left + float64(p.T-t0)/float64(span)*c.PlotW
		if i > 0 { // a step: the count holds until the delivery that raised it
			fmt.Fprintf(&sent, "%.1f,%.1f ", x, y(pts[i-1].Sent))
			fmt.Fprintf(&failed, "%.1f,%.1f ", x, y(pts[i-1].Failed))
		}
		fmt.Fprintf(&sent, "%.1f,%.1f ", x, y(p.Sent))
		fmt.Fprintf(&failed, "%.1f,%.1f ", x, y(p.Failed))
	}
	c.Sent, c.Failed = strings.TrimSpace(sent.String()), strings.TrimSpace(failed.String())
	c.Start = time.UnixMilli(t0).UTC().Format("15:04:05")
	c.End = time.UnixMilli(t1).UTC().Format("15:04:05 UTC")
	c.Span = t1 - t0
}

// Duration says how long a span of ms took, in words: "1 segundo", "45
// seconds", "1 minuto y 30 segundos", "2 hours and 5 minutes". Seconds
// are rounded up (a sending of a moment took 1 second); an hour or more
// is said in hours and minutes.
func (l *Lang) Duration(ms int64) string {
	secs := max((ms+999)/1000, 1)
	type unit struct {
		n        int64
		es1, esN string
		en1, enN string
	}
	var parts []unit
	switch {
	case secs < 60:
		parts = []unit{{secs, "segundo", "segundos", "second", "seconds"}}
	case secs < 3600:
		parts = []unit{{secs / 60, "minuto", "minutos", "minute", "minutes"}, {secs % 60, "segundo", "segundos", "second", "seconds"}}
	default:
		parts = []unit{{secs / 3600, "hora", "horas", "hour", "hours"}, {secs % 3600 / 60, "minuto", "minutos", "minute", "minutes"}}
	}
	var words []string
	for i, u := range parts {
		if u.n == 0 && i > 0 {
			continue
		}
		w := u.esN
		switch {
		case l.Code == "en" && u.n == 1:
			w = u.en1
		case l.Code == "en":
			w = u.enN
		case u.n == 1:
			w = u.es1
		}
		words = append(words, l.Number(u.n)+" "+w)
	}
	return l.List(words, "")
}
