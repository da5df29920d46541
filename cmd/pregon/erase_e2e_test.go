package main

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/emersion/go-smtp"
)

// Erasure on request (issue 14 item 5), end to end: a coordinator erases
// an address from the web app while a release is still trying to reach it.

// TestEraseEndToEnd: an address that greylists (451) keeps a release
// sending; a coordinator signed in to the web app presses "Erase…" on the
// list page, reads the confirmation page and confirms (forms checked for
// CSRF; a viewer may not). The retrying delivery becomes suppressed, the
// release ends, and the SMTP server never got a message for the address;
// a correction of an earlier release records its delivery suppressed and
// mails nothing to it; an import refuses the row; the admin's CLI says it
// is erased; its old unsubscribe link stores nothing; and no key of Redis
// holds the address in any form.
func TestEraseEndToEnd(t *testing.T) {
	s := startService(t, func(s *service) {
		s.env["PREGON_SECRET"] = "erase-end-to-end-secret-0123456789"
		s.env["PREGON_MAX_ATTEMPTS"] = "50" // the greylisted address keeps the release sending
	})
	const ana = "ana.borrar@example.org"
	var greylist atomic.Bool
	s.smtp.SetHandler(func(rcpt string, attempt int) *smtp.SMTPError {
		if rcpt == ana && greylist.Load() {
			return &smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 7, 1}, Message: "greylisted, try again"}
		}
		return nil
	})
	var list, rel obj
	s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &list)
	lid := list["id"].(string)
	if code := s.post("/v1/lists/"+lid+"/contacts", []obj{{"email": "Ana.Borrar@Example.org", "name": "Ana Borrar", "outlet": "El Diario"}, {"email": "bob@example.org"}}, nil); code != 200 {
		t.Fatalf("import: %d", code)
	}
	// A first release reaches both.
	var first obj
	if code := s.post("/v1/releases", obj{"title": "Primero", "body": "Texto.", "language": "es", "audiences": obj{"lists": []string{lid}}, "send": true}, &first); code != 201 {
		t.Fatalf("create release: %d %v", code, first)
	}
	if got := s.waitFinal(first["id"].(string)); got["status"] != "sent" {
		t.Fatalf("first release: %v", got)
	}
	// The second keeps trying ana.
	greylist.Store(true)
	if code := s.post("/v1/releases", obj{"title": "Aviso", "body": "Texto.", "language": "es", "audiences": obj{"lists": []string{lid}}, "send": true}, &rel); code != 201 {
		t.Fatalf("create release: %d %v", code, rel)
	}
	rid := rel["id"].(string)
	// Wait until bob has it and ana's delivery is retrying.
	deadline := time.Now().Add(60 * time.Second)
	for {
		var ds struct{ Items []obj }
		s.do(s.admin, "GET", "/v1/releases/"+rid+"/deliveries", "", nil, &ds)
		st := map[string]any{}
		for _, d := range ds.Items {
			st[d["recipient"].(string)] = d["status"]
		}
		if st["bob@example.org"] == "sent" && st[ana] == "retrying" {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("deliveries %v: want bob sent and ana retrying", st)
		}
		time.Sleep(50 * time.Millisecond)
	}

	// The web app: the coordinator finds ana and presses Erase.
	coordPW := s.user("lucia@coalicion.example", "Lucía", "coordinator")
	viewerPW := s.user("vero@coalicion.example", "", "viewer")
	b := s.browser()
	b.signIn("lucia@coalicion.example", coordPW)
	listPage := "/app/lists/" + lid
	p := b.get(listPage + "?q=borrar")
	if p.status != 200 || !strings.Contains(p.body, `action="/app/lists/`+lid+`/erase"`) || !strings.Contains(p.body, "Borrar…") {
		t.Fatalf("list page: %d, want an Erase button:\n%.3000s", p.status, p.body)
	}
	tok := csrfField.FindStringSubmatch(p.body)[1]
	confirm := b.do("POST", listPage+"/erase", url.Values{"csrf": {tok}, "email": {ana}})
	if confirm.status != 200 || !strings.Contains(confirm.body, "Sale de todas las listas") || !strings.Contains(confirm.body, `name="confirm" value="yes"`) ||
		!strings.Contains(confirm.body, ana) {
		t.Fatalf("confirmation page: %d:\n%.3000s", confirm.status, confirm.body)
	}
	v := s.browser()
	v.signIn("vero@coalicion.example", viewerPW)
	vtok := v.csrf("/app/lists")
	for name, try := range map[string]func() page{
		"no token": func() page { return b.do("POST", listPage+"/erase", url.Values{"email": {ana}, "confirm": {"yes"}}) },
		"a viewer": func() page {
			return v.do("POST", listPage+"/erase", url.Values{"csrf": {vtok}, "email": {ana}, "confirm": {"yes"}})
		},
		"bad token": func() page {
			return b.do("POST", listPage+"/erase", url.Values{"csrf": {vtok}, "email": {ana}, "confirm": {"yes"}})
		},
	} {
		if p := try(); p.status != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, p.status)
		}
	}
	var members struct{ Items []obj }
	s.do(s.admin, "GET", "/v1/lists/"+lid+"/contacts", "", nil, &members)
	if len(members.Items) != 2 {
		t.Fatalf("a refused form changed the list: %v", members.Items)
	}
	done := b.do("POST", listPage+"/erase", url.Values{"csrf": {tok}, "email": {ana}, "confirm": {"yes"}})
	if done.status != http.StatusSeeOther || done.location != listPage+"?done=erased" {
		t.Fatalf("confirmed erase: %d → %q:\n%.2000s", done.status, done.location, done.body)
	}
	if p := b.get(done.location); !strings.Contains(p.body, "Dirección borrada") || strings.Contains(p.body, ana) {
		t.Errorf("list page after the erasure: %d:\n%.3000s", p.status, p.body)
	}

	// The release ends: ana's delivery is suppressed, never sent.
	rel = s.waitFinal(rid)
	counts := rel["counts"].(obj)
	if counts["sent"] != 1.0 || counts["suppressed"] != 1.0 {
		t.Errorf("counts = %v, want 1 sent and 1 suppressed", counts)
	}
	got := map[string]int{}
	for _, m := range s.smtp.Messages() {
		got[strings.ToLower(m.To[0])]++
	}
	if got[ana] != 1 || got["bob@example.org"] != 2 {
		t.Errorf("messages per address %v, want ana's of the first release alone", got)
	}

	// The next release to reach ana, a correction of the first, records
	// her delivery suppressed and mails bob alone.
	greylist.Store(false)
	var corr obj
	if code := s.post("/v1/releases/"+first["id"].(string)+"/corrections", obj{"note": "Cifra corregida.", "body": "Texto corregido."}, &corr); code != 202 {
		t.Fatalf("correction: %d %v", code, corr)
	}
	cc := s.waitFinal(corr["id"].(string))["counts"].(obj)
	if cc["sent"] != 1.0 || cc["suppressed"] != 1.0 {
		t.Errorf("correction counts = %v, want bob sent and ana suppressed", cc)
	}
	got = map[string]int{}
	for _, m := range s.smtp.Messages() {
		got[strings.ToLower(m.To[0])]++
	}
	if got[ana] != 1 || got["bob@example.org"] != 3 {
		t.Errorf("messages per address after the correction %v, want nothing more for ana", got)
	}

	// An import refuses the row; the CLI (admin) says why it is not mailed.
	var rep obj
	code, _ := s.do(s.admin, "POST", "/v1/lists/"+lid+"/contacts", "text/csv", "email,name\ncarla@example.org,Carla\nANA.BORRAR@example.org,Ana\n", &rep)
	errs, _ := rep["errors"].([]any)
	if code != 200 || len(errs) != 1 || errs[0].(obj)["row"] != 3.0 || errs[0].(obj)["message"] != "erased on request" {
		t.Errorf("import after the erasure: %d %v", code, rep)
	}
	out, stderr, exit := s.cli([]string{"suppressions", "show", ana})
	if exit != 0 || !strings.Contains(out, "erased on request since") {
		t.Errorf("suppressions show: %d %q %q", exit, out, stderr)
	}
	out, _, _ = s.cli([]string{"suppressions", "list"})
	if strings.Contains(out, "erased") {
		t.Errorf("suppressions list shows the erasure: %q", out)
	}

	// The unsubscribe link of the email ana got before: clicked now, it
	// answers as usual and stores nothing.
	var link string
	for _, m := range s.smtp.Messages() {
		if strings.EqualFold(m.To[0], ana) {
			link = strings.Trim(parseEmail(t, m.Data).header.Get("List-Unsubscribe"), "<>")
		}
	}
	if !strings.HasPrefix(link, s.url+"/u/") {
		t.Fatalf("ana's List-Unsubscribe = %q", link)
	}
	resp, err := http.PostForm(link, url.Values{"List-Unsubscribe": {"One-Click"}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("unsubscribe after the erasure: %d", resp.StatusCode)
	}

	// Nothing in Redis names the address any more.
	assertRedisForgot(t, s, ana)
}

