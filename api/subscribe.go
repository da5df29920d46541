package api

// Double opt-in (issue 10): the public subscribe form of a subscriber list
// (GET and POST /subscribe/{list_id}) and the page of the link in the
// confirmation email (GET and POST /confirm/{token}: only the POST
// confirms, since mail scanners follow links with GET).

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/links"
	"github.com/pregon/pregon/queue"
)

// Subscriptions keeps the members who sign up through the subscribe form
// and their statuses. *store.Store implements it.
type Subscriptions interface {
	// Subscribe signs c.Email up to a list as a pending member, unless it
	// is a member already or suppressed, and says which;
	// dispatcher.ErrNotFound for an unknown list.
	Subscribe(ctx context.Context, listID string, c dispatcher.Contact) (dispatcher.SubscribeOutcome, error)
	// ConfirmMember confirms a pending member and reports whether it was
	// pending; dispatcher.ErrNotFound when email is not a member.
	ConfirmMember(ctx context.Context, listID, email string) (bool, error)
	// ListMembers returns a page of a list's members with their statuses,
	// only those in status unless it is ""; the page may be short, or
	// empty, before the last.
	ListMembers(ctx context.Context, listID string, status dispatcher.MemberStatus, cursor string, limit int) ([]dispatcher.ListMember, string, error)
	// TakeConfirmationMail counts a confirmation email to email and reports
	// whether it is within max in the window.
	TakeConfirmationMail(ctx context.Context, email string, max int, window time.Duration) (bool, error)
}

// ConfirmationQueue sends confirmation emails from the workers.
// *queue.Client implements it.
type ConfirmationQueue interface {
	EnqueueConfirmation(ctx context.Context, c queue.Confirmation) error
}

// Optin configures double opt-in (Config.Optin).
type Optin struct {
	Store Subscriptions
	Queue ConfirmationQueue
	// MaxMailsPerAddress is how many confirmation emails one address gets
	// in MailWindow at most, whatever the lists and clients asking
	// (0: DefaultMaxConfirmationMails, in DefaultConfirmationWindow).
	MaxMailsPerAddress int
	MailWindow         time.Duration
}

// Defaults of Optin.
const (
	DefaultMaxConfirmationMails = 3
	DefaultConfirmationWindow   = 24 * time.Hour
)

// maxSubscribeBody caps the body of POST /subscribe/{list_id}.
const maxSubscribeBody = 8 << 10

