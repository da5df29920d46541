package api

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/pregon/pregon/dispatcher"
)

// Limits on imported contacts.
const (
	maxRowErrors   = 1000 // refused and suppressed rows listed in a report
	maxTextLen     = 200  // names and outlets
	maxTags        = 50
	maxTagLen      = 100
	maxAttributes  = 50
	maxAttrKeyLen  = 64
	maxAttrValLen  = 1024
	importBatchLen = 1000 // contacts per store write
)

// importStore is the part of Store an import writes to.
type importStore interface {
	ImportContacts(ctx context.Context, listID string, cs []dispatcher.Contact) (added, updated int, suppressed map[string]string, err error)
}

// importer validates uploaded rows and saves the good ones in batches of
// importBatchLen, so that an upload of any size holds at most one batch of
// contacts in memory and no store write is long. Without a store it only
// validates (the first pass over an upload, which finds what would refuse
// the whole file before anything is written).
type importer struct {
	store  importStore // nil: validate only
	listID string
	seed   [2]maphash.Seed
	seen   map[[2]uint64]struct{} // emails seen so far, hashed
	batch  []dispatcher.Contact
	rows   []int // the row of each contact in batch
	last   int   // the last row read
	// savedThrough is the last row read when the last batch was saved: every
	// row up to it is accounted for in res.
	savedThrough int
	res          ImportResult
}

// newImporter returns an importer that saves to st (nil: validate only).
func newImporter(st importStore, listID string) *importer {
	im := &importer{store: st, listID: listID,
		res: ImportResult{Errors: []RowError{}, Suppressed: []SuppressedRow{}}}
	if st != nil {
		im.seed = [2]maphash.Seed{maphash.MakeSeed(), maphash.MakeSeed()}
		im.seen = map[[2]uint64]struct{}{}
	}
	return im
}

// refusal is why a row is refused: the English message and its note.
type refusal struct {
	Message string
	Note    dispatcher.Note
}

// refused returns the refusal of code with args (name, value pairs), said
// in English as msg.
func refused(msg, code string, args ...any) refusal {
	return refusal{Message: msg, Note: note(code, args...)}
}

func (im *importer) refuse(row int, email string, why refusal) {
	im.last = row
	im.rowError(row, email, why)
}

// rowError adds a refused row to the report, in row order: a row refused
// when its batch is saved (an erased address) comes after rows refused
// later in the file as they were read. Beyond maxRowErrors, the report
// keeps the first rows of the file and counts the others.
func (im *importer) rowError(row int, email string, why refusal) {
	e := RowError{Row: row, Email: email, Message: why.Message, Code: why.Note.Code, Args: why.Note.Args}
	i, _ := slices.BinarySearchFunc(im.res.Errors, row, func(e RowError, row int) int { return cmp.Compare(e.Row, row+1) })
	// i is past every error of a row up to row: equal rows keep their order.
	if len(im.res.Errors) >= maxRowErrors {
		im.res.ErrorsOmitted++
		if i >= len(im.res.Errors) {
			return
		}
		im.res.Errors = im.res.Errors[:len(im.res.Errors)-1]
	}
	im.res.Errors = slices.Insert(im.res.Errors, i, e)
}

// firstSeen reports whether email was not seen before in the upload. It
// keeps 128-bit hashes rather than the addresses, so that a million rows
// cost some 40 MB.
func (im *importer) firstSeen(email string) bool {
	k := [2]uint64{maphash.String(im.seed[0], email), maphash.String(im.seed[1], email)}
	if _, ok := im.seen[k]; ok {
		return false
	}
	im.seen[k] = struct{}{}
	return true
}

// add validates one row and queues it for saving unless its email was seen
// before; a full batch is saved at once. It returns only a store error.
func (im *importer) add(ctx context.Context, row int, in dispatcher.Contact) error {
	im.last = row
	raw := strings.TrimSpace(in.Email)
	c, why := contactOf(in)
	if why.Message != "" {
		im.refuse(row, raw, why)
		return nil
	}
	if im.store == nil {
		return nil
	}
	if !im.firstSeen(c.Email) {
		im.res.Skipped++
		return nil
	}
	im.batch = append(im.batch, c)
	im.rows = append(im.rows, row)
	if len(im.batch) >= importBatchLen {
		return im.flush(ctx)
	}
	return nil
}

// flush saves the queued contacts and adds the outcome to the report.
func (im *importer) flush(ctx context.Context) error {
	if im.store == nil {
		return nil
	}
	if len(im.batch) > 0 {
		added, updated, sup, err := im.store.ImportContacts(ctx, im.listID, im.batch)
		if err != nil {
			return fmt.Errorf("import rows %d to %d: %w", im.rows[0], im.rows[len(im.rows)-1], err)
		}
		im.res.Added += added
		im.res.Updated += updated
		for i, c := range im.batch {
			reason, ok := sup[c.Email]
			switch {
			case ok && reason == string(dispatcher.ReasonErased):
				// Not saved: the address was erased on request.
				im.rowError(im.rows[i], c.Email, refused(dispatcher.ErasedMessage, "row.erased"))
			case ok:
				im.suppressed(im.rows[i], c.Email, reason)
			}
		}
		im.batch, im.rows = im.batch[:0], im.rows[:0]
	}
	im.savedThrough = im.last
	return nil
}

