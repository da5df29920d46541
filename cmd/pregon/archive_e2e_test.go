package main

import (
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestCorrectionOfArchivedRelease: a sent release archived at once (through
// the CLI) still answers its deliveries, refuses retry with 409, and can be
// corrected: the correction reads the original deliveries from the
// archive, mails only those whose email was sent and edits the Telegram
// post in place (its message ids are in the archive).
func TestCorrectionOfArchivedRelease(t *testing.T) {
	s := startService(t)
	f := sentForCorrection(t, s, statementES, "@canal_archivo")
	before := s.tg.Messages("@canal_archivo")
	mailed := len(s.smtp.Messages())
	var live obj
	s.do(s.admin, "GET", "/v1/releases/"+f.id+"/deliveries", "", nil, &live)

	out, errb, code := s.cli([]string{"release", "archive", f.id})
	if code != 0 {
		t.Fatalf("release archive exited %d: %s", code, errb)
	}
	if !strings.Contains(out, "archived") {
		t.Fatalf("release archive printed %q", out)
	}
	var archived obj
	s.do(s.admin, "GET", "/v1/releases/"+f.id+"/deliveries", "", nil, &archived)
	if len(archived["items"].([]any)) != 4 {
		t.Fatalf("deliveries after archiving: %v", archived)
	}
	if diff := cmp.Diff(live, archived); diff != "" {
		t.Fatalf("deliveries after archiving (-live +archived):\n%s", diff)
	}
	var prob obj
	if code := s.post("/v1/releases/"+f.id+"/retry", nil, &prob); code != 409 {
		t.Fatalf("retry of an archived release: %d %v, want 409", code, prob)
	}

	corrected := strings.Replace(statementES, "Valle Alto", "Valle Alto (corregido)", -1)
	var c obj
	if code := s.post("/v1/releases/"+f.id+"/corrections", obj{"note": "El número de concesiones era tres.", "body": corrected}, &c); code != 202 {
		t.Fatalf("correction of an archived release: %d %v, want 202", code, c)
	}
	got := f.waitCorrection(t, c["id"].(string))
	if counts := got["counts"].(obj); counts["total"] != 3.0 || counts["sent"] != 3.0 {
		t.Errorf("correction counts = %v, want 2 emails and 1 post sent", counts)
	}
	mails := mailsAfter(t, s.smtp, mailed)
	if _, ok := mails["gone@example.org"]; ok || len(mails) != 2 {
		t.Errorf("the correction was mailed to %v, want ana@ and bob@ only", mails)
	}
	after := s.tg.Messages("@canal_archivo")
	for i, m := range after[:len(before)] {
		if m.Edits != 1 {
			t.Errorf("message %d: %d edits, want 1 (edited in place)", i+1, m.Edits)
		}
	}
}
