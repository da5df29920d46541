package api

import (
	"bytes"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/pregon/pregon/links"
)

// unsubscribePath returns the path of h's unsubscribe link for email.
func (h *harness) unsubscribePath(email string) string {
	h.t.Helper()
	u := h.links.UnsubscribeURL(email, "rel_1")
	path, ok := strings.CutPrefix(u, "https://prensa.example.org")
	if !ok {
		h.t.Fatalf("link %q", u)
	}
	return path
}

// page sends a request to a public page and checks that the answer is an
// HTML page with the status, safe headers and no unescaped markup from us.
func (h *harness) page(method, path, ctype, body string, header http.Header, status int) string {
	h.t.Helper()
	r := httptest.NewRequest(method, path, strings.NewReader(body))
	if ctype != "" {
		r.Header.Set("Content-Type", ctype)
	}
	for k, v := range header {
		r.Header[k] = v
	}
	w := h.serve(r)
	if w.Code != status {
		h.t.Fatalf("%s %s: status %d, want %d:\n%s", method, path, w.Code, status, w.Body)
	}
	checkPageHeaders(h.t, w)
	return w.Body.String()
}

func checkPageHeaders(t *testing.T, w *httptest.ResponseRecorder) {
	t.Helper()
	checkHeaders(t, w, map[string]string{
		"Content-Type":    "text/html; charset=utf-8",
		"Referrer-Policy": "no-referrer",
		"X-Frame-Options": "DENY",
	})
	csp := w.Header().Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'sha256-", "form-action 'self'", "frame-ancestors 'none'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy %q lacks %q", csp, want)
		}
	}
	if strings.Contains(csp, "unsafe") || strings.Contains(csp, "script-src") {
		t.Errorf("Content-Security-Policy %q allows too much", csp)
	}
}

func TestUnsubscribePage(t *testing.T) {
	h := newHarness(t)
	path := h.unsubscribePath("ana@example.org")
	body := h.page("GET", path, "", "", nil, http.StatusOK)
	for _, want := range []string{`<html lang="es">`, "¿Darse de baja?", "ana@example.org",
		`<form method="post">`, `<input type="hidden" name="List-Unsubscribe" value="One-Click">`, "Darme de baja"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q:\n%s", want, body)
		}
	}
	if strings.Contains(body, "action=") || strings.Contains(body, "<script") {
		t.Errorf("page has a form action or a script:\n%s", body)
	}
	en := h.page("GET", path, "", "", http.Header{"Accept-Language": {"de-DE, en-GB;q=0.8, es;q=0.5"}}, http.StatusOK)
	if !strings.Contains(en, `<html lang="en">`) || !strings.Contains(en, "Unsubscribe me") {
		t.Errorf("English page:\n%s", en)
	}
	if len(h.store.suppressed) != 0 || h.store.writes != 0 {
		t.Errorf("a GET suppressed %v", h.store.suppressed)
	}
	// The style the page has is the one its policy allows.
	style := regexp.MustCompile(`(?s)<style>(.*)</style>`).FindStringSubmatch(body)
	if style == nil || style[1] != pageCSS {
		t.Errorf("style %q is not pageCSS", style)
	}
}