var (
	textSubscribe = [6]text{
		{"Suscribirse: %s", "Subscribe: %s"},
		{"Reciba en su correo los comunicados de esta lista. Le enviaremos un correo para confirmar la dirección; no recibirá nada hasta que confirme.",
			"Receive the statements of this list by email. We will send you an email to confirm the address; you will receive nothing until you confirm."},
		{"Correo electrónico", "Email address"},
		{"Nombre (opcional)", "Name (optional)"},
		{"Idioma de los comunicados", "Language of the statements"},
		{"Suscribirme", "Subscribe me"},
	}
	textSubscribed = [2]text{
		{"Revise su correo", "Check your email"},
		{"Si esta dirección puede suscribirse, le llegará en unos minutos un correo con un enlace para confirmar. El enlace caduca en 48 horas. Si no llega, revise la carpeta de correo no deseado.",
			"If this address can subscribe, an email with a link to confirm will arrive in a few minutes. The link expires in 48 hours. If it does not arrive, look in your spam folder."},
	}
	textBadEmail   = text{"Escriba una dirección de correo válida.", "Enter a valid email address."}
	textBadName    = text{"El nombre debe ser una sola línea de texto de hasta 200 caracteres.", "The name must be one line of text of at most 200 characters."}
	textConfirmAsk = [3]text{
		{"Confirme su suscripción", "Confirm your subscription"},
		{"Pulse el botón para recibir en esta dirección los comunicados de la lista:",
			"Press the button to receive the statements of this list at this address:"},
		{"Confirmar", "Confirm"},
	}
	textConfirmed = [2]text{
		{"Suscripción confirmada", "Subscription confirmed"},
		{"Gracias: recibirá los próximos comunicados en esta dirección. Cada correo lleva un enlace para darse de baja.",
			"Thank you: you will receive the next statements at this address. Every email has a link to unsubscribe."},
	}
	textConfirmInvalid = [2]text{
		{"Enlace no válido", "This link is not valid"},
		{"Este enlace de confirmación no es válido; quizá se copió incompleto. Abra el enlace tal como aparece en el correo.",
			"This confirmation link is not valid; perhaps it was copied incompletely. Open the link exactly as it appears in the email."},
	}
	textConfirmExpired = [2]text{
		{"Enlace caducado", "This link has expired"},
		{"Este enlace de confirmación ha caducado. Vuelva a suscribirse para recibir uno nuevo.",
			"This confirmation link has expired. Subscribe again to receive a new one."},
	}
	textConfirmGone = [2]text{
		{"Suscripción no disponible", "Subscription not available"},
		{"Esta suscripción ya no se puede confirmar. Vuelva a suscribirse si desea recibir los comunicados.",
			"This subscription can no longer be confirmed. Subscribe again if you want to receive the statements."},
	}
	textConfirmMissing = [2]text{
		{"Falta la confirmación", "Not confirmed"},
		{"La suscripción no se confirmó: abra el enlace del correo y pulse el botón de la página.",
			"The subscription was not confirmed: open the link in the email and press the button on the page."},
	}
)

// subscriberList returns the list of the request's path when it is a
// subscriber list, and a 404 otherwise (or when double opt-in is off): a
// press list has no public form.
func (s *Server) subscriberList(r *http.Request) (*dispatcher.List, error) {
	notFound := &Problem{Status: http.StatusNotFound, Detail: "There is no subscribe form here."}
	if s.optin == nil {
		return nil, notFound
	}
	l, err := s.store.List(r.Context(), r.PathValue("list_id"))
	if errors.Is(err, dispatcher.ErrNotFound) || err == nil && l.Kind != dispatcher.ListSubscribers {
		return nil, notFound
	}
	return l, err
}

// optinLanguage is the language of a double opt-in page: ?lang=es|en, else
// the browser's (see pageLanguage).
func optinLanguage(r *http.Request) string {
	if l := r.URL.Query().Get("lang"); l == "es" || l == "en" {
		return l
	}
	return pageLanguage(r)
}

// subscribeFormPage handles GET /subscribe/{list_id}: the form.
func (s *Server) subscribeFormPage(w http.ResponseWriter, r *http.Request) error {
	l, err := s.subscriberList(r)
	if err != nil {
		return err
	}
	lang := optinLanguage(r)
	return s.pages.write(w, http.StatusOK, s.subscribePageData(l, lang, subscribeInput{Language: lang}, ""))
}

func (s *Server) subscribePageData(l *dispatcher.List, lang string, in subscribeInput, problem string) pageData {
	d := pageData{Lang: lang, Title: strings.Replace(textSubscribe[0].in(lang), "%s", l.Name, 1),
		Paragraphs: []string{textSubscribe[1].in(lang)}}
	if l.Description != "" {
		d.Paragraphs = append([]string{l.Description}, d.Paragraphs...)
	}
	d.Form = &subscribeForm{Error: problem, EmailLabel: textSubscribe[2].in(lang), NameLabel: textSubscribe[3].in(lang),
		LangLabel: textSubscribe[4].in(lang), Button: textSubscribe[5].in(lang), Email: in.Email, Name: in.Name, Lang: in.Language}
	if d.Form.Lang != "en" {
		d.Form.Lang = "es"
	}
	return d
}

// subscribeInput is the body of POST /subscribe/{list_id}, as a form or
// JSON.
type subscribeInput struct {
	Email    string `json:"email"`
	Name     string `json:"name"`
	Language string `json:"language"`
}

