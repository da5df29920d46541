package api

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"time"
	"unicode/utf8"

	"github.com/pregon/pregon/audit"
	"github.com/pregon/pregon/dispatcher"
)

// ImportResult is the answer to a contact upload: how many contacts joined
// the list, how many members were updated, how many rows repeated an email
// already seen in the upload, the rows that were refused, and the saved rows
// whose address is suppressed (kept on the list, never mailed).
type ImportResult struct {
	Added   int        `json:"added"`
	Updated int        `json:"updated"`
	Skipped int        `json:"skipped"`
	Errors  []RowError `json:"errors"`
	// ErrorsOmitted counts refused rows beyond the first maxRowErrors.
	ErrorsOmitted int `json:"errors_omitted,omitempty"`
	// Suppressed lists the saved rows whose address is suppressed.
	Suppressed []SuppressedRow `json:"suppressed"`
	// SuppressedOmitted counts suppressed rows beyond the first maxRowErrors.
	SuppressedOmitted int `json:"suppressed_omitted,omitempty"`
}

// RowError is a refused row. Row is the line a spreadsheet shows for a CSV
// upload (the header is line 1), the 1-based position in a JSON array.
// Message says why in English; Code and Args say it for a program (see
// NoteCodes), so that an interface can say it in its own language.
type RowError struct {
	Row     int            `json:"row"`
	Email   string         `json:"email"`
	Message string         `json:"message"`
	Code    string         `json:"code"`
	Args    map[string]any `json:"args,omitempty"`
}

// SuppressedRow is a saved row whose address will not be mailed, and why:
// "unsubscribed", "hard_bounce", "complaint", ...
type SuppressedRow struct {
	Row    int    `json:"row"`
	Email  string `json:"email"`
	Reason string `json:"reason"`
}

// importTimeout bounds the reading and writing of one import request, in
// place of the server's shorter timeouts: a 10 MiB upload of 800,000 rows
// takes seconds to save, more on a slow link or a busy Redis.
const importTimeout = 10 * time.Minute

// importContacts handles POST /v1/lists/{id}/contacts: a JSON array of
// contacts or a CSV file (Content-Type text/csv), at most s.maxUpload bytes.
// The body is read (at most s.maxUpload bytes) and checked whole first, so
// that a file that is refused as a whole saves nothing; then its rows are
// parsed and saved in batches of importBatchLen, never all held at once.
// A failure after some batches were saved answers a problem that says how
// far the import got (see importCut).
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
	// Network deadlines are wall-clock time, whatever clock the server uses.
	rc := http.NewResponseController(w)
	deadline := time.Now().Add(importTimeout)
	_ = rc.SetReadDeadline(deadline) // ErrNotSupported only outside a real server
	_ = rc.SetWriteDeadline(deadline)
	data, err := readBody(w, r, s.maxUpload)
	if err != nil {
		return err
	}
	parse := parseJSONContacts
	if isCSV {
		parse = parseCSV
	}
	if err := parse(r.Context(), data, newImporter(nil, listID)); err != nil {
		return err
	}
	im := newImporter(s.store, listID)
	err = parse(r.Context(), data, im)
	if err == nil {
		err = im.flush(r.Context())
	}
	if err != nil {
		return s.importCut(w, r, im, err)
	}
	if err := s.audit(r, importEntry(im, false)); err != nil {
		return err
	}
	return writeJSON(w, http.StatusOK, im.res)
}

// importEntry is the audit entry of an import: its counts, and for an
// import cut part way, the last row accounted for.
func importEntry(im *importer, cut bool) audit.Entry {
	d := map[string]any{"added": im.res.Added, "updated": im.res.Updated, "skipped": im.res.Skipped,
		"errors": len(im.res.Errors) + im.res.ErrorsOmitted, "suppressed": len(im.res.Suppressed) + im.res.SuppressedOmitted}
	if cut {
		d["cut"], d["saved_through_row"] = true, im.savedThrough
	}
	return audit.Entry{Action: audit.ContactsImport, Target: im.listID, Detail: d}
}

// cutProblem is the problem of an import that stopped after saving some
// batches: it carries the report of what was saved.
type cutProblem struct {
	Problem
	// SavedThroughRow is the last row accounted for in Import: rows up to it
	// were saved or reported, rows after it were not saved.
	SavedThroughRow int           `json:"saved_through_row"`
	Import          *ImportResult `json:"import"`
}

