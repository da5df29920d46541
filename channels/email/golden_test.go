package email_test

import (
	"bytes"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/pregon/pregon/channels/email"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata")

// date is the Date of the messages the tests build.
var date = time.Date(2026, 3, 3, 9, 0, 0, 0, time.FixedZone("CST", -6*3600))

// TestGolden pins the exact bytes BuildMessage writes, with a fixed Date and
// MIME boundary. Refresh with: go test ./channels/email -run TestGolden -update
func TestGolden(t *testing.T) {
	msg, err := email.BuildMessage(from, statement("ana@example.org"), date)
	if err != nil {
		t.Fatal(err)
	}
	msg.SetBoundary("pregon-golden-boundary")
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	path := filepath.Join("testdata", "statement.eml")
	if *update {
		if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("message differs from %s (-want +got):\n%s", path, diff)
	}
}
