// Package links makes and checks the signed links Pregón puts in the messages
// it sends, such as the one-click unsubscribe link of every email.
//
// A link carries a token: the claims (purpose, email, release id, expiry) and
// an HMAC-SHA256 tag over them, in URL-safe base64 without padding. The key
// is derived from PREGON_SECRET, so anyone who knows the secret can make
// links and nobody else can; a link cannot be edited (say, to another email)
// or used after it expires. The claims are signed, not encrypted: the email
// address can be read from the token by whoever has the link, which is the
// person it was sent to.
package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"strings"
	"time"
)

// Errors returned by Parse (wrapped); check them with errors.Is.
var (
	// ErrMalformed is a token that is not one this package makes: bad
	// base64, too short or too long, or a payload that does not decode.
	ErrMalformed = errors.New("links: malformed token")
	// ErrBadSignature is a well-formed token whose tag does not match: it was
	// made with another secret, or changed after it was made.
	ErrBadSignature = errors.New("links: bad signature")
	// ErrExpired is a genuine token used after its expiry.
	ErrExpired = errors.New("links: token expired")
	// ErrWrongPurpose is a genuine token made for another purpose (Verify).
	ErrWrongPurpose = errors.New("links: token made for another purpose")
)

// PurposeUnsubscribe is the purpose of the one-click unsubscribe link.
const PurposeUnsubscribe = "unsubscribe"

// DefaultTTL is how long a link stays valid when New is given no TTL.
const DefaultTTL = 180 * 24 * time.Hour

// MinSecretLen is the shortest secret New accepts.
const MinSecretLen = 16

const (
	version    = 1
	tagLen     = 16   // HMAC-SHA256 truncated to 128 bits (NIST SP 800-107)
	maxTokenSz = 2048 // characters; longer tokens are refused before decoding
	maxField   = 512  // bytes in one claim field
)

// enc is unpadded URL-safe base64 that refuses non-zero padding bits, so
// that each token has exactly one spelling.
var enc = base64.RawURLEncoding.Strict()

// Claims is what a token says.
type Claims struct {
	Purpose   string
	Email     string
	ReleaseID string
	// Expires is when the token stops being valid, to the second.
	Expires time.Time
}

// Signer makes and checks tokens with one secret. It is safe for concurrent use.
type Signer struct {
	key       []byte
	emailKey  []byte // HashEmail's, derived from the secret apart from key
	publicURL string
	now       func() time.Time
	ttl       time.Duration
}

// New returns a Signer whose links start with publicURL (e.g.
// "https://prensa.example.org"; a trailing slash is dropped) and stay valid
// for ttl (0: DefaultTTL). now is the clock (nil: time.Now). It returns an
// error when the secret is shorter than MinSecretLen or publicURL is empty.
func New(secret []byte, publicURL string, now func() time.Time, ttl time.Duration) (*Signer, error) {
	if len(secret) < MinSecretLen {
		return nil, fmt.Errorf("links: the secret must be at least %d bytes", MinSecretLen)
	}
	if publicURL == "" {
		return nil, errors.New("links: no public URL")
	}
	if now == nil {
		now = time.Now
	}
	if ttl <= 0 {
		ttl = DefaultTTL
	}
	// Derive the links key, so that the secret itself signs nothing and
	// other uses of it later get keys of their own.
	m := hmac.New(sha256.New, secret)
	m.Write([]byte("pregon links v1"))
	e := hmac.New(sha256.New, secret)
	e.Write([]byte(emailKeyLabel))
	return &Signer{key: m.Sum(nil), emailKey: e.Sum(nil), publicURL: strings.TrimRight(publicURL, "/"), now: now, ttl: ttl}, nil
}

// emailKeyLabel derives HashEmail's key from the secret:
// HMAC-SHA256(secret, emailKeyLabel).
const emailKeyLabel = "pregon audit email v1"

// HashEmail returns a keyed hash of an email address, for records that must
// name an address without keeping it (the audit log, which is never edited,
// and so cannot forget an address that is erased): "hmac-sha256:" and the
// hex of HMAC-SHA256(k, email), where k is HMAC-SHA256(secret, "pregon
// audit email v1"). Whoever knows the secret can tell whether an entry is
// about a given address; nobody else can, nor guess addresses from it.
// The address is hashed as given: normalise it first.
func (s *Signer) HashEmail(email string) string {
	m := hmac.New(sha256.New, s.emailKey)
	m.Write([]byte(email))
	return "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
}

