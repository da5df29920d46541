package store

import "strings"

// The message ids of a delivery are kept packed (field m of its record,
// record.go): an email's Message-ID holds the delivery's id and the
// release's id ("<id.rid@domain>", ~70 bytes), which the record's key
// already says. Packed, the ids are written "$i" and "$r" ("$" itself
// "$$") after a "$:" mark: "$:<$i.$r@domain>", about 45 bytes less per
// sent email. A value without the mark, stored by an earlier version, is
// read as it is.
const packMark = "$:"

// packMessageIDs joins the message ids of delivery id of release rid with
// spaces (as the scripts count them), packed.
func packMessageIDs(rid, id string, ids []string) string {
	if len(ids) == 0 {
		return ""
	}
	var b strings.Builder
	b.WriteString(packMark)
	for i, m := range ids {
		if i > 0 {
			b.WriteByte(' ')
		}
		for j := 0; j < len(m); {
			switch {
			case id != "" && strings.HasPrefix(m[j:], id):
				b.WriteString("$i")
				j += len(id)
			case rid != "" && strings.HasPrefix(m[j:], rid):
				b.WriteString("$r")
				j += len(rid)
			case m[j] == '$':
				b.WriteString("$$")
				j++
			default:
				b.WriteByte(m[j])
				j++
			}
		}
	}
	return b.String()
}

// unpackMessageIDs returns the message ids that packMessageIDs packed (or
// an earlier version stored as they were), never nil.
func unpackMessageIDs(rid, id, v string) []string {
	p, packed := strings.CutPrefix(v, packMark)
	if !packed {
		if f := strings.Fields(v); f != nil {
			return f
		}
		return []string{}
	}
	if !strings.Contains(p, "$") {
		return strings.Fields(p)
	}
	var b strings.Builder
	for j := 0; j < len(p); j++ {
		if p[j] == '$' && j+1 < len(p) {
			switch p[j+1] {
			case 'i':
				b.WriteString(id)
				j++
				continue
			case 'r':
				b.WriteString(rid)
				j++
				continue
			case '$':
				b.WriteByte('$')
				j++
				continue
			}
		}
		b.WriteByte(p[j])
	}
	return strings.Fields(b.String())
}
