package email

import (
	"bytes"
	"crypto"
	"crypto/ed25519"
	"crypto/rsa"
	"crypto/x509"
	"encoding/base64"
	"encoding/pem"
	"errors"
	"fmt"
	"strings"

	"github.com/emersion/go-msgauth/dkim"
)

// ErrDKIMKey is returned (wrapped) by ParseDKIMKeys for a key file that
// cannot be used.
var ErrDKIMKey = errors.New("bad DKIM key file")

// DKIMHeaders are the header fields every DKIM signature covers. A field a
// message lacks is signed as absent, so that it cannot be added on the way.
var DKIMHeaders = []string{
	"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
	"Reply-To", "List-Id", "List-Unsubscribe", "List-Unsubscribe-Post",
}

// DKIM signs messages for one domain, with one signature per key (RSA and
// Ed25519 both: two signatures, RFC 8463).
type DKIM struct {
	// Domain is the signing domain (d=), whose DNS holds the public keys.
	Domain string
	// Keys are the private keys with their selectors.
	Keys []DKIMKey
}

// DKIMKey is one signing key.
type DKIMKey struct {
	// Selector is the DNS selector (s=): the public key is published at
	// SELECTOR._domainkey.DOMAIN, so two keys need two selectors.
	Selector string
	// Signer is the private key, RSA (at least 2048 bits) or Ed25519.
	Signer crypto.Signer
}

// ParseDKIMKeys reads the private keys from a PEM file: RSA in PKCS#1
// ("RSA PRIVATE KEY") or PKCS#8 ("PRIVATE KEY"), Ed25519 in PKCS#8; at most
// one of each kind. PUBLIC KEY blocks, when present, must each belong to one
// of the private keys. It returns an error wrapping ErrDKIMKey otherwise.
func ParseDKIMKeys(data []byte) ([]crypto.Signer, error) {
	var keys []crypto.Signer
	var publics []crypto.PublicKey
	var haveRSA, haveEd bool
	for n := 1; ; n++ {
		var block *pem.Block
		block, data = pem.Decode(data)
		if block == nil {
			break
		}
		switch block.Type {
		case "PUBLIC KEY":
			pub, err := x509.ParsePKIXPublicKey(block.Bytes)
			if err != nil {
				return nil, fmt.Errorf("%w: PEM block %d: %v", ErrDKIMKey, n, err)
			}
			publics = append(publics, pub)
			continue
		case "RSA PRIVATE KEY", "PRIVATE KEY":
		default:
			return nil, fmt.Errorf("%w: PEM block %d is a %q, want RSA PRIVATE KEY or PRIVATE KEY", ErrDKIMKey, n, block.Type)
		}
		var key any
		var err error
		if block.Type == "RSA PRIVATE KEY" {
			key, err = x509.ParsePKCS1PrivateKey(block.Bytes)
		} else {
			key, err = x509.ParsePKCS8PrivateKey(block.Bytes)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: PEM block %d: %v", ErrDKIMKey, n, err)
		}
		switch k := key.(type) {
		case *rsa.PrivateKey:
			if k.N.BitLen() < 2048 {
				return nil, fmt.Errorf("%w: the RSA key has %d bits, want at least 2048", ErrDKIMKey, k.N.BitLen())
			}
			if haveRSA {
				return nil, fmt.Errorf("%w: more than one RSA key", ErrDKIMKey)
			}
			haveRSA = true
			keys = append(keys, k)
		case ed25519.PrivateKey:
			if haveEd {
				return nil, fmt.Errorf("%w: more than one Ed25519 key", ErrDKIMKey)
			}
			haveEd = true
			keys = append(keys, k)
		default:
			return nil, fmt.Errorf("%w: PEM block %d is a %T key, want RSA or Ed25519", ErrDKIMKey, n, key)
		}
	}
	if len(keys) == 0 {
		return nil, fmt.Errorf("%w: no private key in PEM format", ErrDKIMKey)
	}
	for i, pub := range publics {
		if !matchesOne(pub, keys) {
			return nil, fmt.Errorf("%w: public key %d matches none of the private keys", ErrDKIMKey, i+1)
		}
	}
	return keys, nil
}

func matchesOne(pub crypto.PublicKey, keys []crypto.Signer) bool {
	type equaler interface{ Equal(crypto.PublicKey) bool }
	for _, k := range keys {
		if e, ok := k.Public().(equaler); ok && e.Equal(pub) {
			return true
		}
	}
	return false
}