// assertRedisForgot scans every key of s's Redis, names and values, for
// email as written or lower-cased, and for its plain SHA-256.
func assertRedisForgot(t *testing.T, s *service, email string) {
	t.Helper()
	ctx := context.Background()
	c := s.redis.Client(t)
	sum := sha256.Sum256([]byte(strings.ToLower(email)))
	forms := []string{strings.ToLower(email), hex.EncodeToString(sum[:])}
	iter := c.Scan(ctx, 0, "*", 1000).Iterator()
	n := 0
	for iter.Next(ctx) {
		k := iter.Val()
		n++
		typ, err := c.Type(ctx, k).Result()
		if err != nil {
			t.Fatal(err)
		}
		var val any
		switch typ {
		case "string":
			val, err = c.Get(ctx, k).Result()
		case "hash":
			val, err = c.HGetAll(ctx, k).Result()
		case "zset":
			val, err = c.ZRange(ctx, k, 0, -1).Result()
		case "set":
			val, err = c.SMembers(ctx, k).Result()
		case "list":
			val, err = c.LRange(ctx, k, 0, -1).Result()
		case "stream":
			val, err = c.XRange(ctx, k, "-", "+").Result()
		}
		if err != nil {
			t.Fatal(err)
		}
		dump := strings.ToLower(k + " " + fmt.Sprint(val))
		for _, f := range forms {
			if strings.Contains(dump, f) {
				t.Errorf("key %s (%s) holds %q: %.300s", k, typ, f, dump)
			}
		}
	}
	if err := iter.Err(); err != nil {
		t.Fatal(err)
	}
	if n < 10 {
		t.Fatalf("scanned %d keys: the scan is wrong", n)
	}
}
