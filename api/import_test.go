package api

import (
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

// TestImportReportsSuppressed checks that a row whose address is suppressed
// is saved and listed in the report with the reason (issue 9, item 17).
func TestImportReportsSuppressed(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	h.store.suppressed["beto@example.org"] = "unsubscribed"
	h.store.suppressed["dora@example.org"] = "hard_bounce"
	got := h.upload(id, "text/csv", "email,name\nana@example.org,Ana\nBeto@Example.org,Beto\ncarla@example.org,Carla\ndora@example.org,Dora\n")
	want := ImportResult{Added: 4, Errors: []RowError{}, Suppressed: []SuppressedRow{
		{Row: 3, Email: "beto@example.org", Reason: "unsubscribed"},
		{Row: 5, Email: "dora@example.org", Reason: "hard_bounce"},
	}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	// Re-importing says the same, as updates.
	got = h.upload(id, "application/json", `[{"email":"beto@example.org"}]`)
	want = ImportResult{Updated: 1, Errors: []RowError{}, Suppressed: []SuppressedRow{{Row: 1, Email: "beto@example.org", Reason: "unsubscribed"}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("report of a re-import (-want +got):\n%s", diff)
	}
	// The field is always there, empty when no row is suppressed.
	w := h.do("POST", "/v1/lists/"+id+"/contacts", coordToken, "text/csv", "email\nana@example.org\n")
	if !strings.Contains(w.Body.String(), `"suppressed":[]`) {
		t.Errorf("report without suppressed rows = %s", w.Body)
	}
}

// csvRows returns a contact CSV of n distinct addresses.
func csvRows(n int) string {
	var b strings.Builder
	b.WriteString("email,name\n")
	for i := range n {
		fmt.Fprintf(&b, "c%06d@example.org,Contacto %d\n", i, i)
	}
	return b.String()
}

// TestImportBatches checks that a large upload reaches the store in batches
// of at most importBatchLen contacts, and that the report adds them up.
func TestImportBatches(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	const n = 2*importBatchLen + 345
	got := h.upload(id, "text/csv", csvRows(n)+"c000001@example.org,again\nnadie\n")
	want := ImportResult{Added: n, Skipped: 1, Errors: []RowError{{Row: n + 3, Email: "nadie", Message: "invalid email"}}}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty(), noNotes); diff != "" {
		t.Errorf("report (-want +got):\n%s", diff)
	}
	if h.store.importCalls != 3 || h.store.maxBatch > importBatchLen {
		t.Errorf("%d store calls, the largest of %d contacts; want 3 of at most %d", h.store.importCalls, h.store.maxBatch, importBatchLen)
	}
	if len(h.members(id)) != n {
		t.Errorf("%d members, want %d", len(h.members(id)), n)
	}
}

// TestImportCut checks that an import whose store fails part way answers a
// problem that reports what was saved, never a bare failure.
func TestImportCut(t *testing.T) {
	for _, c := range []struct {
		name, ctype string
		body        string
		savedRow    int // the last row saved: a line for CSV, a position for JSON
	}{
		{"csv", "text/csv", csvRows(2*importBatchLen + 10), importBatchLen + 1},
		{"json", "application/json", jsonRows(2*importBatchLen + 10), importBatchLen},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			id := h.newList("Prensa")
			h.store.importFailAt, h.store.importErr = 1, errors.New("redis: connection reset")
			w := h.do("POST", "/v1/lists/"+id+"/contacts", coordToken, c.ctype, c.body)
			if w.Code != http.StatusServiceUnavailable || w.Header().Get("Content-Type") != "application/problem+json" {
				t.Fatalf("status %d %s: %s", w.Code, w.Header().Get("Content-Type"), w.Body)
			}
			var p struct {
				Type, Detail    string
				SavedThroughRow int           `json:"saved_through_row"`
				Import          *ImportResult `json:"import"`
			}
			if err := json.Unmarshal(w.Body.Bytes(), &p); err != nil {
				t.Fatal(err)
			}
			if p.Type != ProblemImportCut || p.SavedThroughRow != c.savedRow || p.Import == nil || p.Import.Added != importBatchLen {
				t.Fatalf("problem %+v, import %+v; want saved through row %d with %d added", p, p.Import, c.savedRow, importBatchLen)
			}
			if want := fmt.Sprintf("rows up to row %d were saved", c.savedRow); !strings.Contains(p.Detail, want) {
				t.Errorf("detail %q lacks %q", p.Detail, want)
			}
			if got := len(h.members(id)); got != p.Import.Added {
				t.Errorf("%d members saved, %d reported", got, p.Import.Added)
			}
			if !strings.Contains(h.logs.String(), "contact import cut") {
				t.Errorf("the cut is not logged:\n%s", h.logs)
			}
		})
	}
	// A failure before anything was saved is the usual 500.
	h := newHarness(t)
	id := h.newList("Prensa")
	h.store.importFailAt, h.store.importErr = 0, errors.New("redis: connection refused")
	problemOf(t, h.do("POST", "/v1/lists/"+id+"/contacts", coordToken, "text/csv", csvRows(5)), http.StatusInternalServerError)
}

func jsonRows(n int) string {
	rows := make([]string, n)
	for i := range rows {
		rows[i] = fmt.Sprintf(`{"email":"c%06d@example.org"}`, i)
	}
	return "[" + strings.Join(rows, ",") + "]"
}

// TestImportLateErrorSavesNothing checks that an upload refused as a whole
// for a fault near its end (here an unclosed quote after 2,500 good rows)
// saves nothing: the body is checked before the first batch is written.
func TestImportLateErrorSavesNothing(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	for _, c := range []struct{ ctype, body string }{
		{"text/csv", csvRows(2500) + "zz@example.org,\"Zoe\nyy@example.org,Yara\n"},
		{"application/json", strings.TrimSuffix(jsonRows(2500), "]") + `,{"email":"zz@example.org","email":"x@example.org"}]`},
		{"application/json", strings.TrimSuffix(jsonRows(2500), "]") + `,{"email":"zz@example.org","tags":"a"}]`},
	} {
		problemOf(t, h.do("POST", "/v1/lists/"+id+"/contacts", coordToken, c.ctype, c.body), http.StatusBadRequest)
	}
	if h.store.importCalls != 0 || len(h.members(id)) != 0 {
		t.Errorf("a refused upload saved %d batches", h.store.importCalls)
	}
}

// TestImportOutlastsServerTimeouts checks that an import extends the
// server's read and write deadlines for itself, so that a max-size upload
// is not cut by the timeouts that bound other requests (NewHTTPServer's 30
// s to read a request, 60 s to answer). Here the server's timeouts are a
// nanosecond, so any request that does not extend them fails.
func TestImportOutlastsServerTimeouts(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: h.srv, ReadHeaderTimeout: 10 * time.Second, ReadTimeout: time.Nanosecond, WriteTimeout: time.Nanosecond}
	go srv.Serve(ln)
	t.Cleanup(func() { srv.Close() })

	const n = 5000 // ~150 KB: more than the server reads with the headers
	req, err := http.NewRequest("POST", "http://"+ln.Addr().String()+"/v1/lists/"+id+"/contacts", strings.NewReader(csvRows(n)))
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer "+coordToken)
	req.Header.Set("Content-Type", "text/csv")
	resp, err := (&http.Client{Timeout: time.Minute}).Do(req)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	defer resp.Body.Close()
	var got ImportResult
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil || resp.StatusCode != http.StatusOK || got.Added != n {
		t.Fatalf("import: status %d, report %+v, %v; want 200 with %d added", resp.StatusCode, got, err, n)
	}
}
