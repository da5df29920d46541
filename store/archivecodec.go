package store

import (
	"bytes"
	"compress/gzip"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"slices"
	"strconv"

	"github.com/pregon/pregon/dispatcher"
)

// archived is one delivery as its hash held it: its id and every field.
type archived struct {
	ID string
	H  map[string]string
}

// archiveMagic heads every archive block, and names its format.
const archiveMagic = "pga1"

// Bytes that mark, in an archived string, the delivery's own id (subID),
// the release id (subRelease), and an escaped byte (subEscape + the byte).
// Message ids embed both ids, so a message id is stored as a few bytes.
const (
	subID      = 0x01
	subRelease = 0x02
	subEscape  = 0x03
)

// Tags of a value in an integer column.
const (
	tagAbsent = 0
	tagEmpty  = 1
	tagInt    = 2
)

// encodeBlock writes deliveries of release rid (in id order) as one archive
// block: gzip over a column per hash field, which keeps what repeats from
// one delivery to the next side by side. Columns whose values are all
// decimal integers (times, attempts) hold the difference from the value
// before; a delivery id that DeliveryID derives from its channel and
// recipient is not stored; the delivery and release ids inside a string
// (a message id) are one byte each. Every field of every hash is kept:
// decodeBlock gives back exactly what was encoded.
func encodeBlock(rid string, recs []archived) ([]byte, error) {
	var fields []string
	seen := map[string]bool{}
	for _, r := range recs {
		for f := range r.H {
			if !seen[f] {
				seen[f] = true
				fields = append(fields, f)
			}
		}
	}
	slices.Sort(fields)

	var raw bytes.Buffer
	raw.WriteString(archiveMagic)
	putUvarint(&raw, uint64(len(recs)))
	putUvarint(&raw, uint64(len(fields)))
	for _, f := range fields {
		putString(&raw, f)
	}
	for _, r := range recs {
		if r.ID == dispatcher.DeliveryID(rid, dispatcher.ChannelKind(r.H[dChannel]), r.H[dRecipient]) {
			raw.WriteByte(0)
			continue
		}
		raw.WriteByte(1)
		putString(&raw, r.ID)
	}
	for _, f := range fields {
		if intColumn(recs, f) {
			raw.WriteByte(1)
			var prev int64
			for _, r := range recs {
				v, ok := r.H[f]
				switch {
				case !ok:
					raw.WriteByte(tagAbsent)
				case v == "":
					raw.WriteByte(tagEmpty)
				default:
					n, _ := strconv.ParseInt(v, 10, 64)
					raw.WriteByte(tagInt)
					putVarint(&raw, n-prev)
					prev = n
				}
			}
			continue
		}
		raw.WriteByte(0)
		for _, r := range recs {
			v, ok := r.H[f]
			if !ok {
				putUvarint(&raw, 0)
				continue
			}
			id := r.ID
			if f == dChannel || f == dRecipient {
				id = "" // derived ids need them before the id is known
			}
			s := substitute(v, id, rid)
			putUvarint(&raw, uint64(len(s))+1)
			raw.WriteString(s)
		}
	}

	var out bytes.Buffer
	zw, err := gzip.NewWriterLevel(&out, gzip.BestCompression)
	if err != nil {
		return nil, fmt.Errorf("archive block: %w", err)
	}
	if _, err := zw.Write(raw.Bytes()); err != nil {
		return nil, fmt.Errorf("archive block: %w", err)
	}
	if err := zw.Close(); err != nil {
		return nil, fmt.Errorf("archive block: %w", err)
	}
	return out.Bytes(), nil
}

// errBadBlock is returned for an archive block that cannot be read.
var errBadBlock = errors.New("malformed archive block")

