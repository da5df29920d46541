package store

import (
	"fmt"
	"strings"
)

// Delivery records (issue 12: at most 250 bytes of Redis per delivery,
// indexes included).
//
// A release's deliveries are kept many to a Redis hash: the delivery whose
// id is "3f9a0c1d..." is field "a0c1d..." of the hash
// pregon:{<rid>}:db:3f9 (a "bucket": the first bucketLen characters of the
// id), and pregon:{<rid>}:dblocks is a ZSET of the buckets in use (score
// 0, lexical order), so that deliveries are paged in id order without an
// index entry per delivery. Ids are hex digests, so a release has at most
// 4,096 buckets, about 25 deliveries each at 100,000.
//
// A delivery is one field whose value is its record: the values of
// recordFields in that order, joined by recordSep, trailing empty ones
// left out. A value holding recordSep or recordEsc has them escaped
// (recordEsc 'a' and recordEsc 'b'). An empty value and an absent field are
// the same.
//
// Per-delivery keys cost Redis about 50-70 bytes each in its main
// dictionary before any data; packed many to a hash whose encoding stays a
// listpack, a sent email delivery costs about 150 bytes. The hashes stay
// listpacks while they have at most hash-max-listpack-entries fields of at
// most hash-max-listpack-value bytes: Pregón raises those to
// listpackEntries and listpackValue at start when they are lower (Upgrade),
// and warns when it cannot (Warnings). Beyond them a bucket becomes a
// plain hashtable: it costs more memory, and works the same.
//
// This file is the one place that knows the record's layout: the Go
// encoder and decoder below, and the Lua ones (recordLib) that every
// script gets, both written from recordFields.

// recordFields are the delivery fields in record order: those every
// delivery has first, those that are usually empty last.
var recordFields = []string{
	dChannel, dStatus, dRecipient, dName, dLanguage, dAttempts, dRoundAttempts, dCreatedAt, dUpdatedAt,
	dMessageIDs, dError, dClaimedAt, dWorker, dRetryDue, dParts, dReposted, dBounce, dBounceAt, dBounceSource,
}

const (
	recordSep = "\x1f" // between the fields of a record
	recordEsc = "\x1e" // escapes recordSep ("\x1eb") and itself ("\x1ea") in a value
	bucketLen = 3      // characters of a delivery id that name its bucket
	// The listpack limits that keep buckets compact (see above).
	listpackEntries = 512
	listpackValue   = 1024
)

var (
	recordEscaper   = strings.NewReplacer(recordEsc, recordEsc+"a", recordSep, recordEsc+"b")
	recordUnescaper = strings.NewReplacer(recordEsc+"a", recordEsc, recordEsc+"b", recordSep)
)

// bucketPrefix is the prefix of a release's bucket keys; blocksKey is the
// ZSET of its buckets.
func bucketPrefix(rid string) string { return prefix + "{" + rid + "}:db:" }
func blocksKey(rid string) string    { return prefix + "{" + rid + "}:dblocks" }

// bucketOf returns the bucket of delivery id and its field in it.
func bucketOf(id string) (bucket, field string) {
	n := min(bucketLen, len(id))
	return id[:n], id[n:]
}

// encodeRecord returns the record of a delivery's fields (unknown names are
// an error: they would be lost).
func encodeRecord(h map[string]string) (string, error) {
	vals := make([]string, len(recordFields))
	last, known := -1, 0
	for i, f := range recordFields {
		v, ok := h[f]
		if ok {
			known++
		}
		if v != "" {
			vals[i] = recordEscaper.Replace(v)
			last = i
		}
	}
	if known != len(h) {
		return "", fmt.Errorf("delivery record: unknown fields in %v", h)
	}
	return strings.Join(vals[:last+1], recordSep), nil
}

// decodeRecord returns the non-empty fields of a record.
func decodeRecord(v string) map[string]string {
	h := make(map[string]string, len(recordFields))
	i := 0
	for s := range strings.SplitSeq(v, recordSep) {
		if i >= len(recordFields) {
			break
		}
		if s != "" {
			if strings.Contains(s, recordEsc) {
				s = recordUnescaper.Replace(s)
			}
			h[recordFields[i]] = s
		}
		i++
	}
	return h
}

// recordLib is the Lua side of the record (included in every script by
// luaConstants):
//
//	dslot(p, id)   the bucket key (p is the bucket prefix, pregon:{<rid>}:db:), field and bucket of delivery id
//	decodeRec(v)   the table of a record's non-empty fields, keyed by F.xxx names
//	encodeRec(d)   the record of such a table (numbers written as integers)
//	getd(p, id)    the delivery's table, or nil when there is none
//	putd(p, id, d) writes the delivery's record
func recordLib() string {
	var b strings.Builder
	b.WriteString("-- delivery records (record.go)\nlocal REC_FIELDS = {")
	for i, f := range recordFields {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%q", f)
	}
	fmt.Fprintf(&b, "}\nlocal REC_SEP, REC_ESC, BUCKET_LEN = '\\%d', '\\%d', %d\n", recordSep[0], recordEsc[0], bucketLen)
	b.WriteString(`local REC_ESCAPE = {[REC_ESC] = REC_ESC .. 'a', [REC_SEP] = REC_ESC .. 'b'}
local REC_UNESCAPE = {a = REC_ESC, b = REC_SEP}
local REC_SPECIAL, REC_ESCAPED, REC_FIELD = '[' .. REC_ESC .. REC_SEP .. ']', REC_ESC .. '(.)', '([^' .. REC_SEP .. ']*)' .. REC_SEP
local function dslot(p, id)
  local b = string.sub(id, 1, BUCKET_LEN)
  return p .. b, string.sub(id, #b + 1), b
end
local function decodeRec(v)
  local d, n = {}, 0
  local esc = string.find(v, REC_ESC, 1, true)
  for s in string.gmatch(v .. REC_SEP, REC_FIELD) do
    n = n + 1
    local name = REC_FIELDS[n]
    if name and s ~= '' then
      if esc then s = (string.gsub(s, REC_ESCAPED, REC_UNESCAPE)) end
      d[name] = s
    end
  end
  return d
end
local function encodeRec(d)
  local t, last = {}, 0
  for i = 1, #REC_FIELDS do
    local s = d[REC_FIELDS[i]]
    if s == nil or s == false then
      s = ''
    elseif type(s) == 'number' then
      s = string.format('%d', s)
    end
    if s ~= '' then last = i end
    t[i] = s
  end
  if string.find(table.concat(t, '', 1, last), REC_SPECIAL) then
    for i = 1, last do t[i] = (string.gsub(t[i], REC_SPECIAL, REC_ESCAPE)) end
  end
  return table.concat(t, REC_SEP, 1, last)
end
local function getd(p, id)
  local k, f = dslot(p, id)
  local v = redis.call('HGET', k, f)
  if not v then return nil end
  return decodeRec(v)
end
local function putd(p, id, d)
  local k, f = dslot(p, id)
  redis.call('HSET', k, f, encodeRec(d))
end
`)
	return b.String()
}
