package api

import (
	"bytes"
	"crypto/sha256"
	"embed"
	"encoding/base64"
	"errors"
	"html/template"
	"net/http"
	"strconv"
	"strings"
)

//go:embed pages/page.html.tmpl
var pagesFS embed.FS

// pageCSS is the only style of the public pages. It is allowed by its hash
// in the Content-Security-Policy, so that nothing else may style them.
const pageCSS = `body{margin:0;background:#f4f4f4;color:#222;font:17px/1.5 Georgia,'Times New Roman',serif}` +
	`main{max-width:560px;margin:48px auto;padding:24px 28px;background:#fff;border-radius:6px}` +
	`h1{font-size:24px;line-height:1.3;margin:0 0 16px}.email{font-family:Arial,Helvetica,sans-serif;font-weight:bold;word-break:break-all}` +
	`button{font:bold 17px Arial,Helvetica,sans-serif;padding:10px 20px;border:0;border-radius:4px;background:#0b57d0;color:#fff;cursor:pointer}` +
	// the subscribe form
	`label,legend{display:block;font:bold 15px Arial,Helvetica,sans-serif;margin:16px 0 6px}` +
	`input[type=email],input[type=text]{box-sizing:border-box;width:100%;font:17px Arial,Helvetica,sans-serif;padding:8px;border:1px solid #767676;border-radius:4px}` +
	`fieldset{border:0;margin:0 0 20px;padding:0}fieldset label{display:inline-block;font-weight:normal;margin:0 20px 0 0}` +
	`.error{color:#a50e0e;font-weight:bold}`

// pages renders the HTML pages people see: the unsubscribe page and its
// answers, in Spanish or English.
type pages struct {
	tmpl *template.Template
	csp  string
}

// pageData is what the page template shows; every field is plain text,
// escaped by html/template.
type pageData struct {
	Lang, Title string
	Paragraphs  []string
	Email       string // the address the page is about, or ""
	Button      string // the label of the confirmation button; "" for none
	// Hidden is the form field the button posts (zero: the one-click
	// unsubscribe's List-Unsubscribe=One-Click).
	Hidden hiddenField
	// Form, when set, is the subscribe form (subscribe.go), shown in place
	// of the button.
	Form *subscribeForm
	CSS  template.CSS
}

// hiddenField is a form field the page's button posts.
type hiddenField struct{ Name, Value string }

// subscribeForm is the public subscribe form: its labels, the values typed
// (shown again with Error when they were refused), and the language chosen.
type subscribeForm struct {
	Error                                    string
	EmailLabel, NameLabel, LangLabel, Button string
	Email, Name, Lang                        string
}

func newPages() (*pages, error) {
	t, err := template.ParseFS(pagesFS, "pages/page.html.tmpl")
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256([]byte(pageCSS))
	return &pages{tmpl: t, csp: "default-src 'none'; style-src 'sha256-" + base64.StdEncoding.EncodeToString(sum[:]) +
		"'; form-action 'self'; frame-ancestors 'none'; base-uri 'none'"}, nil
}

// write sends a page with a status. Pages are never cached or framed, and
// send no Referer (their URL holds a token).
func (p *pages) write(w http.ResponseWriter, status int, d pageData) error {
	d.CSS = template.CSS(pageCSS)
	if d.Hidden.Name == "" {
		d.Hidden = hiddenField{"List-Unsubscribe", "One-Click"}
	}
	var buf bytes.Buffer
	if err := p.tmpl.Execute(&buf, d); err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/html; charset=utf-8")
	h.Set("Content-Security-Policy", p.csp)
	h.Set("X-Frame-Options", "DENY")
	w.WriteHeader(status)
	_, err := w.Write(buf.Bytes())
	return err
}

// text is one message of a page in both languages.
type text struct{ es, en string }

func (t text) in(lang string) string {
	if lang == "en" {
		return t.en
	}
	return t.es
}

// pageLanguage picks Spanish or English from Accept-Language: the one the
// browser ranks higher, Spanish when it names neither.
func pageLanguage(r *http.Request) string {
	best, bestQ := "es", -1.0
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		tag, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		base, _, _ := strings.Cut(strings.ToLower(strings.TrimSpace(tag)), "-")
		if base != "es" && base != "en" {
			continue
		}
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		if q > bestQ {
			best, bestQ = base, q
		}
	}
	return best
}

// Texts of the pages for failures.
var (
	textTooMany = [2]text{
		{"Demasiadas solicitudes", "Too many requests"},
		{"Se han recibido demasiadas solicitudes desde su conexión. Espere un minuto y vuelva a intentarlo.",
			"Too many requests came from your connection. Please wait a minute and try again."},
	}
	textServerError = [2]text{
		{"Algo salió mal", "Something went wrong"},
		{"No se pudo completar la solicitud. Vuelva a intentarlo en unos minutos.",
			"The request could not be completed. Please try again in a few minutes."},
	}
	textNotFound = [2]text{
		{"Página no encontrada", "Page not found"},
		{"Esta página no existe.", "This page does not exist."},
	}
)

// failPage is fail for the routes that answer pages: the same statuses and
// headers, with a page a person can read. The problem's detail, written for
// API clients, is not shown; a *pageError brings its own texts.
func (s *Server) failPage(w http.ResponseWriter, r *http.Request, err error) {
	if jsonAnswer(r) {
		s.fail(w, r, err)
		return
	}
	lang := pageLanguage(r)
	var pe *pageError
	var p *Problem
	status, texts := http.StatusInternalServerError, textServerError
	switch {
	case errors.As(err, &pe):
		status, texts = pe.status, pe.texts
	case errors.As(err, &p):
		status = p.Status
		switch p.Status {
		case http.StatusTooManyRequests:
			texts = textTooMany
			if p.retryAfter > 0 {
				w.Header().Set("Retry-After", strconv.Itoa(p.retryAfter))
			}
		case http.StatusNotFound:
			texts = textNotFound
		}
	case unavailable(err): // Redis cannot serve now: 503, come back soon
		status = http.StatusServiceUnavailable
		w.Header().Set("Retry-After", strconv.Itoa(retryAfterUnavailable))
	}
	if status >= 500 {
		if info := infoFrom(r.Context()); info.err == nil {
			info.err = err
		}
	}
	if werr := s.pages.write(w, status, pageData{Lang: lang, Title: texts[0].in(lang), Paragraphs: []string{texts[1].in(lang)}}); werr != nil {
		s.log.ErrorContext(r.Context(), "write page", "error", werr)
	}
}

// pageError is a failure of a public page, with what to tell the person.
type pageError struct {
	status int
	texts  [2]text // title, explanation
}

func (e *pageError) Error() string { return strconv.Itoa(e.status) + " " + e.texts[0].en }