// subscribeAnswer is the JSON answer to a sign-up: the same whatever the
// address's standing.
type subscribeAnswer struct {
	Status  string `json:"status"`
	Message string `json:"message"`
}

// subscribe handles POST /subscribe/{list_id}: a form (answered with a
// page) or JSON (answered with JSON, 202). The answer is the same whether
// the address is new, pending, confirmed or suppressed. A new or pending
// member is sent a confirmation email (from a queue task), at most
// MaxMailsPerAddress in MailWindow per address; a confirmed or suppressed
// one is sent nothing.
func (s *Server) subscribe(w http.ResponseWriter, r *http.Request) error {
	l, err := s.subscriberList(r)
	if err != nil {
		return err
	}
	asJSON := jsonAnswer(r)
	var in subscribeInput
	if asJSON {
		data, err := readBody(w, r, maxSubscribeBody)
		if err != nil {
			return err
		}
		if err := decodeJSON(data, &in); err != nil {
			return err
		}
	} else {
		data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSubscribeBody))
		if err != nil {
			return bodyError(err)
		}
		form, _ := url.ParseQuery(string(data))
		in = subscribeInput{Email: form.Get("email"), Name: form.Get("name"), Language: form.Get("language")}
	}
	lang := in.Language
	if lang != "en" && lang != "es" {
		lang = optinLanguage(r)
	}
	in.Name = strings.TrimSpace(in.Name)
	var fe fieldErrors
	email, eerr := dispatcher.NormalizeEmail(in.Email)
	if eerr != nil {
		fe.add("email", "invalid email")
	}
	checkLine(&fe, "name", in.Name, false, 200)
	if in.Language != "" && in.Language != "es" && in.Language != "en" {
		fe.add("language", `must be "es" or "en"`)
	}
	if err := fe.err(); err != nil {
		if asJSON {
			return err
		}
		msg := textBadEmail.in(lang)
		if eerr == nil {
			msg = textBadName.in(lang)
		}
		return s.pages.write(w, http.StatusBadRequest, s.subscribePageData(l, lang, in, msg))
	}
	if in.Language == "" {
		in.Language = lang
	}
	out, err := s.optin.Store.Subscribe(r.Context(), l.ID, dispatcher.Contact{Email: email, Name: in.Name, Language: in.Language})
	if err != nil {
		return err
	}
	if out.NeedsConfirmation() {
		if err := s.sendConfirmation(r, l.ID, email, in.Language); err != nil {
			return err
		}
	}
	if out == dispatcher.SubscribeAdded {
		if err := s.audit(r, audit.Entry{Action: audit.ContactSubscribe, Actor: "public", Target: l.ID,
			Detail: s.emailDetail(email)}); err != nil {
			return err
		}
	}
	if asJSON {
		return writeJSON(w, http.StatusAccepted, subscribeAnswer{Status: "accepted", Message: textSubscribed[1].in(lang)})
	}
	return s.pages.write(w, http.StatusOK, pageData{Lang: lang, Title: textSubscribed[0].in(lang),
		Paragraphs: []string{textSubscribed[1].in(lang)}})
}

// sendConfirmation enqueues a confirmation email, unless the address had
// its share in the window: then nothing is sent, and the answer does not
// change (it must not tell the client that the limit was reached).
func (s *Server) sendConfirmation(r *http.Request, listID, email, lang string) error {
	ok, err := s.optin.Store.TakeConfirmationMail(r.Context(), email, s.optin.MaxMailsPerAddress, s.optin.MailWindow)
	if err != nil {
		return err
	}
	if !ok {
		s.log.WarnContext(r.Context(), "confirmation email not sent: the address had its share today", "list_id", listID)
		return nil
	}
	return s.optin.Queue.EnqueueConfirmation(r.Context(), queue.Confirmation{ListID: listID, Email: email, Language: lang})
}

