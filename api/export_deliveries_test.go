package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/dispatcher"
)

// formula is a delivery error that a spreadsheet would run as a formula.
const formula = `=HYPERLINK("http://evil.example/","clic")`

// csvRelease stores a sent release of three deliveries: ana's email sent,
// bob's failed with a formula-looking error and a hard bounce, and a
// Telegram post whose group became a supergroup after part 1.
func csvRelease(t *testing.T, a *redisAPI) string {
	t.Helper()
	ctx, st := context.Background(), a.store
	r := &dispatcher.Release{Title: "Informe", Body: "cuerpo", Language: "es"}
	if err := st.CreateRelease(ctx, r); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SetReleaseStatus(ctx, r.ID, dispatcher.ReleaseSending, dispatcher.ReleaseDraft); err != nil {
		t.Fatal(err)
	}
	d := func(ch dispatcher.ChannelKind, to, name string) *dispatcher.Delivery {
		return &dispatcher.Delivery{ID: dispatcher.DeliveryID(r.ID, ch, to), Channel: ch, Recipient: to, Name: name,
			Language: "es", Status: dispatcher.DeliveryQueued}
	}
	ds := []*dispatcher.Delivery{d(dispatcher.ChannelEmail, "ana@diario.example", "Ana"),
		d(dispatcher.ChannelEmail, "bob@diario.example", "+Bob"), d(dispatcher.ChannelTelegram, "-4301", "Grupo")}
	if _, err := st.CreateDeliveries(ctx, r.ID, ds); err != nil {
		t.Fatal(err)
	}
	if _, err := st.SnapshotDone(ctx, r.ID); err != nil {
		t.Fatal(err)
	}
	ids := []string{ds[0].ID, ds[1].ID, ds[2].ID}
	if c, _, err := st.ClaimDeliveries(ctx, r.ID, ids, time.Now().Add(-time.Hour)); err != nil || len(c) != len(ids) {
		t.Fatalf("claim: %d, %v", len(c), err)
	}
	outs := []dispatcher.Outcome{
		{ID: ids[0], Status: dispatcher.DeliverySent, MessageIDs: []string{"<a." + r.ID + "@prensa.example>"}},
		{ID: ids[1], Status: dispatcher.DeliveryFailed, Error: formula,
			Bounce: &dispatcher.Bounce{Kind: dispatcher.BounceHard, Source: "rcpt"}},
		{ID: ids[2], Status: dispatcher.DeliverySent, MessageIDs: []string{"1", "-1004301:1"}, Parts: 2},
	}
	if _, _, err := st.FinishAndClaim(ctx, r.ID, outs, nil, time.Time{}); err != nil {
		t.Fatal(err)
	}
	return r.ID
}

// getCSV fetches url over HTTP with token and returns the status, the
// Content-Type and the body.
func getCSV(t *testing.T, url, token string) (int, string, []byte) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Content-Type"), body
}

// rowsByRecipient parses a deliveries CSV into its rows by column name,
// keyed by recipient as written.
func rowsByRecipient(t *testing.T, body []byte) map[string]map[string]string {
	t.Helper()
	if !bytes.HasPrefix(body, []byte("\uFEFF")) {
		t.Fatalf("the CSV has no byte order mark: %.40q", body)
	}
	recs, err := csv.NewReader(bytes.NewReader(body[3:])).ReadAll()
	if err != nil {
		t.Fatalf("read the CSV: %v\n%s", err, body)
	}
	if diff := cmp.Diff(deliveryColumns, recs[0]); diff != "" {
		t.Fatalf("header (-want +got):\n%s", diff)
	}
	out := map[string]map[string]string{}
	for _, rec := range recs[1:] {
		row := map[string]string{}
		for i, c := range recs[0] {
			row[c] = rec[i]
		}
		out[row["recipient"]] = row
	}
	return out
}

