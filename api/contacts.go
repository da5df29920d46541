package api

import (
	"net/http"
	"strings"
	"unicode/utf8"

	"github.com/pregon/pregon/dispatcher"
)

// ImportResult is the answer to a contact upload: how many contacts joined
// the list, how many members were updated, how many rows repeated an email
// already seen in the upload, and the rows that were refused.
type ImportResult struct {
	Added   int        `json:"added"`
	Updated int        `json:"updated"`
	Skipped int        `json:"skipped"`
	Errors  []RowError `json:"errors"`
	// ErrorsOmitted counts refused rows beyond the first maxRowErrors.
	ErrorsOmitted int `json:"errors_omitted,omitempty"`
}

// RowError is a refused row. Row is the line a spreadsheet shows for a CSV
// upload (the header is line 1), the 1-based position in a JSON array.
type RowError struct {
	Row     int    `json:"row"`
	Email   string `json:"email"`
	Message string `json:"message"`
}

const (
	maxRowErrors = 1000
	maxTextLen   = 200 // names and outlets
)

// contactInput is one contact of a JSON upload.
type contactInput struct {
	Email      string            `json:"email"`
	Name       string            `json:"name"`
	Outlet     string            `json:"outlet"`
	Language   string            `json:"language"`
	Tags       []string          `json:"tags"`
	Attributes map[string]string `json:"attributes"`
}

// importer validates uploaded rows and keeps the good ones.
type importer struct {
	seen     map[string]bool
	contacts []dispatcher.Contact
	res      ImportResult
}

func newImporter() *importer {
	return &importer{seen: map[string]bool{}, res: ImportResult{Errors: []RowError{}}}
}

func (im *importer) refuse(row int, email, msg string) {
	if len(im.res.Errors) >= maxRowErrors {
		im.res.ErrorsOmitted++
		return
	}
	im.res.Errors = append(im.res.Errors, RowError{Row: row, Email: email, Message: msg})
}

// add validates one row and keeps it unless its email was seen before.
func (im *importer) add(row int, in contactInput) {
	raw := strings.TrimSpace(in.Email)
	email, err := dispatcher.NormalizeEmail(raw)
	if err != nil {
		im.refuse(row, raw, "invalid email")
		return
	}
	c := dispatcher.Contact{
		Email:      email,
		Name:       oneLine(in.Name),
		Outlet:     oneLine(in.Outlet),
		Language:   strings.TrimSpace(in.Language),
		Tags:       cleanTags(in.Tags),
		Attributes: in.Attributes,
	}
	switch {
	case utf8.RuneCountInString(c.Name) > maxTextLen:
		im.refuse(row, raw, "name is longer than 200 characters")
		return
	case utf8.RuneCountInString(c.Outlet) > maxTextLen:
		im.refuse(row, raw, "outlet is longer than 200 characters")
		return
	case c.Language != "" && !validLanguage(c.Language):
		im.refuse(row, raw, "invalid language (use a code like es, en or pt-BR)")
		return
	}
	if im.seen[email] {
		im.res.Skipped++
		return
	}
	im.seen[email] = true
	im.contacts = append(im.contacts, c)
}

// cleanTags trims tags and drops empty and repeated ones.
func cleanTags(tags []string) []string {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = oneLine(t)
		if t == "" || seen[strings.ToLower(t)] {
			continue
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	return out
}

// importContacts handles POST /v1/lists/{id}/contacts: a JSON array of
// contacts or a CSV file (Content-Type text/csv), at most s.maxUpload bytes.
// Good rows are imported in one UpsertContacts call; bad ones are reported.
func (s *Server) importContacts(w http.ResponseWriter, r *http.Request) error {
	listID := r.PathValue("id")
	if _, err := s.store.List(r.Context(), listID); err != nil {
		return err
	}
	mt := mediaType(r)
	isCSV := mt == "text/csv" || mt == "application/csv"
	if !isCSV && !isJSON(mt) {
		return unsupported(mt, "application/json (an array of contacts) or text/csv")
	}
	data, err := readBody(w, r, s.maxUpload)
	if err != nil {
		return err
	}
	im := newImporter()
	if isCSV {
		err = parseCSV(data, im)
	} else {
		err = parseJSONContacts(data, im)
	}
	if err != nil {
		return err
	}
	if len(im.contacts) > 0 {
		im.res.Added, im.res.Updated, err = s.store.UpsertContacts(r.Context(), listID, im.contacts)
		if err != nil {
			return err
		}
	}
	return writeJSON(w, http.StatusOK, im.res)
}

func parseJSONContacts(data []byte, im *importer) error {
	if len(strings.TrimSpace(string(data))) == 0 {
		return invalid("The request body is empty; send a JSON array of contacts.")
	}
	var rows []contactInput
	if err := decodeJSON(data, &rows); err != nil {
		return err
	}
	for i, in := range rows {
		im.add(i+1, in)
	}
	return nil
}

// getContacts handles GET /v1/lists/{id}/contacts?cursor=&limit=, a page
// of members as JSON, and ?format=csv, the whole list as CSV.
func (s *Server) getContacts(w http.ResponseWriter, r *http.Request) error {
	var fe fieldErrors
	q := r.URL.Query()
	cursor, limit := pageParams(q, &fe)
	format := q.Get("format")
	if format != "" && format != "json" && format != "csv" {
		fe.add("format", "must be json or csv")
	}
	if err := fe.err(); err != nil {
		return err
	}
	if format == "csv" {
		return s.exportContacts(w, r)
	}
	cs, next, err := s.store.Contacts(r.Context(), r.PathValue("id"), cursor, limit)
	if err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, newPage(cs, next))
}

// removeContact handles DELETE /v1/lists/{id}/contacts/{email} → 204.
func (s *Server) removeContact(w http.ResponseWriter, r *http.Request) error {
	email, err := dispatcher.NormalizeEmail(r.PathValue("email"))
	if err != nil {
		return invalid("The path does not end in an email address.", FieldError{Field: "email", Message: "invalid email"})
	}
	if err := s.store.RemoveContact(r.Context(), r.PathValue("id"), email); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
