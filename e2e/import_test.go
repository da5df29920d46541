package e2e

import (
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/client"
	"github.com/pregon/pregon/dispatcher"
)

// TestImportLargeCSV imports a large CSV through the HTTP API of a real
// `pregon api` on a real Redis (issue 9, item 3) and checks that it answers
// 200 with a report whose counts match what Redis holds: every good row
// saved once, the bad rows and the repeats reported by line, the suppressed
// rows listed with their reason. A max-size file (10 MiB, ~800,000 rows)
// is the bench's job (make bench IMPORT=1); this one keeps CI fast.
func TestImportLargeCSV(t *testing.T) {
	s := newStack(t)
	s.startAPI()
	rdb := s.redis.Client(t)
	ctx := t.Context()
	api := s.newAPI()
	l, err := api.CreateList(ctx, client.NewList{Name: "Prensa grande", Kind: dispatcher.ListPress})
	if err != nil {
		t.Fatal(err)
	}

	const n = 50_000
	suppressed := map[int]string{7: "unsubscribed", 25_000: "hard_bounce", 49_999: "complaint"}
	for i, reason := range suppressed {
		if err := rdb.HSet(ctx, "pregon:suppressed", addr(i), reason).Err(); err != nil {
			t.Fatal(err)
		}
	}
	var b strings.Builder
	b.WriteString("email,name,outlet,language,tags\n")
	line := 1
	wantErrors, wantSkipped := map[int]string{}, 0
	for i := range n {
		line++
		fmt.Fprintf(&b, "%s,Periodista %d,Diario %d,es,prensa;agua\n", addr(i), i, i%97)
		switch {
		case i%10_000 == 1234: // a bad address after it
			line++
			bad := fmt.Sprintf("mal-%d@-example.org", i)
			wantErrors[line] = bad
			fmt.Fprintf(&b, "%s,Mal,,,\n", bad)
		case i%10_000 == 4321: // a repeat, in another case
			line++
			wantSkipped++
			fmt.Fprintf(&b, "%s,Repetido,,,\n", strings.ToUpper(addr(i)))
		}
	}
	body := []byte(b.String())

	rep := importCSV(t, s, l.ID, body)
	if rep.Added != n || rep.Updated != 0 || rep.Skipped != wantSkipped || len(rep.Errors) != len(wantErrors) {
		t.Fatalf("report: added %d, updated %d, skipped %d, %d errors; want %d, 0, %d, %d",
			rep.Added, rep.Updated, rep.Skipped, len(rep.Errors), n, wantSkipped, len(wantErrors))
	}
	for _, e := range rep.Errors {
		if wantErrors[e.Row] != e.Email {
			t.Errorf("error row %d %q; want the bad rows %v", e.Row, e.Email, wantErrors)
		}
	}
	if len(rep.Suppressed) != len(suppressed) {
		t.Errorf("suppressed rows %+v; want %d", rep.Suppressed, len(suppressed))
	}
	for _, sr := range rep.Suppressed {
		var i int
		if _, err := fmt.Sscanf(sr.Email, "periodista%06d@prensa.example", &i); err != nil || suppressed[i] != sr.Reason {
			t.Errorf("suppressed row %+v; want one of %v", sr, suppressed)
		}
	}

	// What Redis holds matches the report.
	members := rdb.ZCard(ctx, "pregon:{"+l.ID+"}:members").Val()
	if members != int64(rep.Added) {
		t.Errorf("Redis holds %d members, the report says %d added", members, rep.Added)
	}
	for _, i := range []int{0, 1234, 25_000, n - 1} {
		h := rdb.HGetAll(ctx, "pregon:contact:"+addr(i)).Val()
		if h["name"] != fmt.Sprintf("Periodista %d", i) || h["language"] != "es" || h["tags"] != `["prensa","agua"]` {
			t.Errorf("contact %s in Redis: %v", addr(i), h)
		}
	}

	// The same file again: every row an update, Redis unchanged in size.
	rep = importCSV(t, s, l.ID, body)
	if rep.Added != 0 || rep.Updated != n || len(rep.Suppressed) != len(suppressed) {
		t.Errorf("second import: added %d, updated %d, %d suppressed; want 0, %d, %d", rep.Added, rep.Updated, len(rep.Suppressed), n, len(suppressed))
	}
	if got := rdb.ZCard(ctx, "pregon:{"+l.ID+"}:members").Val(); got != int64(n) {
		t.Errorf("after the second import Redis holds %d members, want %d", got, n)
	}
}

func addr(i int) string { return fmt.Sprintf("periodista%06d@prensa.example", i) }

// importCSV posts a CSV to a list and returns the report, failing the
// test on any other answer.
func importCSV(t *testing.T, s *stack, listID string, body []byte) *client.ImportReport {
	t.Helper()
	// A large upload may take a while on a loaded machine: a patient client.
	c, err := client.New(s.apiURL, s.token, client.WithHTTPClient(&http.Client{Timeout: 5 * time.Minute}))
	if err != nil {
		t.Fatal(err)
	}
	rep, err := c.ImportCSV(t.Context(), listID, body)
	if err != nil {
		t.Fatalf("import: %v", err)
	}
	return rep
}