// importCut answers an import that failed while saving (Redis failed, or the
// client went away) with a problem that says how far it got, so that no
// saved row is reported as failed, and logs the same.
func (s *Server) importCut(w http.ResponseWriter, r *http.Request, im *importer, err error) error {
	s.log.ErrorContext(r.Context(), "contact import cut", "list_id", im.listID,
		"saved_through_row", im.savedThrough, "added", im.res.Added, "updated", im.res.Updated, "error", err)
	if im.savedThrough == 0 && im.res.Added+im.res.Updated == 0 {
		return err // nothing saved: the usual problem
	}
	// Some rows were saved: that is a change, recorded with how far it got.
	// A failure to record it is logged by s.audit; the answer stays this
	// problem, which already says what was saved.
	_ = s.audit(r, importEntry(im, true))
	info := infoFrom(r.Context())
	info.err = err
	why := "because the store failed"
	if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		why = "because the request was cancelled or took too long"
	}
	p := cutProblem{
		Problem: Problem{Type: ProblemImportCut, Title: "Import stopped part way", Status: http.StatusServiceUnavailable,
			Detail: fmt.Sprintf("The import stopped after row %d %s: rows up to row %d were saved "+
				"(%d added, %d updated; see import), rows after it were not. Send the rows after row %d again.",
				im.savedThrough, why, im.savedThrough, im.res.Added, im.res.Updated, im.savedThrough),
			Errors: []FieldError{}},
		SavedThroughRow: im.savedThrough,
		Import:          &im.res,
	}
	b, merr := json.Marshal(p)
	if merr != nil {
		return fmt.Errorf("encode import problem: %w", merr)
	}
	w.Header().Set("Content-Type", "application/problem+json")
	w.Header().Set("Retry-After", "5")
	w.WriteHeader(p.Status)
	w.Write(append(b, '\n'))
	return nil
}

// ProblemImportCut is the type of the 503 answer to a contact import that
// stopped part way: its saved_through_row and import members say what was
// saved.
const ProblemImportCut = "urn:pregon:problem:import-cut"

// parseJSONContacts reads a JSON array of contacts. Each element is decoded
// on its own, so that only one contact is held at a time; an element that is
// not a contact refuses the whole body (rows are 1-based positions).
func parseJSONContacts(ctx context.Context, data []byte, im *importer) error {
	if !utf8.Valid(data) {
		return invalid("The request body is not valid UTF-8.")
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return invalid("The request body is empty; send a JSON array of contacts.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	tok, err := dec.Token()
	if err != nil {
		return jsonStreamError(data, dec, err, 0)
	}
	if d, ok := tok.(json.Delim); !ok || d != '[' {
		return invalid(fmt.Sprintf("The body must be an array of contacts, not %s.", jsonTokenKind(tok)))
	}
	for row := 1; dec.More(); row++ {
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return jsonStreamError(data, dec, err, row)
		}
		var in dispatcher.Contact // as sent: contactOf checks it
		if err := decodeJSON(raw, &in); err != nil {
			if p, ok := err.(*Problem); ok {
				p.Detail = fmt.Sprintf("Contact %d: %s", row, p.Detail)
			}
			return err
		}
		if err := im.add(ctx, row, in); err != nil {
			return err
		}
	}
	if _, err := dec.Token(); err != nil { // the closing ]
		return jsonStreamError(data, dec, err, 0)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		off := dec.InputOffset()
		return invalid(fmt.Sprintf("Unexpected data after the JSON value at %s.", position(data, off)))
	}
	return nil
}

// jsonStreamError explains a failure to read the array of contacts at the
// decoder's place (in contact row, when it is not 0).
func jsonStreamError(data []byte, dec *json.Decoder, err error, row int) error {
	where := ""
	if row > 0 {
		where = fmt.Sprintf(" in contact %d", row)
	}
	var syntax *json.SyntaxError
	switch {
	case errors.As(err, &syntax):
		return invalid(fmt.Sprintf("Malformed JSON%s at %s: %s.", where, position(data, syntax.Offset-1), syntax.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid(fmt.Sprintf("The JSON ends too early%s, at %s: is it truncated?", where, position(data, int64(len(data)))))
	}
	return invalid(fmt.Sprintf("The body is not valid JSON%s at %s: %s.", where, position(data, dec.InputOffset()), err))
}

// jsonTokenKind names the kind of JSON value a token starts.
func jsonTokenKind(tok json.Token) string {
	switch t := tok.(type) {
	case json.Delim:
		if t == '{' {
			return "an object"
		}
	case string:
		return "a string"
	case float64, json.Number:
		return "a number"
	case bool:
		return "true or false"
	case nil:
		return "null"
	}
	return "that"
}

// getContacts handles GET /v1/lists/{id}/contacts?cursor=&limit=&status=,
// a page of members as JSON (with their status and suppression when double
// opt-in is on; see getMembers), and ?format=csv, the whole list as CSV
// (without pending members).
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
	if s.optin != nil || q.Has("status") {
		if s.optin == nil {
			return invalid("This server does not keep member statuses.", FieldError{Field: "status", Message: "is not supported here"})
		}
		return s.getMembers(w, r, cursor, limit)
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
	listID := r.PathValue("id")
	if err := s.store.RemoveContact(r.Context(), listID, email); err != nil {
		return err
	}
	// The log is never edited, so it keeps no address that an erasure
	// would have to remove: only a keyed hash of it.
	e := audit.Entry{Action: audit.ContactRemove, Target: listID}
	if s.emailHasher != nil {
		e.Detail = map[string]any{"email_hmac": s.emailHasher.HashEmail(email)}
	}
	if err := s.audit(r, e); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}
