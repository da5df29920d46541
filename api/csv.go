package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"fmt"
	"io"
	"strings"
	"unicode/utf8"

	"github.com/pregon/pregon/dispatcher"
)

// csvColumns are the columns a contact CSV may have; others are ignored.
var csvColumns = []string{"email", "name", "outlet", "language", "tags"}

// parseCSV reads a contact CSV: a header row naming the columns (any order,
// any case; email is required), then one contact per row. Tags are separated
// by ";" or "|" within their cell. The delimiter is "," unless the header
// uses ";" or tabs (as spreadsheets in many locales export). Blank rows are
// ignored. Row errors go to im; a file that cannot be read as a whole is a
// 400 problem.
func parseCSV(ctx context.Context, data []byte, im *importer) error {
	if !utf8.Valid(data) {
		return invalid("The file is not UTF-8 text. Save it from the spreadsheet as \"CSV UTF-8\".")
	}
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	rd := csv.NewReader(bytes.NewReader(data))
	rd.Comma = guessDelimiter(data)
	rd.FieldsPerRecord = -1
	rd.ReuseRecord = true
	header, err := rd.Read()
	if errors.Is(err, io.EOF) {
		return invalid("The file is empty. Its first line must name the columns: " + strings.Join(csvColumns, ",") + ".")
	}
	if err != nil {
		return invalid("The header line is not valid CSV: " + err.Error() + ".")
	}
	cols := map[string]int{}
	for i, h := range header {
		h = strings.ToLower(strings.TrimSpace(h))
		if _, dup := cols[h]; dup && h != "" {
			return invalid(fmt.Sprintf("The header names the column %q twice.", h))
		}
		cols[h] = i
	}
	if _, ok := cols["email"]; !ok {
		return invalid(fmt.Sprintf("The header line has no email column (it has: %s). The first line must name the columns, like: %s.",
			strings.Join(header, ", "), strings.Join(csvColumns, ",")))
	}
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return nil
		}
		cell := func(name string) string {
			if i, ok := cols[name]; ok && i < len(rec) {
				return csvValue(rec[i])
			}
			return ""
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			if perr.StartLine != perr.Line { // an open quote swallowed the lines after it
				return invalid(fmt.Sprintf("Line %d: a quoted cell is not closed (%s).", perr.StartLine, perr.Error()))
			}
			code := "row.csv_malformed"
			switch {
			case errors.Is(perr.Err, csv.ErrBareQuote):
				code = "row.csv_bare_quote"
			case errors.Is(perr.Err, csv.ErrQuote):
				code = "row.csv_quote"
			}
			im.refuse(perr.StartLine, strings.TrimSpace(cell("email")), refused("malformed CSV line: "+perr.Err.Error(), code))
			continue
		}
		if err != nil {
			return invalid("The file could not be read as CSV: " + err.Error() + ".")
		}
		if blank(rec) {
			continue
		}
		line, _ := rd.FieldPos(0)
		err = im.add(ctx, line, dispatcher.Contact{
			Email:    cell("email"),
			Name:     cell("name"),
			Outlet:   cell("outlet"),
			Language: cell("language"),
			Tags:     strings.FieldsFunc(cell("tags"), func(r rune) bool { return r == ';' || r == '|' }),
		})
		if err != nil {
			return err
		}
	}
}

// guessDelimiter returns the most frequent of ',', ';' and tab in the first
// line, ',' when none occurs.
func guessDelimiter(data []byte) rune {
	first, _, _ := bytes.Cut(data, []byte("\n"))
	best, n := ',', bytes.Count(first, []byte(","))
	for _, d := range []rune{';', '\t'} {
		if c := bytes.Count(first, []byte(string(d))); c > n {
			best, n = d, c
		}
	}
	return best
}

func blank(rec []string) bool {
	for _, f := range rec {
		if strings.TrimSpace(f) != "" {
			return false
		}
	}
	return true
}
