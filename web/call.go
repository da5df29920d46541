package web

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strconv"
	"strings"

	"github.com/pregon/pregon/api"
)

// Problem is the API's problem+json answer, shown to the person.
type Problem struct {
	Status int              `json:"status"`
	Title  string           `json:"title"`
	Detail string           `json:"detail"`
	Errors []api.FieldError `json:"errors"`
	// Code and Args say the detail as a code and its values
	// (api.ProblemCodes), when the API sends them.
	Code string         `json:"code,omitempty"`
	Args map[string]any `json:"args,omitempty"`
	// Original is the API's English detail, when localize said it anew.
	Original   string `json:"-"`
	Translated bool   `json:"-"`
	// FromAPI marks a problem the API answered (in English), which
	// localize says anew; the app's own are in the person's language.
	FromAPI bool `json:"-"`
}

func (p *Problem) Error() string { return fmt.Sprintf("%d %s", p.Status, p.Detail) }

// answer is the API's answer to an in-process request.
type answer struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (a *answer) Header() http.Header { return a.header }
func (a *answer) Write(b []byte) (int, error) {
	if a.status == 0 {
		a.status = http.StatusOK
	}
	return a.body.Write(b)
}
func (a *answer) WriteHeader(code int) {
	if a.status == 0 {
		a.status = code
	}
}

// apiRequest makes a request to the API for the person s, from the client
// that made r (the audit log records its address).
func (a *App) apiRequest(r *http.Request, s *signedIn, method, path, ctype string, body io.Reader) *http.Request {
	ctx := api.WithPerson(r.Context(), s.user.Actor(), s.user.Role)
	req, _ := http.NewRequestWithContext(ctx, method, path, body)
	req.RemoteAddr = r.RemoteAddr
	if v := r.Header.Values("X-Forwarded-For"); len(v) > 0 {
		req.Header["X-Forwarded-For"] = v
	}
	if ctype != "" {
		req.Header.Set("Content-Type", ctype)
	}
	req.Header.Set("Accept", "application/json")
	return req
}

// call makes an API request with a JSON body (in; nil: none) and decodes a
// success into out (nil: ignored). It returns a *Problem when the API
// refused.
func (a *App) call(r *http.Request, s *signedIn, method, path string, in, out any) error {
	var body io.Reader
	ctype := ""
	if in != nil {
		b, err := json.Marshal(in)
		if err != nil {
			return err
		}
		body, ctype = bytes.NewReader(b), "application/json"
	}
	return a.callRaw(r, s, method, path, ctype, body, out)
}

// callRaw is call with a body of any type.
func (a *App) callRaw(r *http.Request, s *signedIn, method, path, ctype string, body io.Reader, out any) error {
	ans := &answer{header: http.Header{}}
	a.cfg.API.ServeHTTP(ans, a.apiRequest(r, s, method, path, ctype, body))
	if ans.status == 0 {
		ans.status = http.StatusOK
	}
	if ans.status >= 400 {
		p := &Problem{}
		if err := json.Unmarshal(ans.body.Bytes(), p); err != nil || p.Status == 0 {
			p = &Problem{Status: ans.status, Detail: strings.TrimSpace(ans.body.String())}
		}
		p.FromAPI = true
		return p
	}
	if out != nil && ans.body.Len() > 0 {
		if err := json.Unmarshal(ans.body.Bytes(), out); err != nil {
			return fmt.Errorf("%s %s: decode the answer: %w", method, path, err)
		}
	}
	return nil
}

// failCall shows what went wrong with an API call: its problem, or a
// generic error (logged) for anything else.
func (a *App) failCall(w http.ResponseWriter, r *http.Request, s *signedIn, err error) {
	var p *Problem
	if pp, ok := err.(*Problem); ok {
		p = pp
	} else {
		a.log.ErrorContext(r.Context(), "web app", "path", r.URL.Path, "error", err)
		p = &Problem{Status: http.StatusInternalServerError, Detail: language(w, r).T("error.500")}
	}
	a.render(w, r, s, p.Status, "error", language(w, r).T("error.title"), p)
}

// parseInt reads a whole number.
func parseInt(s string, n *int) (int, error) {
	v, err := strconv.Atoi(strings.TrimSpace(s))
	*n = v
	return v, err
}
