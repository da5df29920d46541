package main

import (
	"bytes"
	"encoding/json"
	"io"
	"mime/multipart"
	"net/http"
	"net/url"
	"os"
	"strings"
	"testing"
)

// multipart posts a form with a file, as a browser without JavaScript
// sends the compose form.
func (b *browser) multipart(path string, form url.Values, filename string, data []byte) page {
	b.s.t.Helper()
	var body bytes.Buffer
	mw := multipart.NewWriter(&body)
	for k, vs := range form {
		for _, v := range vs {
			mw.WriteField(k, v)
		}
	}
	if filename != "" {
		w, _ := mw.CreateFormFile("file", filename)
		w.Write(data)
	}
	mw.Close()
	req, err := http.NewRequest("POST", b.s.url+path, &body)
	if err != nil {
		b.s.t.Fatal(err)
	}
	req.Header.Set("Content-Type", mw.FormDataContentType())
	req.Header.Set("Accept-Language", "es-MX,es;q=0.9")
	resp, err := b.c.Do(req)
	if err != nil {
		b.s.t.Fatalf("POST %s: %v", path, err)
	}
	defer resp.Body.Close()
	out, _ := io.ReadAll(resp.Body)
	return page{status: resp.StatusCode, location: resp.Header.Get("Location"), body: string(out)}
}

