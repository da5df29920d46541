package main

import (
	"encoding/csv"
	"strings"
	"testing"
)

// TestDeliveriesCSVCLIEndToEnd: pregon release deliveries --csv prints
// every delivery of a sent release as the API's CSV, with the status
// filter; once the release is archived it prints the same file.
func TestDeliveriesCSVCLIEndToEnd(t *testing.T) {
	s := startService(t)
	f := sentForCorrection(t, s, "Tres concesiones mineras se otorgaron sin consulta.", "@canal_csv")
	cli := func(args ...string) string {
		t.Helper()
		out, errb, code := s.cli(args)
		if code != 0 {
			t.Fatalf("pregon %s exited %d: %s", strings.Join(args, " "), code, errb)
		}
		return out
	}
	rows := func(out string) map[string][]string {
		t.Helper()
		recs, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(out, "\uFEFF"))).ReadAll()
		if err != nil || len(recs) == 0 || recs[0][2] != "recipient" || recs[0][7] != "error" {
			t.Fatalf("not the deliveries CSV (%v):\n%s", err, out)
		}
		m := map[string][]string{}
		for _, r := range recs[1:] {
			m[r[2]] = r
		}
		return m
	}
	whole := cli("release", "deliveries", f.id, "--csv")
	all := rows(whole)
	if len(all) != 4 || all["'@canal_csv"] == nil {
		t.Fatalf("%d rows, want ana@, bob@, gone@ and the channel (its cell defused): %v", len(all), all)
	}
	if g := all["gone@example.org"]; g[5] != "failed" || !strings.Contains(g[7], "550") || g[11] != "hard" {
		t.Errorf("gone@'s row: %v, want failed with the 550 and a hard bounce", g)
	}
	if tg := all["'@canal_csv"]; tg[1] != "telegram" || tg[5] != "sent" || tg[8] != "1" {
		t.Errorf("the channel's row: %v, want sent as message 1", tg)
	}
	if failed := rows(cli("release", "deliveries", f.id, "--csv", "--status", "failed")); len(failed) != 1 || failed["gone@example.org"] == nil {
		t.Errorf("--status failed: %v, want gone@ alone", failed)
	}
	cli("release", "archive", f.id)
	if again := cli("release", "deliveries", f.id, "--csv"); again != whole {
		t.Errorf("the archived release's CSV differs:\n%s\nwas:\n%s", again, whole)
	}
	if _, errb, code := s.cli([]string{"release", "deliveries", f.id, "--csv", "--status", "nope"}); code == 0 || !strings.Contains(errb, "status") {
		t.Errorf("--status nope: exit %d, %s; want a failure naming status", code, errb)
	}
}
