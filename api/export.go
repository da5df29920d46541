package api

import (
	"encoding/csv"
	"io"
	"net/http"
	"strings"
)

// exportPage is how many contacts an export reads from the store at a time.
const exportPage = 1000

// exportContacts streams a list's members as CSV (GET
// /v1/lists/{id}/contacts?format=csv), in the columns an import reads:
// email, name, outlet, language, tags (separated by ";"). The file starts
// with a UTF-8 byte order mark, so that spreadsheets read accents right, and
// every cell that a spreadsheet would take for a formula is defused (see
// csvCell). It reads the list a page at a time, so a large list is never
// held in memory. A store failure before the first byte is a problem
// response; after it, the connection is cut, so that a client never takes a
// partial file for a whole one.
func (s *Server) exportContacts(w http.ResponseWriter, r *http.Request) error {
	id := r.PathValue("id")
	cs, next, err := s.store.Contacts(r.Context(), id, "", exportPage)
	if err != nil {
		return err
	}
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", `attachment; filename="contacts-`+safeFileName(id)+`.csv"`)
	w.WriteHeader(http.StatusOK)
	io.WriteString(w, "\uFEFF")
	cw := csv.NewWriter(w)
	cw.Write(csvColumns)
	for {
		for _, c := range cs {
			cw.Write([]string{csvCell(c.Email), csvCell(c.Name), csvCell(c.Outlet), csvCell(c.Language), csvCell(strings.Join(c.Tags, ";"))})
		}
		if next == "" || r.Context().Err() != nil {
			break
		}
		if cs, next, err = s.store.Contacts(r.Context(), id, next, exportPage); err != nil {
			s.log.ErrorContext(r.Context(), "contact export cut short", "error", err)
			panic(http.ErrAbortHandler)
		}
	}
	cw.Flush()
	return nil // a write error means the client went away
}

// csvCell defuses formula injection (OWASP "CSV Injection"): a cell that
// starts with =, +, -, @, a tab or a carriage return is one a spreadsheet
// may run as a formula, so it gets a leading single quote, which the
// spreadsheet shows as text. Importing the file again takes the quote off
// (see csvValue).
func csvCell(s string) string {
	if s != "" && strings.ContainsRune(formulaStarts, rune(s[0])) {
		return "'" + s
	}
	return s
}

// formulaStarts are the first characters that make a spreadsheet cell a formula.
const formulaStarts = "=+-@\t\r"

// csvValue undoes csvCell on an imported cell: a single quote before a
// formula character is dropped, so that an exported list imports unchanged.
func csvValue(s string) string {
	if len(s) > 1 && s[0] == '\'' && strings.ContainsRune(formulaStarts, rune(s[1])) {
		return s[1:]
	}
	return s
}

// safeFileName keeps the letters, digits, - and _ of s.
func safeFileName(s string) string {
	return strings.Map(func(r rune) rune {
		if r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_' {
			return r
		}
		return -1
	}, s)
}
