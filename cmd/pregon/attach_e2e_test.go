package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/internal/smtptest"
)

// TestEndToEndAttachments (issue 10 item 5): files attached with the CLI
// to a release reach each recipient by email, byte for byte, with their
// types: the PDF for everyone, the lead image inline (its Content-ID the
// one the HTML's cid: names) for the Spanish readers, a JPEG only for the
// English one. An executable named report.pdf is refused.
func TestEndToEndAttachments(t *testing.T) {
	s := startService(t, func(s *service) { s.env["PREGON_ATTACHMENT_MAX_BYTES"] = "1MB" })
	var list, rel obj
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list); code != 201 {
		t.Fatalf("create list: %d %v", code, list)
	}
	lid := list["id"].(string)
	contacts := []obj{{"email": "ana@example.org", "language": "es"}, {"email": "bob@example.net", "language": "en"}}
	if code := s.post("/v1/lists/"+lid+"/contacts", contacts, nil); code != 200 {
		t.Fatalf("import: %d", code)
	}
	if code := s.post("/v1/releases", obj{"title": "Dragado", "summary": "Las obras paran.", "body": statementES, "language": "es",
		"translations": []obj{{"language": "en", "title": "Dredging", "body": statementEN}},
		"audiences":    obj{"lists": []string{lid}}}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	id := rel["id"].(string)

	dir := t.TempDir()
	files := map[string][]byte{
		"informe.pdf": append([]byte("%PDF-1.7\n"), bytes.Repeat([]byte("datos \x00\x01\xfe"), 20000)...),
		"portada.png": append([]byte("\x89PNG\r\n\x1a\n"), bytes.Repeat([]byte{1, 2, 3, 255}, 5000)...),
		"photo.jpg":   append([]byte{0xFF, 0xD8, 0xFF, 0xE0}, bytes.Repeat([]byte{7, 8}, 4000)...),
		"report.pdf":  append([]byte("\x7fELF\x02\x01\x01"), bytes.Repeat([]byte{0}, 500)...),
	}
	for name, data := range files {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	coord := s.token("coordinator")
	cli := func(args ...string) (string, string, int) {
		var out, errb bytes.Buffer
		code := run(context.Background(), append(args, "--api-url", s.url, "--token", coord), &out, &errb, func(string) string { return "" })
		return out.String(), errb.String(), code
	}
	for _, args := range [][]string{
		{"release", "attach", id, filepath.Join(dir, "informe.pdf")},
		{"release", "attach", id, filepath.Join(dir, "portada.png"), "--role", "lead_image", "--language", "es"},
		{"release", "attach", id, filepath.Join(dir, "photo.jpg"), "--language", "en"},
	} {
		if out, errs, code := cli(args...); code != 0 || !strings.Contains(out, "release "+id+": version") {
			t.Fatalf("%v: exit %d\n%s%s", args, code, out, errs)
		}
	}
	if out, errs, code := cli("release", "attach", id, filepath.Join(dir, "report.pdf")); code == 0 || !strings.Contains(errs, "ELF executable") {
		t.Fatalf("a disguised executable: exit %d\n%s%s", code, out, errs)
	}
	if code := s.post("/v1/releases/"+id+"/send", nil, nil); code != 202 {
		t.Fatalf("send: %d", code)
	}
	if rel = s.waitFinal(id); rel["status"] != "sent" || rel["version"] != 4.0 {
		t.Fatalf("release: %v version %v", rel["status"], rel["version"])
	}
	sum := func(b []byte) string { s := sha256.Sum256(b); return hex.EncodeToString(s[:]) }
	want := map[string][]string{
		"ana@example.org": {"portada.png image/png inline", "informe.pdf application/pdf attachment"},
		"bob@example.net": {"informe.pdf application/pdf attachment", "photo.jpg image/jpeg attachment"},
	}
	for _, m := range s.smtp.WaitFor(t, 2, 30*time.Second) {
		leaves, _, err := smtptest.Parse(m.Data)
		if err != nil {
			t.Fatal(err)
		}
		var got []string
		var html []byte
		for _, p := range leaves {
			switch p.ContentType {
			case "text/html":
				html = p.Data
			case "text/plain":
			default:
				if sum(p.Data) != sum(files[p.Filename]) {
					t.Errorf("%s: %s arrived with sha256 %s, sent %s", m.To[0], p.Filename, sum(p.Data), sum(files[p.Filename]))
				}
				got = append(got, p.Filename+" "+p.ContentType+" "+p.Disposition)
				if p.Disposition == "inline" {
					cid := regexp.MustCompile(`src="cid:([^"]+)"`).FindSubmatch(html)
					if cid == nil || string(cid[1]) != p.ContentID {
						t.Errorf("%s: the HTML shows cid %q, the image is %q", m.To[0], cid, p.ContentID)
					}
				}
			}
		}
		if strings.Join(got, ", ") != strings.Join(want[m.To[0]], ", ") {
			t.Errorf("%s got %q, want %q", m.To[0], got, want[m.To[0]])
		}
		if m.To[0] == "bob@example.net" && bytes.Contains(html, []byte("cid:")) {
			t.Errorf("the English copy shows an image it does not carry")
		}
	}
}
