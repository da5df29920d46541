package api

import (
	"bytes"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"net/url"
	"reflect"
	"strconv"
	"strings"
	"unicode/utf8"
)

// mediaType returns the request's media type, lower-cased, "" when absent.
func mediaType(r *http.Request) string {
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return ""
	}
	mt, _, err := mime.ParseMediaType(ct)
	if err != nil {
		return strings.ToLower(strings.TrimSpace(ct))
	}
	return mt
}

func isJSON(mt string) bool {
	return mt == "" || mt == "application/json" || strings.HasSuffix(mt, "+json")
}

// unsupported returns a 415 problem for a request whose body is not of a
// media type the endpoint reads.
func unsupported(mt, want string) *Problem {
	return &Problem{Status: http.StatusUnsupportedMediaType,
		Detail: fmt.Sprintf("Content-Type %q is not accepted here; send %s.", mt, want)}
}

// readBody reads the whole request body, refusing more than limit bytes with
// an *http.MaxBytesError (a 413 response).
func readBody(w http.ResponseWriter, r *http.Request, limit int64) ([]byte, error) {
	if r.ContentLength > limit {
		return nil, &http.MaxBytesError{Limit: limit}
	}
	data, err := io.ReadAll(http.MaxBytesReader(w, r.Body, limit))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, err
		}
		return nil, invalid("The request body could not be read.")
	}
	return data, nil
}

// readJSON reads a JSON request body (at most s.maxBody bytes) into v. An
// empty body is refused unless emptyOK, in which case v is left alone
// whatever the Content-Type.
func (s *Server) readJSON(w http.ResponseWriter, r *http.Request, v any, emptyOK bool) error {
	data, err := readBody(w, r, s.maxBody)
	if err != nil {
		return err
	}
	empty := len(bytes.TrimSpace(data)) == 0
	if empty && emptyOK {
		return nil
	}
	if mt := mediaType(r); !isJSON(mt) {
		return unsupported(mt, "application/json")
	}
	if empty {
		return invalid("The request body is empty; send a JSON object.")
	}
	return decodeJSON(data, v)
}

// decodeJSON decodes exactly one JSON value from data into v, refusing
// unknown fields, names repeated in one object and trailing data, and explains any failure in a 400
// problem that names the field or the place in the text.
func decodeJSON(data []byte, v any) error {
	if !utf8.Valid(data) {
		return invalid("The request body is not valid UTF-8.")
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	err := dec.Decode(v)
	if err == nil {
		off := dec.InputOffset()
		if rest := bytes.TrimSpace(data[off:]); len(rest) > 0 {
			off += int64(bytes.Index(data[off:], rest[:1]))
			return invalid(fmt.Sprintf("Unexpected data after the JSON value at %s.", position(data, off)))
		}
		if path, at, dup := duplicateKey(data); dup {
			return invalid(fmt.Sprintf("The field %s appears twice in one object (at %s); send it once.", path, position(data, at)),
				FieldError{Field: path, Message: "appears more than once"})
		}
		return nil
	}
	var syntax *json.SyntaxError
	var typ *json.UnmarshalTypeError
	switch {
	case errors.As(err, &syntax):
		return invalid(fmt.Sprintf("Malformed JSON at %s: %s.", position(data, syntax.Offset-1), syntax.Error()))
	case errors.Is(err, io.ErrUnexpectedEOF), errors.Is(err, io.EOF):
		return invalid(fmt.Sprintf("The JSON ends too early, at %s: is it truncated?", position(data, int64(len(data)))))
	case errors.As(err, &typ):
		msg := fmt.Sprintf("must be %s, not %s", jsonKind(typ.Type), jsonValueKind(typ.Value))
		if typ.Field == "" {
			return invalid(fmt.Sprintf("The body %s.", msg))
		}
		return invalid(fmt.Sprintf("%s %s (at %s).", typ.Field, msg, position(data, typ.Offset)),
			FieldError{Field: typ.Field, Message: msg})
	}
	if name, ok := strings.CutPrefix(err.Error(), "json: unknown field "); ok {
		if unq, err := strconv.Unquote(name); err == nil {
			name = unq
		}
		return invalid(fmt.Sprintf("Unknown field %q at %s.", name, position(data, dec.InputOffset())),
			FieldError{Field: name, Message: "is not a known field"})
	}
	return invalid("The body is not valid JSON: " + err.Error() + ".")
}

// position describes a byte offset in data as "line L, column C" (both from 1;
// columns count characters).
func position(data []byte, off int64) string {
	off = min(max(off, 0), int64(len(data)))
	before := data[:off]
	line := bytes.Count(before, []byte("\n")) + 1
	col := utf8.RuneCount(before[bytes.LastIndexByte(before, '\n')+1:]) + 1
	return fmt.Sprintf("line %d, column %d", line, col)
}

// jsonKind names the JSON kind of value that decodes into t.
func jsonKind(t reflect.Type) string {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	switch t.Kind() {
	case reflect.String:
		return "a string"
	case reflect.Bool:
		return "true or false"
	case reflect.Int, reflect.Int8, reflect.Int16, reflect.Int32, reflect.Int64,
		reflect.Uint, reflect.Uint8, reflect.Uint16, reflect.Uint32, reflect.Uint64:
		return "a whole number"
	case reflect.Float32, reflect.Float64:
		return "a number"
	case reflect.Slice, reflect.Array:
		return "an array"
	case reflect.Struct, reflect.Map:
		return "an object"
	}
	return "a different kind of value"
}

// jsonValueKind names the kind of JSON value json.UnmarshalTypeError.Value holds.
func jsonValueKind(v string) string {
	switch {
	case v == "bool":
		return "true or false"
	case strings.HasPrefix(v, "number"):
		return "a number"
	case v == "string":
		return "a string"
	case v == "object", v == "array":
		return "an " + v
	}
	return v
}

// Paging limits.
const (
	defaultLimit = 100
	maxLimit     = 1000
	maxCursor    = 1024
)

// cursorTag starts every cursor the API hands out (before base64), so that
// one it did not make is refused instead of read as a position.
const cursorTag = "pgc1:"

// encodeCursor returns the opaque next_cursor for a store's cursor.
func encodeCursor(c string) string {
	if c == "" {
		return ""
	}
	return base64.RawURLEncoding.EncodeToString([]byte(cursorTag + c))
}

// pageParams reads the cursor and limit query parameters, and returns the
// store's cursor. A cursor the API did not return is a field error.
func pageParams(q url.Values, fe *fieldErrors) (cursor string, limit int) {
	if raw := q.Get("cursor"); raw != "" {
		b, err := base64.RawURLEncoding.DecodeString(raw)
		c, ok := strings.CutPrefix(string(b), cursorTag)
		if err != nil || !ok || c == "" || len(raw) > maxCursor {
			fe.add("cursor", "is not a cursor this API returned (pass next_cursor from the previous page)")
		} else {
			cursor = c
		}
	}
	limit = defaultLimit
	if v := q.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 1 || n > maxLimit {
			fe.add("limit", "must be a whole number from 1 to %d", maxLimit)
		}
		limit = n
	}
	return cursor, limit
}

// Page is one page of a collection; NextCursor is "" on the last page.
type Page[T any] struct {
	Items      []T    `json:"items"`
	NextCursor string `json:"next_cursor"`
}

// newPage returns a page whose Items is never null in JSON, and whose
// NextCursor is the opaque form of the store's cursor next.
func newPage[T any](items []T, next string) Page[T] {
	if items == nil {
		items = []T{}
	}
	return Page[T]{Items: items, NextCursor: encodeCursor(next)}
}