// TestDeliveriesCSVOverHTTP: GET /v1/releases/{id}/deliveries?format=csv
// over HTTP, on a real Redis, gives one row a delivery with the filters of
// the JSON listing; a formula-looking error or name is defused with a
// leading quote; message ids are listed as recorded; an archived release
// gives the same file, read from its archive.
func TestDeliveriesCSVOverHTTP(t *testing.T) {
	a, _ := newAuditAPI(t)
	ts := httptest.NewServer(a.srv)
	t.Cleanup(ts.Close)
	rid := csvRelease(t, a)
	base := ts.URL + "/v1/releases/" + rid + "/deliveries?format=csv"

	if code, _, _ := getCSV(t, base, ""); code != http.StatusUnauthorized {
		t.Errorf("without a token: %d, want 401", code)
	}
	if code, _, body := getCSV(t, ts.URL+"/v1/releases/"+rid+"/deliveries?format=xml", viewerToken); code != http.StatusBadRequest || !strings.Contains(string(body), "format") {
		t.Errorf("format=xml: %d %s, want 400 naming format", code, body)
	}
	code, ctype, whole := getCSV(t, base, viewerToken)
	if code != http.StatusOK || ctype != "text/csv; charset=utf-8" {
		t.Fatalf("CSV: %d %s", code, ctype)
	}
	rows := rowsByRecipient(t, whole)
	if len(rows) != 3 {
		t.Fatalf("%d rows, want 3: %v", len(rows), rows)
	}
	bob := rows["bob@diario.example"]
	if bob["error"] != "'"+formula || bob["name"] != "'+Bob" || bob["status"] != "failed" ||
		bob["bounce_kind"] != "hard" || bob["bounce_source"] != "rcpt" || bob["message_ids"] != "" {
		t.Errorf("bob's row: %v, want the formula and the name defused, failed, a hard bounce", bob)
	}
	tg := rows["'-4301"] // a cell starting with "-" is defused too
	if tg == nil || tg["message_ids"] != "1 -1004301:1" || tg["channel"] != "telegram" || tg["status"] != "sent" || tg["attempts"] != "1" {
		t.Errorf("the Telegram row: %v, want sent with message ids \"1 -1004301:1\"", tg)
	}
	ana := rows["ana@diario.example"]
	if ana["bounce_kind"] != "" || ana["error"] != "" || !strings.HasPrefix(ana["message_ids"], "<a.") {
		t.Errorf("ana's row: %v", ana)
	}
	if _, err := time.Parse(time.RFC3339, ana["updated_at"]); err != nil {
		t.Errorf("ana's updated_at %q: %v", ana["updated_at"], err)
	}

	filtered := map[string]int{"&status=failed": 1, "&channel=telegram": 1, "&channel=email": 2, "&status=sent&channel=email": 1}
	for q, want := range filtered {
		if code, _, body := getCSV(t, base+q, viewerToken); code != http.StatusOK || len(rowsByRecipient(t, body)) != want {
			t.Errorf("CSV%s: %d with %d rows, want %d", q, code, len(rowsByRecipient(t, body)), want)
		}
	}

	a.must("POST", "/v1/releases/"+rid+"/archive", "", http.StatusOK, nil)
	if keys := a.store.Client().Keys(context.Background(), "pregon:{"+rid+"}:d*").Val(); len(keys) != 0 {
		t.Fatalf("live delivery keys left after archiving: %v", keys)
	}
	if _, _, after := getCSV(t, base, viewerToken); !bytes.Equal(after, whole) {
		t.Errorf("the archived release's CSV differs:\n%s\nwas:\n%s", after, whole)
	}
	for q, want := range filtered {
		if code, _, body := getCSV(t, base+q, viewerToken); code != http.StatusOK || len(rowsByRecipient(t, body)) != want {
			t.Errorf("archived CSV%s: %d with %d rows, want %d", q, code, len(rowsByRecipient(t, body)), want)
		}
	}
}