// TestWebAppComposeHTTP uses the compose page without JavaScript, and its
// endpoints for compose.js, over HTTP: one form saves the draft and uploads
// a file, lists it and removes it; the Preview button renders the Markdown
// and saves nothing; the audiences show what each adds; an autosave of an
// old version is refused (409) and overwrites nothing; every POST needs the
// session's CSRF token, and a viewer may use none of it.
func TestWebAppComposeHTTP(t *testing.T) {
	s := startService(t)
	pw := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	viewerPW := s.user("vero@coalicion.example", "", "viewer")
	f := newComposeFixture(t, s)
	pdf, _ := composeFiles(t)
	pdfData, err := os.ReadFile(pdf)
	if err != nil {
		t.Fatal(err)
	}
	b := s.browser()
	b.signIn("ana@coalicion.example", pw)
	newPage := b.get("/app/releases/new")
	if newPage.status != 200 {
		t.Fatalf("new: %d\n%.2000s", newPage.status, newPage.body)
	}
	tok := csrfField.FindStringSubmatch(newPage.body)[1]
	form := url.Values{"csrf": {tok}, "language": {"es"}, "title": {"Comunicado con anexo"}, "body": {"Texto con **negritas**."},
		"timezone": {"America/Mexico_City"}, "lists": {f.press, f.subs}, "channels": {f.channel}, "followers": {"on"},
		"file_role": {"attachment"}, "action": {"upload"}}

	// Preview without JavaScript: rendered, nothing saved.
	prev := url.Values{}
	for k, v := range form {
		prev[k] = v
	}
	prev.Set("action", "preview")
	p := b.multipart("/app/releases", prev, "", nil)
	if p.status != 200 || !strings.Contains(p.body, "<strong>negritas</strong>") {
		t.Errorf("preview: %d, want the body rendered:\n%.3000s", p.status, p.body)
	}
	for _, want := range []string{"añade 2", "añade 1", "En total: 5 (correos"} {
		if !strings.Contains(p.body, want) {
			t.Errorf("the preview page does not say %q", want)
		}
	}
	var rels struct{ Items []obj }
	s.do(s.admin, "GET", "/v1/releases", "", nil, &rels)
	if len(rels.Items) != 0 {
		t.Fatalf("the preview saved a release: %v", rels.Items)
	}

	// CSRF: the upload without the token, or with another's, does nothing.
	other := s.browser()
	other.signIn("vero@coalicion.example", viewerPW)
	foreign := other.csrf("/app/releases")
	for name, csrf := range map[string]string{"no token": "", "another session's token": foreign} {
		bad := url.Values{}
		for k, v := range form {
			bad[k] = v
		}
		bad.Set("csrf", csrf)
		if p := b.multipart("/app/releases", bad, "informe.pdf", pdfData); p.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, p.status)
		}
	}
	s.do(s.admin, "GET", "/v1/releases", "", nil, &rels)
	if len(rels.Items) != 0 {
		t.Fatalf("a refused form saved a release: %v", rels.Items)
	}

	// Save and upload with one button.
	p = b.multipart("/app/releases", form, "informe.pdf", pdfData)
	if p.status != http.StatusSeeOther || !strings.HasSuffix(p.location, "/edit?done=uploaded#files") {
		t.Fatalf("save with a file: %d → %q\n%.3000s", p.status, p.location, p.body)
	}
	edit := strings.TrimSuffix(p.location, "?done=uploaded#files")
	rid := strings.TrimSuffix(strings.TrimPrefix(edit, "/app/releases/"), "/edit")
	var rel struct {
		Version     int
		Body        string
		Attachments []struct {
			ID, Filename, Role string
			ContentType        string `json:"content_type"`
		}
	}
	s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
	if len(rel.Attachments) != 1 || rel.Attachments[0].Filename != "informe.pdf" || rel.Attachments[0].ContentType != "application/pdf" {
		t.Fatalf("attachments %+v, want informe.pdf", rel.Attachments)
	}
	p = b.get(edit)
	if !strings.Contains(p.body, "informe.pdf") || !strings.Contains(p.body, "90 kB") || !strings.Contains(p.body, `value="`+rel.Attachments[0].ID+`"`) {
		t.Errorf("the edit page does not list the file:\n%.3000s", p.body)
	}

	// compose.js's endpoints: the live preview and the counts.
	p = b.do("POST", "/app/markdown", url.Values{"csrf": {tok}, "language": {"es"}, "title": {"T"}, "body": {"# Hola\n\nUn _sí_ [x](javascript:alert(1)) <script>alert(1)</script>"}})
	if p.status != 200 || !strings.Contains(p.body, "<em>sí</em>") || strings.Contains(p.body, "<script") || strings.Contains(p.body, "javascript:") {
		t.Errorf("markdown: %d %q", p.status, p.body)
	}
	p = b.get("/app/audiences/count?" + url.Values{"lists": {f.press, f.subs}, "followers": {"on"}}.Encode())
	var count struct{ Total, Emails, Followers, Suppressed, Duplicates int }
	if err := json.Unmarshal([]byte(p.body), &count); err != nil || p.status != 200 {
		t.Fatalf("count: %d %s", p.status, p.body)
	}
	if count.Total != 4 || count.Emails != 3 || count.Followers != 1 || count.Suppressed != 1 || count.Duplicates != 1 {
		t.Errorf("count %+v, want 4 in all: 3 emails (1 suppressed, 1 duplicate) and 1 follower", count)
	}

	// Autosave: the version the page holds, then an old one (refused).
	save := func(version int, body string) (int, obj) {
		f := url.Values{"csrf": {tok}, "version": {string(rune('0' + version))}, "language": {"es"}, "title": {"Comunicado con anexo"},
			"body": {body}, "timezone": {"America/Mexico_City"}, "lists": {f.press}}
		p := b.do("POST", "/app/releases/"+rid+"/autosave", f)
		var out obj
		json.Unmarshal([]byte(p.body), &out)
		return p.status, out
	}
	code, out := save(rel.Version, "Texto guardado solo.")
	if code != 200 || out["version"] != float64(rel.Version+1) {
		t.Fatalf("autosave: %d %v", code, out)
	}
	code, out = save(rel.Version, "Texto de otra pestaña.")
	if code != http.StatusConflict {
		t.Errorf("autosave of an old version: %d %v, want 409", code, out)
	}
	s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
	if rel.Body != "Texto guardado solo." {
		t.Errorf("body %q: the old version overwrote the new", rel.Body)
	}

	// Remove the file.
	rm := url.Values{"csrf": {tok}, "version": {string(rune('0' + rel.Version))}, "language": {"es"}, "title": {"Comunicado con anexo"},
		"body": {rel.Body}, "timezone": {"America/Mexico_City"}, "lists": {f.press}, "remove": {rel.Attachments[0].ID}}
	if p := b.multipart(edit, rm, "", nil); p.status != http.StatusSeeOther || !strings.Contains(p.location, "done=file_removed") {
		t.Fatalf("remove: %d → %q\n%.2000s", p.status, p.location, p.body)
	}
	s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
	if len(rel.Attachments) != 0 {
		t.Errorf("attachments after removing: %+v", rel.Attachments)
	}

	// CSRF on compose.js's endpoints; a viewer may use none of them.
	for _, path := range []string{"/app/releases/" + rid + "/autosave", "/app/releases/autosave", "/app/markdown"} {
		if p := b.do("POST", path, url.Values{"body": {"x"}}); p.status != http.StatusForbidden {
			t.Errorf("POST %s without the token: %d, want 403", path, p.status)
		}
		if p := other.do("POST", path, url.Values{"csrf": {foreign}, "body": {"x"}}); p.status != http.StatusForbidden {
			t.Errorf("POST %s as a viewer: %d, want 403", path, p.status)
		}
	}
	if p := other.get("/app/audiences/count"); p.status != http.StatusForbidden {
		t.Errorf("counts as a viewer: %d, want 403", p.status)
	}
	if p := other.get(edit); p.status != http.StatusForbidden {
		t.Errorf("the compose page as a viewer: %d, want 403", p.status)
	}
	s.do(s.admin, "GET", "/v1/releases/"+rid, "", nil, &rel)
	if rel.Body != "Texto guardado solo." {
		t.Errorf("body %q after the refused requests", rel.Body)
	}
}
