package main

import (
	"context"
	"encoding/hex"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/redis/go-redis/v9"
)

// TestEndToEndUnsubscribe follows a journalist's one-click unsubscribe
// through the running service: the email carries List-Unsubscribe and
// List-Unsubscribe-Post headers and the same link in its footer (text and
// HTML); the link's page asks to confirm; the one-click POST a mail client
// makes unsubscribes; the next release skips the address (suppressed) and
// still reaches the others. The secret that signs the links (made and kept
// in Redis, since PREGON_SECRET is not set) never shows in an email or an
// answer.
func TestEndToEndUnsubscribe(t *testing.T) {
	s := startService(t)
	var list obj
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list); code != 201 {
		t.Fatalf("create list: %d %v", code, list)
	}
	listID := list["id"].(string)
	var rep obj
	if code := s.post("/v1/lists/"+listID+"/contacts", []obj{
		{"email": "ana@example.org", "name": "Ana", "language": "es"},
		{"email": "bob@example.net", "name": "Bob", "language": "en"},
	}, &rep); code != 200 || rep["added"] != 2.0 {
		t.Fatalf("import: %d %v", code, rep)
	}
	send := func(title string) obj {
		t.Helper()
		var rel obj
		if code := s.post("/v1/releases", obj{"title": title, "body": "Cuerpo del comunicado.", "language": "es",
			"audiences": obj{"lists": []string{listID}}, "send": true}, &rel); code != 201 {
			t.Fatalf("create release: %d %v", code, rel)
		}
		return s.waitFinal(rel["id"].(string))
	}
	send("Primer comunicado")
	msgs := s.smtp.WaitFor(t, 2, 10*time.Second)

	opt, err := redis.ParseURL(s.env["PREGON_REDIS_URL"])
	if err != nil {
		t.Fatal(err)
	}
	rdb := redis.NewClient(opt)
	defer rdb.Close()
	secretHex, err := rdb.Get(context.Background(), "pregon:secret").Result()
	if err != nil || len(secretHex) != 64 {
		t.Fatalf("pregon:secret = %q, %v; want the shared secret", secretHex, err)
	}
	raw, _ := hex.DecodeString(secretHex)

	var link string
	for _, m := range msgs {
		if strings.Contains(string(m.Data), secretHex) || strings.Contains(string(m.Data), string(raw)) {
			t.Errorf("the email to %s holds the links secret", m.To)
		}
		if m.To[0] != "ana@example.org" {
			continue
		}
		e := parseEmail(t, m.Data)
		lu := e.header.Get("List-Unsubscribe")
		if !strings.HasPrefix(lu, "<"+s.url+"/u/") || !strings.HasSuffix(lu, ">") {
			t.Fatalf("List-Unsubscribe = %q", lu)
		}
		if got := e.header.Get("List-Unsubscribe-Post"); got != "List-Unsubscribe=One-Click" {
			t.Errorf("List-Unsubscribe-Post = %q", got)
		}
		link = strings.Trim(lu, "<>")
		e.text = strings.ReplaceAll(e.text, "\r\n", "\n")
		if !strings.Contains(e.text, "Para dejar de recibir estos comunicados:\n"+link+"\n") {
			t.Errorf("the text footer lacks the link %q:\n%q", link, e.text)
		}
		if !strings.Contains(e.html, `href="`+strings.ReplaceAll(link, "&", "&amp;")+`"`) {
			t.Errorf("the HTML footer lacks the link:\n%s", e.html)
		}
	}
	if link == "" {
		t.Fatal("no email to ana@example.org")
	}

	// The page a person opens asks to confirm and changes nothing.
	resp, err := http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "ana@example.org") || !strings.Contains(string(page), `<form method="post">`) {
		t.Fatalf("GET %s = %d:\n%s", link, resp.StatusCode, page)
	}
	// A mail client's one-click POST (RFC 8058) unsubscribes.
	resp, err = http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Baja confirmada") {
		t.Fatalf("POST %s = %d:\n%s", link, resp.StatusCode, page)
	}
	if strings.Contains(string(page), secretHex) {
		t.Error("the page holds the links secret")
	}

	// The next release skips Ana and reaches Bob.
	rel := send("Segundo comunicado")
	counts := rel["counts"].(obj)
	if counts["sent"] != 1.0 || counts["suppressed"] != 1.0 {
		t.Errorf("second release counts = %v, want 1 sent and 1 suppressed", counts)
	}
	var page2 struct {
		Items []obj `json:"items"`
	}
	s.do(s.admin, "GET", "/v1/releases/"+rel["id"].(string)+"/deliveries?status=suppressed", "", nil, &page2)
	if len(page2.Items) != 1 || page2.Items[0]["recipient"] != "ana@example.org" {
		t.Errorf("suppressed deliveries = %v, want ana@example.org", page2.Items)
	}
	if all := s.smtp.WaitFor(t, 3, 10*time.Second); len(all) != 3 || all[2].To[0] != "bob@example.net" {
		t.Errorf("SMTP got %d messages; the third should be to bob@example.net", len(all))
	}
}
