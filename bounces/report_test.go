package bounces_test

import (
	"errors"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/pregon/pregon/bounces"
	"github.com/pregon/pregon/dispatcher"
)

func report(t *testing.T, name string, repl ...string) []byte {
	t.Helper()
	b, err := os.ReadFile("../bouncebox/testdata/" + name)
	if err != nil {
		t.Fatal(err)
	}
	return []byte(strings.NewReplacer(repl...).Replace(string(b)))
}

func TestParseReport(t *testing.T) {
	repl := []string{"{{ENVELOPE}}", "bounces+tok@example.org", "{{RCPT}}", "ana@diario.example", "{{MESSAGE_ID}}", "m1@example.org"}
	dsn, err := bounces.ParseReport(report(t, "dsn-hard.eml", repl...))
	if err != nil {
		t.Fatal(err)
	}
	if dsn.Kind != dispatcher.BounceHard || dsn.Source != "dsn" || dsn.Status != "5.1.1" || dsn.MessageID != "<m1@example.org>" ||
		!slices.Contains(dsn.Recipients, "ana@diario.example") || !slices.Contains(dsn.Envelope, "bounces+tok@example.org") {
		t.Errorf("DSN read as %+v", dsn)
	}
	soft, err := bounces.ParseReport(report(t, "dsn-hard.eml", append(repl, "Action: failed\nStatus: 5.1.1", "Action: delayed\nStatus: 4.2.2")...))
	if err != nil || soft.Kind != dispatcher.BounceSoft || soft.Status != "4.2.2" {
		t.Errorf("delayed DSN read as %+v, %v", soft, err)
	}
	// A policy rejection (5.7.1) says nothing of the address: soft, as at RCPT.
	policy, err := bounces.ParseReport(report(t, "dsn-hard.eml", append(repl, "Status: 5.1.1", "Status: 5.7.1")...))
	if err != nil || policy.Kind != dispatcher.BounceSoft || policy.Status != "5.7.1" {
		t.Errorf("a 5.7.1 DSN read as %+v, %v", policy, err)
	}
	arf, err := bounces.ParseReport(report(t, "arf-complaint.eml", repl...))
	if err != nil {
		t.Fatal(err)
	}
	if arf.Kind != dispatcher.BounceComplaint || arf.Source != "arf" || arf.MessageID != "<m1@example.org>" ||
		!slices.Contains(arf.Envelope, "bounces+tok@example.org") || !slices.Contains(arf.Recipients, "ana@diario.example") {
		t.Errorf("ARF read as %+v", arf)
	}
	notSpam, err := bounces.ParseReport(report(t, "arf-complaint.eml", append(repl, "Feedback-Type: abuse", "Feedback-Type: not-spam")...))
	if err != nil || notSpam.Kind != "" {
		t.Errorf("not-spam feedback read as %+v, %v", notSpam, err)
	}
	if _, err := bounces.ParseReport(report(t, "autoreply.eml", repl...)); !errors.Is(err, bounces.ErrNotReport) {
		t.Errorf("an auto-reply: %v, want ErrNotReport", err)
	}
}

func FuzzParseReport(f *testing.F) {
	for _, n := range []string{"dsn-hard.eml", "arf-complaint.eml", "autoreply.eml"} {
		b, err := os.ReadFile("../bouncebox/testdata/" + n)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		r, err := bounces.ParseReport(b)
		if (err == nil) == (r == nil) {
			t.Fatalf("ParseReport = %v, %v", r, err)
		}
	})
}