// UnsubscribeURL returns the one-click unsubscribe link for email, in a
// message of release releaseID: PUBLIC_URL/u/TOKEN, valid for the Signer's TTL.
func (s *Signer) UnsubscribeURL(email, releaseID string) string {
	tok := s.Sign(Claims{Purpose: PurposeUnsubscribe, Email: email, ReleaseID: releaseID, Expires: s.now().Add(s.ttl)})
	return s.publicURL + "/u/" + tok
}

// Sign returns the token for c. Expires is kept to the second; a time before
// 1970 is stored as 1970.
func (s *Signer) Sign(c Claims) string {
	var exp uint64
	if u := c.Expires.Unix(); u > 0 {
		exp = uint64(u)
	}
	b := make([]byte, 0, 1+3*binary.MaxVarintLen64+len(c.Purpose)+len(c.ReleaseID)+len(c.Email)+binary.MaxVarintLen64+tagLen)
	b = append(b, version)
	b = binary.AppendUvarint(b, exp)
	for _, f := range []string{c.Purpose, c.ReleaseID, c.Email} {
		b = binary.AppendUvarint(b, uint64(len(f)))
		b = append(b, f...)
	}
	b = append(b, s.tag(b)...)
	return enc.EncodeToString(b)
}

// Parse checks a token and returns its claims. It returns an error wrapping
// ErrMalformed, ErrBadSignature or ErrExpired; the claims of an expired token
// come with ErrExpired, the others with zero Claims.
func (s *Signer) Parse(token string) (Claims, error) {
	if len(token) > maxTokenSz {
		return Claims{}, fmt.Errorf("%w: too long", ErrMalformed)
	}
	// base64's decoder skips CR and LF; a token has one spelling, so only
	// the URL-safe alphabet is allowed.
	for i := 0; i < len(token); i++ {
		if c := token[i]; !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '-' || c == '_') {
			return Claims{}, fmt.Errorf("%w: character %q", ErrMalformed, c)
		}
	}
	b, err := enc.DecodeString(token)
	if err != nil {
		return Claims{}, fmt.Errorf("%w: %v", ErrMalformed, err)
	}
	if len(b) < 1+tagLen {
		return Claims{}, fmt.Errorf("%w: too short", ErrMalformed)
	}
	payload, tag := b[:len(b)-tagLen], b[len(b)-tagLen:]
	// The tag is checked before the payload is read, and in constant time.
	if !hmac.Equal(tag, s.tag(payload)) {
		return Claims{}, ErrBadSignature
	}
	c, err := decode(payload)
	if err != nil {
		return Claims{}, err
	}
	if !s.now().Before(c.Expires) {
		return c, fmt.Errorf("%w at %s", ErrExpired, c.Expires.UTC().Format(time.RFC3339))
	}
	return c, nil
}

// Verify is Parse for a token made for purpose: a genuine, unexpired token
// made for another purpose gives ErrWrongPurpose.
func (s *Signer) Verify(token, purpose string) (Claims, error) {
	c, err := s.Parse(token)
	if err == nil && c.Purpose != purpose {
		return Claims{}, fmt.Errorf("%w: %q, not %q", ErrWrongPurpose, c.Purpose, purpose)
	}
	return c, err
}

func (s *Signer) tag(payload []byte) []byte {
	m := hmac.New(sha256.New, s.key)
	m.Write(payload)
	return m.Sum(nil)[:tagLen]
}

// decode reads a payload Sign wrote. Only canonical encodings are accepted,
// so that a payload has one spelling.
func decode(b []byte) (Claims, error) {
	bad := func(what string) (Claims, error) { return Claims{}, fmt.Errorf("%w: %s", ErrMalformed, what) }
	if b[0] != version {
		return bad("unknown version")
	}
	b = b[1:]
	uvarint := func() (uint64, bool) {
		v, n := binary.Uvarint(b)
		if n <= 0 || n != len(binary.AppendUvarint(nil, v)) {
			return 0, false
		}
		b = b[n:]
		return v, true
	}
	exp, ok := uvarint()
	if !ok || exp > 1<<40 {
		return bad("expiry")
	}
	var fields [3]string
	for i := range fields {
		n, ok := uvarint()
		if !ok || n > maxField || n > uint64(len(b)) {
			return bad("field length")
		}
		fields[i], b = string(b[:n]), b[n:]
	}
	if len(b) != 0 {
		return bad("trailing bytes")
	}
	return Claims{Purpose: fields[0], ReleaseID: fields[1], Email: fields[2], Expires: time.Unix(int64(exp), 0).UTC()}, nil
}