func TestUnsubscribeOneClick(t *testing.T) {
	var mp bytes.Buffer
	mw := multipart.NewWriter(&mp)
	mw.WriteField("List-Unsubscribe", "One-Click")
	mw.Close()
	for _, c := range []struct{ name, ctype, body string }{
		{"RFC 8058, URL-encoded", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"},
		{"RFC 8058, multipart", mw.FormDataContentType(), mp.String()},
		{"the page's button", "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click"},
		{"no content type", "", "List-Unsubscribe=One-Click\r\n"},
	} {
		t.Run(c.name, func(t *testing.T) {
			h := newHarness(t)
			path := h.unsubscribePath("ana@example.org")
			for range 2 { // twice: the same answer
				body := h.page("POST", path, c.ctype, c.body, nil, http.StatusOK)
				if !strings.Contains(body, "Baja confirmada") || !strings.Contains(body, "ana@example.org") {
					t.Errorf("confirmation page:\n%s", body)
				}
			}
			if diff := cmp.Diff(map[string]string{"ana@example.org": "unsubscribed"}, h.store.suppressed); diff != "" {
				t.Errorf("suppressed (-want +got):\n%s", diff)
			}
			if logs := h.logs.String(); !strings.Contains(logs, `"msg":"address unsubscribed","release_id":"rel_1"`) || strings.Contains(logs, "ana@") {
				t.Errorf("log should name the release and not the address:\n%s", logs)
			}
		})
	}
}

// TestUnsubscribeSameAnswerForEveryone checks that the answer does not tell
// whether an address is on a list: only the address shown differs.
func TestUnsubscribeSameAnswerForEveryone(t *testing.T) {
	h := newHarness(t)
	id := h.newList("Prensa")
	h.upload(id, "text/csv", "email\nana@example.org\n")
	on := h.page("POST", h.unsubscribePath("ana@example.org"), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil, http.StatusOK)
	off := h.page("POST", h.unsubscribePath("eva@example.org"), "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil, http.StatusOK)
	if strings.ReplaceAll(on, "ana@", "eva@") != off {
		t.Errorf("answers differ:\n%s\n---\n%s", on, off)
	}
}

func TestUnsubscribeRefused(t *testing.T) {
	h := newHarness(t)
	good := h.unsubscribePath("ana@example.org")
	other, err := links.New([]byte("another-secret-0123456789"), "https://prensa.example.org", h.clock.Now, 0)
	if err != nil {
		t.Fatal(err)
	}
	forged := strings.TrimPrefix(other.UnsubscribeURL("ana@example.org", "rel_1"), "https://prensa.example.org")
	wrongPurpose := "/u/" + h.links.Sign(links.Claims{Purpose: "confirm", Email: "ana@example.org", Expires: t0.Add(time.Hour)})
	markup := "/u/" + h.links.Sign(links.Claims{Purpose: links.PurposeUnsubscribe, Email: `"><script>alert(1)</script>@example.org`, Expires: t0.Add(time.Hour)})
	lastChar := good[len(good)-1:]
	flipped := good[:len(good)-1] + map[bool]string{true: "B", false: "A"}[lastChar == "A"]
	for _, c := range []struct {
		name, path string
		status     int
		title      string
	}{
		{"garbage", "/u/not-a-token", 400, "Enlace no válido"},
		{"truncated", good[:len(good)-6], 400, "Enlace no válido"},
		{"one character changed", flipped, 400, "Enlace no válido"},
		{"signed with another secret", forged, 400, "Enlace no válido"},
		{"made for another purpose", wrongPurpose, 400, "Enlace no válido"},
		{"very long", "/u/" + strings.Repeat("A", 5000), 400, "Enlace no válido"},
	} {
		t.Run(c.name, func(t *testing.T) {
			for _, method := range []string{"GET", "POST"} {
				body := h.page(method, c.path, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil, c.status)
				if !strings.Contains(body, c.title) || strings.Contains(body, "ana@") || strings.Contains(body, "<form") {
					t.Errorf("%s page:\n%s", method, body)
				}
			}
		})
	}
	t.Run("markup in the address", func(t *testing.T) {
		body := h.page("GET", markup, "", "", nil, http.StatusOK)
		if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
			t.Errorf("the address is not escaped:\n%s", body)
		}
		h.page("POST", markup, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil, http.StatusBadRequest)
	})
	t.Run("no confirmation in the body", func(t *testing.T) {
		for _, body := range []string{"", "List-Unsubscribe=Yes", "x=1", "%zz"} {
			page := h.page("POST", good, "application/x-www-form-urlencoded", body, nil, http.StatusBadRequest)
			if !strings.Contains(page, "Falta la confirmación") {
				t.Errorf("body %q: page\n%s", body, page)
			}
		}
	})
	t.Run("body too large", func(t *testing.T) {
		h.page("POST", good, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click&x="+strings.Repeat("a", maxUnsubscribeBody), nil, http.StatusRequestEntityTooLarge)
	})
	t.Run("expired", func(t *testing.T) {
		h.clock.Add(links.DefaultTTL)
		for _, method := range []string{"GET", "POST"} {
			body := h.page(method, good, "application/x-www-form-urlencoded", "List-Unsubscribe=One-Click", nil, http.StatusGone)
			if !strings.Contains(body, "Enlace caducado") || strings.Contains(body, "ana@") {
				t.Errorf("%s page:\n%s", method, body)
			}
		}
	})
	if len(h.store.suppressed) != 0 || h.store.writes != 0 {
		t.Errorf("refused links suppressed %v", h.store.suppressed)
	}
}

func TestUnsubscribeWithoutLinks(t *testing.T) {
	h := newHarness(t, func(c *Config) { c.Links = nil })
	h.page("GET", "/u/anything", "", "", nil, http.StatusNotFound)
	h.page("POST", "/u/anything", "", "List-Unsubscribe=One-Click", nil, http.StatusNotFound)
}
