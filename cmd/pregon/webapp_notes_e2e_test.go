package main

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
)

// TestWebAppSaysChecksInItsLanguage: the pre-send checks and the import
// report's reasons come from the API in English with notes; the web app
// says them in the session's language (Spanish by the browser's
// Accept-Language, English once chosen), and lists the refused rows in
// file order, an erased address (refused as its batch is saved) in its
// place among the others.
func TestWebAppSaysChecksInItsLanguage(t *testing.T) {
	s := startService(t, func(s *service) { s.env["PREGON_SECRET"] = "notes-in-the-web-app-secret-0123456789" })
	pw := s.user("ana@coalicion.example", "Ana Torres", "coordinator")
	var l obj
	if code := s.post("/v1/lists", obj{"name": "Prensa", "kind": "press"}, &l); code != http.StatusCreated {
		t.Fatalf("create list: %d %v", code, l)
	}
	list := l["id"].(string)
	var rep obj
	if code := s.post("/v1/lists/"+list+"/contacts", []obj{{"email": "marta@diario.example"},
		{"email": "jean@journal.example", "language": "fr"}, {"email": "lupe@radio.example"}}, &rep); code != http.StatusOK {
		t.Fatalf("import: %d %v", code, rep)
	}
	var rel obj
	if code := s.post("/v1/releases", obj{"title": "Dragado", "body": "Las comunidades piden detener el dragado.", "language": "es",
		"audiences": obj{"lists": []string{list}}}, &rel); code != http.StatusCreated {
		t.Fatalf("create release: %d %v", code, rel)
	}
	relPage := "/app/releases/" + rel["id"].(string)
	if code := s.post("/v1/contacts/olga@diario.example/erase", obj{}, nil); code != http.StatusOK {
		t.Fatalf("erase: %d", code)
	}
	csv := []byte("email,name,language\n" +
		"pablo@diario.example,Pablo,es\n" + // 2
		"olga@diario.example,Olga,es\n" + // 3: erased
		"no-es-correo,Nadie,es\n" + // 4
		"rosa@diario.example,Rosa,español\n") // 5

	for _, tt := range []struct {
		lang   string
		checks []string
		rows   []string // rows 3, 4, 5
		not    string
	}{
		// The Spanish session's import adds Pablo: the English session
		// counts 4 addresses.
		{"es", []string{"El comunicado tiene su texto.", "No hay versión en «fr» (1 destinatario): recibirán el original, en «es».",
			"No hay embargo: todas las audiencias", "El comunicado llegará a 3 direcciones de correo.", "No hay archivos adjuntos."},
			[]string{"la persona pidió que se borraran sus datos", "la dirección de correo no es válida", "el idioma no es válido"},
			"will receive the release"},
		{"en", []string{"The release has its text.", "No version in fr (1 recipient): they will get the original, in es.",
			"No embargo: every audience", "4 email addresses will receive the release.", "No attachments."},
			[]string{"erased on request", "invalid email address", "invalid language"},
			"llegará"},
	} {
		b := s.browser()
		b.signIn("ana@coalicion.example", pw)
		if tt.lang == "en" {
			b.get("/app/releases?lang=en")
		}
		for _, page := range []string{relPage, relPage + "/send"} {
			p := b.get(page)
			if p.status != http.StatusOK {
				t.Fatalf("%s %s: %d", tt.lang, page, p.status)
			}
			for _, want := range tt.checks {
				if !strings.Contains(p.body, want) {
					t.Errorf("%s %s lacks %q", tt.lang, page, want)
				}
			}
			if strings.Contains(p.body, tt.not) {
				t.Errorf("%s %s says %q, in the other language", tt.lang, page, tt.not)
			}
		}

		tok := b.csrf("/app/lists/" + list)
		p := b.multipart("/app/lists/"+list+"/import", url.Values{"csrf": {tok}}, "contactos.csv", csv)
		if p.status != http.StatusOK {
			t.Fatalf("%s import: %d\n%.3000s", tt.lang, p.status, p.body)
		}
		at := -1
		for i, why := range tt.rows {
			cell := "<td>" + string(rune('3'+i)) + "</td>"
			j := strings.Index(p.body, cell)
			if j < 0 || j < at {
				t.Errorf("%s import report: row %s missing or out of file order\n%.3000s", tt.lang, cell, p.body)
				break
			}
			at = j
			if k := strings.Index(p.body[j:], "</tr>"); k < 0 || !strings.Contains(p.body[j:j+k], why) {
				t.Errorf("%s import report: row %s does not say %q\n%.3000s", tt.lang, cell, why, p.body[j:])
			}
		}
	}
}