// decodeBlock reads a block that encodeBlock wrote for release rid.
func decodeBlock(rid string, block []byte) ([]archived, error) {
	zr, err := gzip.NewReader(bytes.NewReader(block))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadBlock, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		return nil, fmt.Errorf("%w: %v", errBadBlock, err)
	}
	d := &decoder{b: data}
	if string(d.bytes(len(archiveMagic))) != archiveMagic {
		return nil, fmt.Errorf("%w: not an archive block", errBadBlock)
	}
	n := int(d.uvarint())
	nf := int(d.uvarint())
	if d.err != nil || n > len(data) || nf > len(data) {
		return nil, fmt.Errorf("%w: bad header", errBadBlock)
	}
	fields := make([]string, nf)
	for i := range fields {
		fields[i] = d.string()
	}
	recs := make([]archived, n)
	derived := make([]bool, n)
	for i := range recs {
		recs[i].H = make(map[string]string, nf)
		if d.byte() == 0 {
			derived[i] = true
		} else {
			recs[i].ID = d.string()
		}
	}
	// Ids first: strings may refer to them.
	ids := func() {
		for i := range recs {
			if derived[i] {
				recs[i].ID = dispatcher.DeliveryID(rid, dispatcher.ChannelKind(recs[i].H[dChannel]), recs[i].H[dRecipient])
			}
		}
	}
	type pending struct {
		rec   int
		field string
		v     string
	}
	var subs []pending
	for _, f := range fields {
		if d.byte() == 1 {
			var prev int64
			for i := range recs {
				switch d.byte() {
				case tagAbsent:
				case tagEmpty:
					recs[i].H[f] = ""
				case tagInt:
					prev += d.varint()
					recs[i].H[f] = strconv.FormatInt(prev, 10)
				default:
					d.fail()
				}
			}
			continue
		}
		for i := range recs {
			l := d.uvarint()
			if l == 0 {
				continue
			}
			s := string(d.bytes(int(l - 1)))
			subs = append(subs, pending{i, f, s})
		}
	}
	if d.err != nil {
		return nil, fmt.Errorf("%w: %v", errBadBlock, d.err)
	}
	// The recipient and channel, which derived ids need, never refer to
	// the id: resolve them first.
	for _, p := range subs {
		if p.field == dChannel || p.field == dRecipient {
			v, err := unsubstitute(p.v, "", rid)
			if err != nil {
				return nil, err
			}
			recs[p.rec].H[p.field] = v
		}
	}
	ids()
	for _, p := range subs {
		v, err := unsubstitute(p.v, recs[p.rec].ID, rid)
		if err != nil {
			return nil, err
		}
		recs[p.rec].H[p.field] = v
	}
	return recs, nil
}

// intColumn reports whether every value of field f in recs is absent,
// empty or a decimal integer written the way strconv writes it.
func intColumn(recs []archived, f string) bool {
	for _, r := range recs {
		v, ok := r.H[f]
		if !ok || v == "" {
			continue
		}
		n, err := strconv.ParseInt(v, 10, 64)
		if err != nil || strconv.FormatInt(n, 10) != v {
			return false
		}
	}
	return true
}

// substitute writes v with id and rid as one byte each, escaping the bytes
// used for that.
func substitute(v, id, rid string) string {
	var b []byte
	for i := 0; i < len(v); {
		switch {
		case id != "" && len(v)-i >= len(id) && v[i:i+len(id)] == id:
			b = append(b, subID)
			i += len(id)
		case len(v)-i >= len(rid) && v[i:i+len(rid)] == rid:
			b = append(b, subRelease)
			i += len(rid)
		case v[i] == subID || v[i] == subRelease || v[i] == subEscape:
			b = append(b, subEscape, v[i])
			i++
		default:
			b = append(b, v[i])
			i++
		}
	}
	return string(b)
}

// unsubstitute undoes substitute. id "" refuses a reference to the id.
func unsubstitute(s, id, rid string) (string, error) {
	var b []byte
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case subID:
			if id == "" {
				return "", fmt.Errorf("%w: id referenced before it is known", errBadBlock)
			}
			b = append(b, id...)
		case subRelease:
			b = append(b, rid...)
		case subEscape:
			if i+1 == len(s) {
				return "", fmt.Errorf("%w: bad escape", errBadBlock)
			}
			i++
			b = append(b, s[i])
		default:
			b = append(b, s[i])
		}
	}
	return string(b), nil
}

func putUvarint(b *bytes.Buffer, v uint64) { b.Write(binary.AppendUvarint(nil, v)) }
func putVarint(b *bytes.Buffer, v int64)   { b.Write(binary.AppendVarint(nil, v)) }
func putString(b *bytes.Buffer, s string) {
	putUvarint(b, uint64(len(s)))
	b.WriteString(s)
}

// decoder reads what encodeBlock wrote; after the first error every read
// returns zero values and err says what went wrong.
type decoder struct {
	b   []byte
	err error
}

func (d *decoder) fail() {
	if d.err == nil {
		d.err = errors.New("truncated or corrupt")
	}
	d.b = nil
}

func (d *decoder) byte() byte {
	if len(d.b) == 0 {
		d.fail()
		return 0
	}
	c := d.b[0]
	d.b = d.b[1:]
	return c
}

func (d *decoder) bytes(n int) []byte {
	if n < 0 || n > len(d.b) {
		d.fail()
		return nil
	}
	out := d.b[:n]
	d.b = d.b[n:]
	return out
}

func (d *decoder) uvarint() uint64 {
	v, n := binary.Uvarint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) varint() int64 {
	v, n := binary.Varint(d.b)
	if n <= 0 {
		d.fail()
		return 0
	}
	d.b = d.b[n:]
	return v
}

func (d *decoder) string() string { return string(d.bytes(int(d.uvarint()))) }