// confirmClaims checks the token of a confirmation link: 400 for one that
// is not ours, 410 for an expired one.
func (s *Server) confirmClaims(r *http.Request) (links.Claims, error) {
	if s.links == nil || s.optin == nil {
		return links.Claims{}, &Problem{Status: http.StatusNotFound}
	}
	c, err := s.links.Verify(r.PathValue("token"), links.PurposeConfirm)
	switch {
	case err == nil:
		return c, nil
	case errors.Is(err, links.ErrExpired):
		return links.Claims{}, &pageError{status: http.StatusGone, texts: textConfirmExpired}
	default:
		return links.Claims{}, &pageError{status: http.StatusBadRequest, texts: textConfirmInvalid}
	}
}

// confirmPage handles GET /confirm/{token}: a page with a button that
// posts to the same URL. It changes nothing.
func (s *Server) confirmPage(w http.ResponseWriter, r *http.Request) error {
	c, err := s.confirmClaims(r)
	if err != nil {
		return err
	}
	lang := optinLanguage(r)
	paras := []string{textConfirmAsk[1].in(lang)}
	if l, err := s.store.List(r.Context(), c.ReleaseID); err == nil {
		paras = append(paras, "«"+l.Name+"»")
	}
	return s.pages.write(w, http.StatusOK, pageData{Lang: lang, Title: textConfirmAsk[0].in(lang),
		Paragraphs: paras, Email: c.Email, Button: textConfirmAsk[2].in(lang), Hidden: hiddenField{"confirm", "yes"}})
}

// confirm handles POST /confirm/{token} with confirm=yes (the page's
// button): the member becomes confirmed, with the time, and an audit entry
// records it. Doing it twice is harmless.
func (s *Server) confirm(w http.ResponseWriter, r *http.Request) error {
	c, err := s.confirmClaims(r)
	if err != nil {
		return err
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxSubscribeBody))
	if err != nil {
		return bodyError(err)
	}
	if form, _ := url.ParseQuery(strings.TrimSpace(string(data))); form.Get("confirm") != "yes" {
		return &pageError{status: http.StatusBadRequest, texts: textConfirmMissing}
	}
	changed, err := s.optin.Store.ConfirmMember(r.Context(), c.ReleaseID, c.Email)
	if errors.Is(err, dispatcher.ErrNotFound) {
		return &pageError{status: http.StatusGone, texts: textConfirmGone}
	}
	if err != nil {
		return err
	}
	if changed {
		if err := s.audit(r, audit.Entry{Action: audit.ContactConfirm, Actor: "public", Target: c.ReleaseID,
			Detail: s.emailDetail(c.Email)}); err != nil {
			return err
		}
	}
	lang := optinLanguage(r)
	return s.pages.write(w, http.StatusOK, pageData{Lang: lang, Title: textConfirmed[0].in(lang),
		Paragraphs: []string{textConfirmed[1].in(lang)}, Email: c.Email})
}

// getMembers answers GET /v1/lists/{id}/contacts as JSON when double
// opt-in is on: members with their status and suppression, ?status=
// filtering them.
func (s *Server) getMembers(w http.ResponseWriter, r *http.Request, cursor string, limit int) error {
	st := dispatcher.MemberStatus(r.URL.Query().Get("status"))
	if st != "" && !st.Valid() {
		return invalid("Unknown status.", FieldError{Field: "status", Message: "must be pending, confirmed or unsubscribed"})
	}
	ms, next, err := s.optin.Store.ListMembers(r.Context(), r.PathValue("id"), st, cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(ms, next))
}

// subscribePost is the one page route that also serves API clients.
const subscribePost = "POST /subscribe/{list_id}"

// jsonAnswer reports whether a request to a page route is an API client's,
// answered in JSON (problem+json for errors) rather than with pages: a
// POST /subscribe with a JSON body.
func jsonAnswer(r *http.Request) bool {
	mt := mediaType(r)
	return r.Pattern == subscribePost && mt != "" && isJSON(mt)
}
