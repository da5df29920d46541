package api

import (
	"errors"
	"io"
	"mime"
	"mime/multipart"
	"net/http"
	"net/url"
	"strings"

	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/links"
)

// maxUnsubscribeBody caps the body of POST /u/{token}: RFC 8058 sends one
// short form field.
const maxUnsubscribeBody = 8 << 10

var (
	textConfirm = [3]text{
		{"¿Darse de baja?", "Unsubscribe?"},
		{"Esta dirección dejará de recibir los comunicados que se envían desde este servicio:",
			"This address will no longer receive the statements sent from this service:"},
		{"Darme de baja", "Unsubscribe me"},
	}
	textDone = [2]text{
		{"Baja confirmada", "You are unsubscribed"},
		{"Esta dirección no recibirá más comunicados de este servicio. Si fue un error, escriba a quien le enviaba los comunicados.",
			"This address will receive no more statements from this service. If this was a mistake, write to whoever sent you the statements."},
	}
	textInvalid = [2]text{
		{"Enlace no válido", "This link is not valid"},
		{"Este enlace de baja no es válido; quizá se copió incompleto. Abra el enlace tal como aparece en el correo, o responda al correo para pedir la baja.",
			"This unsubscribe link is not valid; perhaps it was copied incompletely. Open the link exactly as it appears in the email, or reply to the email to ask to be removed."},
	}
	textExpired = [2]text{
		{"Enlace caducado", "This link has expired"},
		{"Este enlace de baja ha caducado. Use el enlace de un correo más reciente, o responda al correo para pedir la baja.",
			"This unsubscribe link has expired. Use the link in a more recent email, or reply to the email to ask to be removed."},
	}
	textNotConfirmed = [2]text{
		{"Falta la confirmación", "Not confirmed"},
		{"La baja no se hizo: abra el enlace del correo y pulse el botón de la página.",
			"You were not unsubscribed: open the link in the email and press the button on the page."},
	}
)

// unsubscribeClaims checks the token in the path. A token that is not one
// of ours, forged, or for another purpose is a 400 page; an expired one 410.
// The pages say nothing about the address, so a token tells no one whether
// an address is on any list.
func (s *Server) unsubscribeClaims(r *http.Request) (links.Claims, error) {
	if s.links == nil {
		return links.Claims{}, &Problem{Status: http.StatusNotFound}
	}
	c, err := s.links.Verify(r.PathValue("token"), links.PurposeUnsubscribe)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, links.ErrExpired):
		return links.Claims{}, &pageError{status: http.StatusGone, texts: textExpired}
	default:
		return links.Claims{}, &pageError{status: http.StatusBadRequest, texts: textInvalid}
	}
}

// unsubscribePage handles GET /u/{token}: a page that asks to confirm, with
// a button that posts the one-click form to the same URL. A GET never
// unsubscribes, since mail scanners and link previews follow links.
func (s *Server) unsubscribePage(w http.ResponseWriter, r *http.Request) error {
	c, err := s.unsubscribeClaims(r)
	if err != nil {
		return err
	}
	lang := pageLanguage(r)
	return s.pages.write(w, http.StatusOK, pageData{Lang: lang, Title: textConfirm[0].in(lang),
		Paragraphs: []string{textConfirm[1].in(lang)}, Email: c.Email, Button: textConfirm[2].in(lang)})
}

// unsubscribe handles POST /u/{token}, the one-click unsubscribe of RFC 8058
// (a mail client posts "List-Unsubscribe=One-Click", as form data) and the
// page's button (the same field): the address is suppressed, so nothing is
// ever mailed to it again, and a confirmation page answers. Doing it twice
// is harmless.
func (s *Server) unsubscribe(w http.ResponseWriter, r *http.Request) error {
	c, err := s.unsubscribeClaims(r)
	if err != nil {
		return err
	}
	ok, err := oneClick(w, r)
	if err != nil {
		return err
	}
	if !ok {
		return &pageError{status: http.StatusBadRequest, texts: textNotConfirmed}
	}
	email, err := dispatcher.NormalizeEmail(c.Email)
	if err != nil { // a genuine token holds a normalised address
		return &pageError{status: http.StatusBadRequest, texts: textInvalid}
	}
	if err := s.store.Suppress(r.Context(), email, "unsubscribed"); err != nil {
		return err
	}
	s.log.InfoContext(r.Context(), "address unsubscribed", "release_id", c.ReleaseID)
	// An erased address (a link in an older email) is suppressed already,
	// and no webhook event may carry it anywhere again.
	if erased, err := s.isErased(r.Context(), email); err != nil {
		return err
	} else if !erased {
		s.notify(r.Context(), dispatcher.Event{ID: dispatcher.EventID(dispatcher.EventContactUnsubscribed, email),
			Type: dispatcher.EventContactUnsubscribed, Data: map[string]any{"email": email, "release_id": c.ReleaseID, "reason": "unsubscribed"}})
	}
	lang := pageLanguage(r)
	return s.pages.write(w, http.StatusOK, pageData{Lang: lang, Title: textDone[0].in(lang),
		Paragraphs: []string{textDone[1].in(lang)}, Email: email})
}

// oneClick reports whether the body of r holds List-Unsubscribe=One-Click,
// as multipart/form-data or URL-encoded (whatever the Content-Type says).
func oneClick(w http.ResponseWriter, r *http.Request) (bool, error) {
	body := http.MaxBytesReader(w, r.Body, maxUnsubscribeBody)
	mt, params, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	if mt == "multipart/form-data" && params["boundary"] != "" {
		mr := multipart.NewReader(body, params["boundary"])
		for {
			p, err := mr.NextPart()
			if err != nil {
				return false, bodyError(err)
			}
			if p.FormName() == "List-Unsubscribe" {
				v, err := io.ReadAll(io.LimitReader(p, 64))
				if err != nil {
					return false, bodyError(err)
				}
				return strings.TrimSpace(string(v)) == "One-Click", nil
			}
		}
	}
	data, err := io.ReadAll(body)
	if err != nil {
		return false, bodyError(err)
	}
	form, err := url.ParseQuery(strings.TrimSpace(string(data)))
	return err == nil && form.Get("List-Unsubscribe") == "One-Click", nil
}

// bodyError turns a failure to read a form into a page error: 413 for a
// body over the limit, 400 otherwise (including a form without the field).
func bodyError(err error) error {
	var tooBig *http.MaxBytesError
	if errors.As(err, &tooBig) {
		return &pageError{status: http.StatusRequestEntityTooLarge, texts: textNotConfirmed}
	}
	return &pageError{status: http.StatusBadRequest, texts: textNotConfirmed}
}
