package api

import (
	"bytes"
	"context"
	"encoding/csv"
	"errors"
	"io"
	"strings"
	"testing"

	"github.com/pregon/pregon/dispatcher"
)

// FuzzImportCSV feeds the contact CSV importer any bytes. It must never
// panic; a file it refuses as a whole is a 400 problem; otherwise every row
// is imported, counted as a repeat, or reported with its line number (in
// order, within the file), nothing is dropped silently, and every imported
// email is a normalised, valid address, once.
func FuzzImportCSV(f *testing.F) {
	for _, seed := range []string{
		"email,name,outlet,language,tags\nana@example.org,Ana Pérez,La Jornada,es,minería;agua\nnot-an-address,,,,\n",
		"\uFEFFName;EMAIL;Notas\nAna;ana@example.org;x\n;;\nAna;ANA@example.org;dup\n",
		"email\tname\nana@example.org\t\"Ana\r\nPérez\"\n",
		"email,name\nana@example.org,\"=HYPERLINK(\"\"http://evil\"\",\"\"x\"\")\"\n'=b@example.org,'+x\n",
		"email,name\na@example.org,Ana \"la\" P\n\"b@example.org,B\n",
		"email,Email\n",
		"name,outlet\nAna,Radio\n",
		"email,name\njose@example.org,Jos\xe9\n",
		"email\n\n\n,\n  \nana@example.org\n\"\"\n",
		"email,language\na@example.org,español\nb@example.org,pt-BR\nc@example.org,e\n",
		"",
	} {
		f.Add([]byte(seed))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		st := &collector{}
		im := newImporter(st, "l1")
		err := parseCSV(t.Context(), data, im)
		if err == nil {
			err = im.flush(t.Context())
		}
		if err != nil {
			var p *Problem
			if !errors.As(err, &p) || p.Status != 400 {
				t.Fatalf("error %v is not a 400 problem", err)
			}
			// Refused as a whole: the handler's first pass finds it, so
			// nothing is written.
			return
		}
		records := countRecords(t, data)
		got := len(st.contacts) + im.res.Skipped + len(im.res.Errors) + im.res.ErrorsOmitted
		if got != records {
			t.Fatalf("%d rows in the file, but %d imported + %d repeated + %d refused + %d omitted",
				records, len(st.contacts), im.res.Skipped, len(im.res.Errors), im.res.ErrorsOmitted)
		}
		lines := bytes.Count(data, []byte("\n")) + 1
		last := 1
		for _, e := range im.res.Errors {
			if e.Row <= last || e.Row > lines || e.Message == "" {
				t.Fatalf("row error %+v: want a line number after %d and at most %d, with a message", e, last, lines)
			}
			last = e.Row
		}
		seen := map[string]bool{}
		for _, c := range st.contacts {
			norm, err := dispatcher.NormalizeEmail(c.Email)
			if err != nil || norm != c.Email || seen[c.Email] {
				t.Fatalf("imported email %q: normalised %q, %v, repeated %v", c.Email, norm, err, seen[c.Email])
			}
			seen[c.Email] = true
			if strings.ContainsAny(c.Name+c.Outlet, "\r\n") {
				t.Fatalf("imported name or outlet with a line break: %+v", c)
			}
		}
	})
}

// countRecords counts the rows after the header that are not blank, read
// the way a spreadsheet would (the importer's delimiter, BOM removed); rows
// that do not parse count too, since the importer must report them.
func countRecords(t *testing.T, data []byte) int {
	data = bytes.TrimPrefix(data, []byte("\uFEFF"))
	rd := csv.NewReader(bytes.NewReader(data))
	rd.Comma = guessDelimiter(data)
	rd.FieldsPerRecord = -1
	if _, err := rd.Read(); err != nil {
		t.Fatalf("the importer accepted a header that does not parse: %v", err)
	}
	n := 0
	for {
		rec, err := rd.Read()
		if errors.Is(err, io.EOF) {
			return n
		}
		var perr *csv.ParseError
		if errors.As(err, &perr) {
			n++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		if !blank(rec) {
			n++
		}
	}
}

// collector is an importStore that keeps what it is given.
type collector struct{ contacts []dispatcher.Contact }

func (c *collector) ImportContacts(ctx context.Context, listID string, cs []dispatcher.Contact) (int, int, map[string]string, error) {
	c.contacts = append(c.contacts, cs...)
	return len(cs), 0, nil, nil
}
