package main

import (
	"io"
	"net/http"
	"net/url"
	"regexp"
	"strings"
	"testing"
	"time"
)

// TestEndToEndDoubleOptIn follows two people who subscribe to a subscriber
// list through the running service: each gets a confirmation email from
// the SMTP channel, in the language chosen, with a link; opening the link
// (GET) shows a button and confirms nothing; pressing it (POST) confirms;
// a release to the list then reaches the confirmed subscriber and not the
// one still pending.
func TestEndToEndDoubleOptIn(t *testing.T) {
	s := startService(t)
	var list obj
	if code := s.post("/v1/lists", obj{"name": "Boletín de la Coalición", "kind": "subscribers"}, &list); code != 201 {
		t.Fatalf("create list: %d %v", code, list)
	}
	listID := list["id"].(string)

	// The form, as a browser posts it, and JSON, as a website's backend would.
	resp, err := http.PostForm(s.url+"/subscribe/"+listID, url.Values{"email": {"ana@example.org"}, "name": {"Ana Visítenos en spam.example"}, "language": {"es"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Revise su correo") {
		t.Fatalf("subscribe form = %d:\n%s", resp.StatusCode, page)
	}
	var ans obj
	if code, _ := s.do("", "POST", "/subscribe/"+listID, "application/json", obj{"email": "bob@example.net", "language": "en"}, &ans); code != 202 {
		t.Fatalf("subscribe JSON = %d %v", code, ans)
	}

	msgs := s.smtp.WaitFor(t, 2, 20*time.Second)
	linkRE := regexp.MustCompile(regexp.QuoteMeta(s.url) + `/confirm/[A-Za-z0-9_-]+(\?lang=en)?`)
	links := map[string]string{}
	for _, m := range msgs {
		e := parseEmail(t, m.Data)
		if strings.Contains(string(m.Data), "spam.example") || strings.Contains(e.text, "Visítenos") {
			t.Errorf("the email to %s holds the name typed in the form", m.To)
		}
		if to := e.header.Get("To"); to != m.To[0] && to != "<"+m.To[0]+">" {
			t.Errorf("To: %q, want the bare address %s", to, m.To[0])
		}
		links[m.To[0]] = linkRE.FindString(e.text)
		if links[m.To[0]] == "" || !strings.Contains(e.html, `href="`+links[m.To[0]]+`"`) ||
			strings.HasSuffix(links[m.To[0]], "?lang=en") != (m.To[0] == "bob@example.net") {
			t.Errorf("the email to %s has no confirmation link:\n%s\n%s", m.To[0], e.text, e.html)
		}
		want := map[string]string{"ana@example.org": "Confirme su suscripción: Boletín de la Coalición",
			"bob@example.net": "Confirm your subscription: Boletín de la Coalición"}[m.To[0]]
		if e.subject != want {
			t.Errorf("subject to %s = %q, want %q", m.To[0], e.subject, want)
		}
	}
	status := func() map[string]string {
		var p struct {
			Items []obj `json:"items"`
		}
		if code, _ := s.do(s.admin, "GET", "/v1/lists/"+listID+"/contacts", "", nil, &p); code != 200 {
			t.Fatalf("members: %d", code)
		}
		out := map[string]string{}
		for _, m := range p.Items {
			out[m["email"].(string)] = m["status"].(string)
		}
		return out
	}

	// Opening the link, as a person or a mail scanner does, confirms nothing.
	link := links["ana@example.org"]
	resp, err = http.Get(link)
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), `name="confirm" value="yes"`) {
		t.Fatalf("GET %s = %d:\n%s", link, resp.StatusCode, page)
	}
	if st := status(); st["ana@example.org"] != "pending" || st["bob@example.net"] != "pending" {
		t.Fatalf("after the GET: %v, want both pending", st)
	}
	// The button confirms.
	resp, err = http.PostForm(link, url.Values{"confirm": {"yes"}})
	if err != nil {
		t.Fatal(err)
	}
	page, _ = io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != 200 || !strings.Contains(string(page), "Suscripción confirmada") {
		t.Fatalf("POST %s = %d:\n%s", link, resp.StatusCode, page)
	}
	if st := status(); st["ana@example.org"] != "confirmed" || st["bob@example.net"] != "pending" {
		t.Fatalf("after the POST: %v, want Ana confirmed, Bob pending", st)
	}

	// A release to the list reaches Ana and not Bob.
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Primer comunicado", "body": "Cuerpo del comunicado.", "language": "es",
		"audiences": obj{"lists": []string{listID}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	rel = s.waitFinal(rel["id"].(string))
	if c := rel["counts"].(obj); c["total"] != 1.0 || c["sent"] != 1.0 {
		t.Errorf("release counts = %v, want 1 sent in all", c)
	}
	all := s.smtp.WaitFor(t, 3, 20*time.Second)
	if len(all) != 3 || all[2].To[0] != "ana@example.org" {
		t.Fatalf("SMTP got %d messages; the third should be the release to ana@example.org", len(all))
	}
	if e := parseEmail(t, all[2].Data); e.subject != "Primer comunicado" {
		t.Errorf("third message subject %q", e.subject)
	}
}