// Check validates d: a domain and selector of DNS labels, and keys that
// sign a message that verifies with their public keys.
func (d *DKIM) Check() error {
	if !dnsName(d.Domain) {
		return fmt.Errorf("DKIM domain %q is not a domain name", d.Domain)
	}
	if len(d.Keys) == 0 {
		return errors.New("no DKIM key")
	}
	seen := map[string]bool{}
	for _, k := range d.Keys {
		if !dnsName(k.Selector) {
			return fmt.Errorf("DKIM selector %q is not a DNS name", k.Selector)
		}
		if seen[strings.ToLower(k.Selector)] {
			return fmt.Errorf("two DKIM keys share the selector %q: each key needs its own DNS record", k.Selector)
		}
		seen[strings.ToLower(k.Selector)] = true
	}
	msg := []byte("From: check@" + d.Domain + "\r\nSubject: check\r\n\r\ncheck\r\n")
	sigs, err := d.sign(msg)
	if err != nil {
		return err
	}
	for i, key := range d.Keys {
		lookup := func(string) ([]string, error) { return []string{txtRecord(key.Signer.Public())}, nil }
		vs, err := dkim.VerifyWithOptions(bytes.NewReader(append([]byte(sigs[i]), msg...)),
			&dkim.VerifyOptions{LookupTXT: lookup})
		if err != nil || len(vs) != 1 || vs[0].Err != nil {
			return fmt.Errorf("DKIM key %d does not verify its own signature: %v", i+1, errors.Join(err, firstErr(vs)))
		}
	}
	return nil
}

func firstErr(vs []*dkim.Verification) error {
	for _, v := range vs {
		if v.Err != nil {
			return v.Err
		}
	}
	return nil
}

// sign returns one DKIM-Signature header field (with its CRLF) per key,
// computed over msg, a whole message with CRLF line ends.
func (d *DKIM) sign(msg []byte) ([]string, error) {
	sigs := make([]string, len(d.Keys))
	for i, key := range d.Keys {
		s, err := dkim.NewSigner(&dkim.SignOptions{
			Domain: d.Domain, Selector: key.Selector, Signer: key.Signer, Hash: crypto.SHA256,
			HeaderCanonicalization: dkim.CanonicalizationRelaxed,
			BodyCanonicalization:   dkim.CanonicalizationRelaxed,
			HeaderKeys:             DKIMHeaders,
		})
		if err != nil {
			return nil, fmt.Errorf("dkim: %w", err)
		}
		if _, err := s.Write(msg); err != nil {
			s.Close()
			return nil, fmt.Errorf("dkim: %w", err)
		}
		if err := s.Close(); err != nil {
			return nil, fmt.Errorf("dkim: %w", err)
		}
		sigs[i] = s.Signature()
	}
	return sigs, nil
}

// DKIMRecord returns the DNS TXT record that publishes key's public half
// ("v=DKIM1; k=rsa; p=..."), for SELECTOR._domainkey.DOMAIN.
func DKIMRecord(key crypto.Signer) string { return txtRecord(key.Public()) }

func txtRecord(pub crypto.PublicKey) string {
	switch k := pub.(type) {
	case ed25519.PublicKey:
		return "v=DKIM1; k=ed25519; p=" + base64.StdEncoding.EncodeToString(k)
	case *rsa.PublicKey:
		der, _ := x509.MarshalPKIXPublicKey(k)
		return "v=DKIM1; k=rsa; p=" + base64.StdEncoding.EncodeToString(der)
	}
	return ""
}

// Aligned reports whether a From address in fromDomain is aligned with the
// DKIM domain d under DMARC's relaxed alignment: the same domain, or
// fromDomain a subdomain of d.
func Aligned(fromDomain, d string) bool {
	f, d := strings.ToLower(strings.TrimSuffix(fromDomain, ".")), strings.ToLower(strings.TrimSuffix(d, "."))
	return f == d || strings.HasSuffix(f, "."+d)
}

// dnsName reports whether s is a dot-separated name of DNS labels (letters,
// digits, '-' and '_', 1 to 63 characters each).
func dnsName(s string) bool {
	if s == "" || len(s) > 253 {
		return false
	}
	for label := range strings.SplitSeq(s, ".") {
		if label == "" || len(label) > 63 || strings.HasPrefix(label, "-") || strings.HasSuffix(label, "-") {
			return false
		}
		for _, r := range label {
			if !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' || r == '-' || r == '_') {
				return false
			}
		}
	}
	return true
}
