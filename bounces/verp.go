package bounces

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"net/mail"
	"strings"
	"sync"

	"github.com/pregon/pregon/dispatcher"
)

// The VERP token of a delivery, in a bounce address local+TOKEN@domain: in
// lower-case Crockford base32 (letters and digits, so it survives servers
// that fold the case of local parts), 30 bytes made of
//
//	the release id's 16 bytes | the delivery id's first 6 bytes | MAC's first 8 bytes
//
// where MAC is HMAC-SHA256, under a key derived from PREGON_SECRET, of the
// first 22 bytes. 48 characters: with a local part of up to 15 characters
// the address keeps within the 64 characters RFC 5321 allows a local part.
// The delivery is found by its id's prefix among its release's deliveries.
const (
	verpRelease   = 16
	verpDelivery  = 6
	verpMAC       = 8
	verpTokenLen  = (verpRelease + verpDelivery + verpMAC) * 8 / 5
	maxLocalPart  = 64
	verpKeyDomain = "pregon verp v1"
)

// VERPPrefixLen is the length of the delivery id prefix a VERP token holds,
// in hex digits.
const VERPPrefixLen = verpDelivery * 2

var verpB32 = base32.NewEncoding("0123456789abcdefghjkmnpqrstvwxyz").WithPadding(base32.NoPadding)

// ErrBadBounceAddress is wrapped by NewVERP's errors.
var ErrBadBounceAddress = errors.New("bad bounce address")

// VERP makes and reads the envelope senders that name a delivery
// (variable envelope return path): bounces+TOKEN@example.org for the bounce
// address bounces@example.org. It is safe for concurrent use.
type VERP struct {
	local, domain string
	macs          sync.Pool // keyed HMAC-SHA256 states (hash.Hash), reset before use
}

// NewVERP returns the VERP of the bounce address addr (a bare address, such
// as bounces@example.org), authenticated with a key derived from secret. It
// returns an error wrapping ErrBadBounceAddress for an address that is not
// one bare address, whose local part already has a '+', or is too long to
// take a token; and an error for a secret shorter than 16 bytes.
func NewVERP(addr string, secret []byte) (*VERP, error) {
	if len(secret) < 16 {
		return nil, errors.New("bounce address: the secret must be at least 16 bytes (PREGON_SECRET)")
	}
	a, err := mail.ParseAddress(addr)
	if err != nil || a.Name != "" || a.Address != strings.TrimSpace(addr) {
		return nil, fmt.Errorf("%w: want a bare address such as bounces@example.org, got %q", ErrBadBounceAddress, addr)
	}
	local, domain, _ := strings.Cut(strings.ToLower(a.Address), "@")
	switch {
	case local == "" || domain == "" || !strings.Contains(domain, "."):
		return nil, fmt.Errorf("%w: %q has no domain of its own", ErrBadBounceAddress, addr)
	case strings.ContainsAny(local, "+\"\\ "):
		return nil, fmt.Errorf("%w: the local part of %q must be a plain word without '+' (Pregón adds +TOKEN)", ErrBadBounceAddress, addr)
	case len(local)+1+verpTokenLen > maxLocalPart:
		return nil, fmt.Errorf("%w: the local part of %q is longer than %d characters, and with +TOKEN would pass the 64 that SMTP allows",
			ErrBadBounceAddress, addr, maxLocalPart-1-verpTokenLen)
	}
	m := hmac.New(sha256.New, secret)
	m.Write([]byte(verpKeyDomain))
	key := m.Sum(nil)
	v := &VERP{local: local, domain: domain}
	v.macs.New = func() any { return hmac.New(sha256.New, key) }
	return v, nil
}

// Address returns the bounce address plain, without a token.
func (v *VERP) Address() string { return v.local + "@" + v.domain }

// EnvelopeSender returns the envelope sender of the message whose
// Message-ID is messageID: the bounce address with the token of the
// delivery the Message-ID names (see dispatcher.ParseMessageID), or the
// plain bounce address for any other message.
func (v *VERP) EnvelopeSender(messageID string) string {
	rid, did, ok := dispatcher.ParseMessageID(messageID)
	if !ok {
		return v.Address()
	}
	tok, ok := v.token(rid, did)
	if !ok {
		return v.Address()
	}
	return v.local + "+" + tok + "@" + v.domain
}

// token returns the VERP token of delivery did of release rid, and false
// for ids that are not Pregón's.
func (v *VERP) token(rid, did string) (string, bool) {
	var b [verpRelease + verpDelivery + verpMAC]byte
	id, ok := strings.CutPrefix(rid, "rel_")
	if !ok || len(id) != 26 {
		return "", false
	}
	n, err := verpB32.Decode(b[:verpRelease+1], []byte(id)) // 26 characters carry 16 bytes and 2 zero bits
	if err != nil || n != verpRelease || verpB32.EncodeToString(b[:verpRelease]) != id {
		return "", false // not one of store's ids, whose last 2 bits are zero
	}
	if len(did) < VERPPrefixLen {
		return "", false
	}
	if _, err := hex.Decode(b[verpRelease:verpRelease+verpDelivery], []byte(did[:VERPPrefixLen])); err != nil {
		return "", false
	}
	copy(b[verpRelease+verpDelivery:], v.mac(b[:verpRelease+verpDelivery]))
	return verpB32.EncodeToString(b[:]), true
}

func (v *VERP) mac(data []byte) []byte {
	m := v.macs.Get().(hash.Hash)
	defer v.macs.Put(m)
	m.Reset()
	m.Write(data)
	var sum [sha256.Size]byte
	return m.Sum(sum[:0])[:verpMAC]
}

// VERPMatch is what a bounce address says of the delivery it names.
type VERPMatch int

// VERP matches. VERPForged is a bounce address with a token whose MAC is
// wrong: not made by Pregón (or with another secret).
const (
	VERPNone VERPMatch = iota
	VERPValid
	VERPForged
)

// Parse reads addr (with or without angle brackets): when it is the bounce
// address with a token whose MAC is right, it returns the release id and
// the prefix of the delivery id (VERPPrefixLen hex digits) and VERPValid;
// VERPForged when the token is wrong; VERPNone when addr is not the bounce
// address with a token.
func (v *VERP) Parse(addr string) (releaseID, deliveryPrefix string, m VERPMatch) {
	addr = strings.ToLower(strings.TrimSuffix(strings.TrimPrefix(strings.TrimSpace(addr), "<"), ">"))
	at := strings.LastIndexByte(addr, '@')
	if at < 0 || addr[at+1:] != v.domain {
		return "", "", VERPNone
	}
	tok, ok := strings.CutPrefix(addr[:at], v.local+"+")
	if !ok {
		return "", "", VERPNone
	}
	var b [verpRelease + verpDelivery + verpMAC]byte
	if len(tok) != verpTokenLen {
		return "", "", VERPForged
	}
	if n, err := verpB32.Decode(b[:], []byte(tok)); err != nil || n != len(b) {
		return "", "", VERPForged
	}
	if !hmac.Equal(v.mac(b[:verpRelease+verpDelivery]), b[verpRelease+verpDelivery:]) {
		return "", "", VERPForged
	}
	return "rel_" + verpB32.EncodeToString(b[:verpRelease]), hex.EncodeToString(b[verpRelease : verpRelease+verpDelivery]), VERPValid
}