func (im *importer) suppressed(row int, email, reason string) {
	if len(im.res.Suppressed) >= maxRowErrors {
		im.res.SuppressedOmitted++
		return
	}
	im.res.Suppressed = append(im.res.Suppressed, SuppressedRow{Row: row, Email: email, Reason: reason})
}

// contactOf validates one row, as it was sent, and returns the contact to
// store, or why the row is refused.
func contactOf(in dispatcher.Contact) (dispatcher.Contact, refusal) {
	email, err := dispatcher.NormalizeEmail(in.Email)
	var ee *dispatcher.EmailError
	switch {
	case errors.As(err, &ee) && ee.Domain != "":
		return dispatcher.Contact{}, refused(err.Error(), "row.email_"+ee.Kind, "domain", ee.Domain)
	case errors.As(err, &ee):
		return dispatcher.Contact{}, refused(err.Error(), "row.email_"+ee.Kind)
	case err != nil:
		return dispatcher.Contact{}, refused(err.Error(), "row.email_invalid")
	}
	c := dispatcher.Contact{
		Email:    email,
		Name:     oneLine(in.Name),
		Outlet:   oneLine(in.Outlet),
		Language: strings.TrimSpace(in.Language),
	}
	for _, f := range []struct{ name, v string }{{"name", c.Name}, {"outlet", c.Outlet}} {
		switch {
		case utf8.RuneCountInString(f.v) > maxTextLen:
			return c, refused(fmt.Sprintf("%s is longer than %d characters", f.name, maxTextLen), "row."+f.name+"_too_long", "max", maxTextLen)
		case strings.IndexFunc(f.v, badLineRune) >= 0:
			return c, refused(f.name+" "+controlMessage, "row."+f.name+"_control")
		}
	}
	if c.Language != "" && !validLanguage(c.Language) {
		return c, refused("invalid language (use a code like es, en or pt-BR)", "row.language_invalid")
	}
	var why refusal
	if c.Tags, why = cleanTags(in.Tags); why.Message != "" {
		return c, why
	}
	if why = checkAttributes(in.Attributes); why.Message != "" {
		return c, why
	}
	if len(in.Attributes) > 0 {
		c.Attributes = in.Attributes
	}
	return c, refusal{}
}

// cleanTags trims tags and drops empty and repeated ones, or says why the
// tags are refused.
func cleanTags(tags []string) ([]string, refusal) {
	var out []string
	seen := map[string]bool{}
	for _, t := range tags {
		t = oneLine(t)
		switch {
		case t == "" || seen[strings.ToLower(t)]:
			continue
		case utf8.RuneCountInString(t) > maxTagLen:
			return nil, refused(fmt.Sprintf("a tag is longer than %d characters", maxTagLen), "row.tag_too_long", "max", maxTagLen)
		case strings.IndexFunc(t, badLineRune) >= 0:
			return nil, refused("tags "+controlMessage, "row.tags_control")
		}
		seen[strings.ToLower(t)] = true
		out = append(out, t)
	}
	if len(out) > maxTags {
		return nil, refused(fmt.Sprintf("more than %d tags", maxTags), "row.too_many_tags", "max", maxTags)
	}
	return out, refusal{}
}

// checkAttributes returns why a contact's attributes are refused (a zero
// refusal when they are fine).
func checkAttributes(attrs map[string]string) refusal {
	if len(attrs) > maxAttributes {
		return refused(fmt.Sprintf("attributes: more than %d keys", maxAttributes), "row.attributes_too_many", "max", maxAttributes)
	}
	for k, v := range attrs {
		switch {
		case strings.TrimSpace(k) == "":
			return refused("attributes: a key is empty", "row.attribute_key_empty")
		case utf8.RuneCountInString(k) > maxAttrKeyLen:
			return refused(fmt.Sprintf("attributes: the key %.20q… is longer than %d characters", k, maxAttrKeyLen),
				"row.attribute_key_too_long", "key", string([]rune(k)[:20])+"…", "max", maxAttrKeyLen)
		case strings.IndexFunc(k, badLineRune) >= 0:
			return refused(fmt.Sprintf("attributes: the key %q %s", k, controlMessage), "row.attribute_key_control", "key", fmt.Sprintf("%q", k))
		case utf8.RuneCountInString(v) > maxAttrValLen:
			return refused(fmt.Sprintf("attributes: the value of %q is longer than %d characters", k, maxAttrValLen),
				"row.attribute_value_too_long", "key", k, "max", maxAttrValLen)
		case strings.IndexFunc(v, badTextRune) >= 0:
			return refused(fmt.Sprintf("attributes: the value of %q %s", k, controlMessage), "row.attribute_value_control", "key", k)
		}
	}
	return refusal{}
}
