// Package audit is Pregón's audit log: who changed what, when, from where.
//
// The log is a chain. Entries are numbered from 1 without gaps (Seq), and
// each carries the SHA-256 of the entry before it (PrevHash; "" for the
// first) and its own (Hash), computed over the canonical encoding of every
// other field (see Canonical). An entry changed in place no longer matches
// its hash; an entry removed leaves a gap in the numbers and a PrevHash that
// matches nothing; an entry changed and re-hashed breaks the PrevHash of the
// next. Verifier walks a chain and says where it breaks.
//
// What a chain cannot show is a rewrite of everything from some entry to
// the end, hashes included, by someone who can write to the store: keep the
// head's hash (pregon audit verify prints it) somewhere else, and compare.
//
// This package holds the entry, its encoding and hashing, and the checks;
// it does no I/O. store.Store keeps the log in Redis.
package audit

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"strings"
	"time"
)

// Action names a kind of change.
type Action string

// The actions recorded. Target is the id of what changed: a token, list,
// channel or release id (for contact.remove, the list's; the address is
// in Detail only as a keyed hash, "email_hmac", never in the clear).
const (
	TokenCreate    Action = "token.create"
	TokenRevoke    Action = "token.revoke"
	ListCreate     Action = "list.create"
	ContactsImport Action = "contacts.import"
	ContactRemove  Action = "contact.remove"
	ChannelCreate  Action = "channel.create"
	ChannelEnable  Action = "channel.enable" // Detail: chat_id, and "was", the status it had
	ChannelUpdate  Action = "channel.update" // Detail: chat_id and the settings changed
	ReleaseCreate  Action = "release.create"
	ReleaseEdit    Action = "release.edit"
	ReleaseApprove Action = "release.approve"
	ReleaseSend    Action = "release.send"
	ReleaseCancel  Action = "release.cancel"
	ReleaseRetry   Action = "release.retry"
	ReleaseCorrect Action = "release.correct"
	ReleaseTest    Action = "release.test"
	// SuppressionLift: an admin lifted a suppression; Detail holds its
	// reason, source and email_hmac (a keyed hash, never the address).
	SuppressionLift Action = "suppression.lift"
	ReleaseResume   Action = "release.resume" // Detail: delivery_id
	// ReleaseArchive: a coordinator archived a release's deliveries at
	// once (retention); Detail: deliveries, the number archived.
	ReleaseArchive Action = "release.archive"
	// Telegram followers and channels via the bot (package tgbot): a
	// channel the bot was made admin of (pending), approved by a
	// coordinator, the bot removed from it, a group moved to a supergroup.
	ChannelFound   Action = "channel.found"   // actor "telegram"; Detail: chat_id, title
	ChannelApprove Action = "channel.approve" // Detail: chat_id
	ChannelRemoved Action = "channel.removed" // actor "telegram"; Detail: chat_id, reason
	ChannelMigrate Action = "channel.migrate" // actor "telegram"; Detail: from, to
)

// Release returns the id of the release an entry is about: the target of
// every "release." action, "" for the others. The log keeps an index of
// each release's entries by it.
func (e *Entry) Release() string {
	if strings.HasPrefix(string(e.Action), "release.") {
		return e.Target
	}
	return ""
}

// Entry is one recorded change.
type Entry struct {
	Seq    int64     `json:"seq"`
	At     time.Time `json:"at"`
	Actor  string    `json:"actor"`  // the token's name; "cli:<os user>" for the pregon command on the server
	Action Action    `json:"action"` // what was done
	Target string    `json:"target"` // the id of what it was done to
	// Version is the release's version when the target is a release (0:
	// none).
	Version int `json:"version,omitempty"`
	// Client is the address the request came from (past trusted proxies),
	// or "local" for the pregon command on the server.
	Client string `json:"client"`
	// Detail holds a few more facts (counts, a name, an email). Its values
	// are strings, numbers, booleans, or lists and objects of them.
	Detail   map[string]any `json:"detail,omitempty"`
	PrevHash string         `json:"prev_hash"`
	Hash     string         `json:"hash"`
}

// UnmarshalJSON decodes an entry with the numbers in Detail as json.Number,
// so that Canonical encodes them exactly as they were written (a float64
// would turn a large count into 1e+21, or drop digits).
func (e *Entry) UnmarshalJSON(b []byte) error {
	type plain Entry // without this method
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var p plain
	if err := dec.Decode(&p); err != nil {
		return err
	}
	*e = Entry(p)
	return nil
}

// canonical is the encoding hashed: every field but Hash, always present,
// in this order, the time in UTC to the millisecond.
type canonical struct {
	Seq      int64          `json:"seq"`
	At       string         `json:"at"`
	Actor    string         `json:"actor"`
	Action   Action         `json:"action"`
	Target   string         `json:"target"`
	Version  int            `json:"version"`
	Client   string         `json:"client"`
	Detail   map[string]any `json:"detail"`
	PrevHash string         `json:"prev_hash"`
}

// timeLayout is At in the canonical encoding.
const timeLayout = "2006-01-02T15:04:05.000Z"

// Canonical returns the bytes an entry's hash is computed over: the JSON
// object {"seq", "at", "actor", "action", "target", "version", "client",
// "detail", "prev_hash"} in that order, with "at" as
// 2006-01-02T15:04:05.000Z, "version" 0 when there is none, "detail" null
// when empty and its keys sorted (as encoding/json sorts map keys), and
// encoding/json's escaping of strings. It fails only for a Detail value
// JSON cannot hold.
func Canonical(e *Entry) ([]byte, error) {
	c := canonical{Seq: e.Seq, At: e.At.UTC().Format(timeLayout), Actor: e.Actor, Action: e.Action,
		Target: e.Target, Version: e.Version, Client: e.Client, Detail: e.Detail, PrevHash: e.PrevHash}
	if len(c.Detail) == 0 {
		c.Detail = nil // an empty detail is left out of the stored JSON, and reads back as nil
	}
	b, err := json.Marshal(c)
	if err != nil {
		return nil, fmt.Errorf("audit entry %d: encode: %w", e.Seq, err)
	}
	return b, nil
}

// Sum returns the hex SHA-256 of the entry's canonical encoding.
func Sum(e *Entry) (string, error) {
	b, err := Canonical(e)
	if err != nil {
		return "", err
	}
	h := sha256.Sum256(b)
	return hex.EncodeToString(h[:]), nil
}

// Head is the end of the chain: the last entry's number, hash and time
// (zero for an empty log).
type Head struct {
	Seq  int64     `json:"seq"`
	Hash string    `json:"hash"`
	At   time.Time `json:"at"`
}

// Next makes e the entry after head: it numbers it, links it to head,
// truncates its time to the millisecond in UTC, moved up to head's time if
// it is earlier, and sets its hash. Times therefore never go back along the
// chain (the clocks of several API processes may disagree a little), which
// lets a reader find the entries since a time by their numbers. It fails
// only for a Detail value JSON cannot hold.
func Next(head Head, e *Entry) error {
	e.Seq, e.PrevHash = head.Seq+1, head.Hash
	e.At = e.At.UTC().Truncate(time.Millisecond)
	if e.At.Before(head.At) {
		e.At = head.At.UTC()
	}
	sum, err := Sum(e)
	if err != nil {
		return err
	}
	e.Hash = sum
	return nil
}

// HeadOf returns the head of a chain that ends with e.
func HeadOf(e *Entry) Head { return Head{Seq: e.Seq, Hash: e.Hash, At: e.At} }
