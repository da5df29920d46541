package email_test

import (
	"bytes"
	"context"
	"crypto"
	"crypto/ecdsa"
	"crypto/ed25519"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/emersion/go-msgauth/dkim"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/internal/smtptest"
)

// testKeys are generated once: RSA-2048 takes a while.
var testKeys = sync.OnceValues(func() (*rsa.PrivateKey, ed25519.PrivateKey) {
	r, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		panic(err)
	}
	_, e, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		panic(err)
	}
	return r, e
})

func pemBlock(typ string, der []byte) []byte {
	return pem.EncodeToMemory(&pem.Block{Type: typ, Bytes: der})
}

func pkcs8(t testing.TB, key any) []byte {
	t.Helper()
	der, err := x509.MarshalPKCS8PrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PRIVATE KEY", der)
}

func pkix(t testing.TB, key crypto.PublicKey) []byte {
	t.Helper()
	der, err := x509.MarshalPKIXPublicKey(key)
	if err != nil {
		t.Fatal(err)
	}
	return pemBlock("PUBLIC KEY", der)
}

// dkimConfig returns DKIM settings for rio-vivo.example with the kinds of
// keys named ("rsa", "ed25519"), each under the selector of its name, and
// the DNS records that publish them.
func dkimConfig(t testing.TB, kinds ...string) (*email.DKIM, map[string]string) {
	t.Helper()
	rsaKey, edKey := testKeys()
	d := &email.DKIM{Domain: "rio-vivo.example"}
	dns := map[string]string{}
	for _, k := range kinds {
		var s crypto.Signer = rsaKey
		if k == "ed25519" {
			s = edKey
		}
		d.Keys = append(d.Keys, email.DKIMKey{Selector: k, Signer: s})
		dns[k+"._domainkey.rio-vivo.example"] = email.DKIMRecord(s)
	}
	return d, dns
}

// verify checks every DKIM signature of msg against dns and returns the
// selectors that verified.
func verify(t testing.TB, msg []byte, dns map[string]string) []string {
	t.Helper()
	vs, err := dkim.VerifyWithOptions(bytes.NewReader(msg), &dkim.VerifyOptions{
		LookupTXT: func(name string) ([]string, error) {
			if r, ok := dns[name]; ok {
				return []string{r}, nil
			}
			return nil, fmt.Errorf("no TXT record at %s", name)
		},
	})
	if err != nil {
		t.Fatalf("dkim.Verify: %v", err)
	}
	var ok []string
	for _, v := range vs {
		if v.Err != nil {
			t.Errorf("signature s=? d=%s: %v", v.Domain, v.Err)
			continue
		}
		for _, h := range []string{"From", "To", "Subject", "Date", "Message-ID", "MIME-Version", "Content-Type",
			"List-Id", "List-Unsubscribe", "List-Unsubscribe-Post"} {
			if !slices.ContainsFunc(v.HeaderKeys, func(k string) bool { return strings.EqualFold(k, h) }) {
				t.Errorf("signature does not cover %s: h=%v", h, v.HeaderKeys)
			}
		}
		ok = append(ok, v.Domain)
	}
	return ok
}

// The bytes the SMTP server received verify, with one signature per key.
func TestDKIMSignaturesVerify(t *testing.T) {
	for _, kinds := range [][]string{{"rsa"}, {"ed25519"}, {"rsa", "ed25519"}} {
		t.Run(strings.Join(kinds, "+"), func(t *testing.T) {
			d, dns := dkimConfig(t, kinds...)
			srv := smtptest.Start(t)
			c := newChannel(t, serverURL(srv), func(cfg *email.Config) { cfg.DKIM = d })
			if _, err := c.SendEmail(context.Background(), statement("ana@example.org")); err != nil {
				t.Fatal(err)
			}
			got := srv.WaitFor(t, 1, wait)
			if n := bytes.Count(got[0].Data, []byte("DKIM-Signature:")); n != len(kinds) {
				t.Errorf("%d DKIM-Signature fields, want %d", n, len(kinds))
			}
			if ok := verify(t, got[0].Data, dns); len(ok) != len(kinds) {
				t.Errorf("%d signatures verified, want %d", len(ok), len(kinds))
			}
		})
	}
}

// Messages signed at the same time by one Composer all verify, with every
// header present and long (go-mail v0.8.1's own signer broke in relaxed
// canonicalisation once its h= list was folded, and raced on first use).
func TestDKIMConcurrentSigning(t *testing.T) {
	d, dns := dkimConfig(t, "rsa", "ed25519")
	comp, err := email.NewComposer(email.ComposeConfig{From: from, DKIM: d})
	if err != nil {
		t.Fatal(err)
	}
	const n = 16
	var wg sync.WaitGroup
	datas := make([][]byte, n)
	errs := make([]error, n)
	for i := range n {
		wg.Go(func() {
			m := statement(fmt.Sprintf("ana%d@example.org", i))
			m.To.Name = "=?utf-8?q?Ana?= " + strings.Repeat("Pérez ", 12)
			m.Content.Subject = strings.Repeat("Un asunto largo con acentos — ", 6)
			m.Headers["List-Id"] = "Prensa <prensa.rio-vivo.example>"
			m.UnsubscribeURL = fmt.Sprintf("https://pregon.example/u/%d", i)
			var buf bytes.Buffer
			r, err := comp.Compose(m, time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC), &buf)
			datas[i], errs[i] = r.Data, err
		})
	}
	wg.Wait()
	for i := range n {
		if errs[i] != nil {
			t.Fatal(errs[i])
		}
		if ok := verify(t, datas[i], dns); len(ok) != 2 {
			t.Errorf("message %d: %d signatures verified, want 2", i, len(ok))
		}
	}
}

func TestParseDKIMKeys(t *testing.T) {
	rsaKey, edKey := testKeys()
	small, err := rsa.GenerateKey(rand.Reader, 1024)
	if err != nil {
		t.Fatal(err)
	}
	ec, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	_, otherEd, _ := ed25519.GenerateKey(rand.Reader)
	pkcs1 := pemBlock("RSA PRIVATE KEY", x509.MarshalPKCS1PrivateKey(rsaKey))
	cat := func(bs ...[]byte) []byte { return bytes.Join(bs, nil) }
	tests := []struct {
		name  string
		data  []byte
		kinds []string // "" when it must fail
	}{
		{"RSA PKCS#1", pkcs1, []string{"rsa"}},
		{"RSA PKCS#8", pkcs8(t, rsaKey), []string{"rsa"}},
		{"Ed25519 PKCS#8", pkcs8(t, edKey), []string{"ed25519"}},
		{"both", cat(pkcs1, pkcs8(t, edKey)), []string{"rsa", "ed25519"}},
		{"with matching public keys", cat(pkcs8(t, edKey), pkix(t, edKey.Public()), pkcs1, pkix(t, rsaKey.Public())), []string{"ed25519", "rsa"}},
		{"empty", nil, nil},
		{"not PEM", []byte("hello"), nil},
		{"RSA-1024", pkcs8(t, small), nil},
		{"ECDSA", pkcs8(t, ec), nil},
		{"two RSA keys", cat(pkcs1, pkcs8(t, rsaKey)), nil},
		{"public key of another key", cat(pkcs8(t, edKey), pkix(t, otherEd.Public())), nil},
		{"certificate", pemBlock("CERTIFICATE", []byte{1, 2, 3}), nil},
		{"broken PKCS#8", pemBlock("PRIVATE KEY", []byte{1, 2, 3}), nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			keys, err := email.ParseDKIMKeys(tt.data)
			if tt.kinds == nil {
				if !errors.Is(err, email.ErrDKIMKey) {
					t.Fatalf("err = %v, want ErrDKIMKey", err)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			var got []string
			for _, k := range keys {
				switch k.(type) {
				case *rsa.PrivateKey:
					got = append(got, "rsa")
				case ed25519.PrivateKey:
					got = append(got, "ed25519")
				}
			}
			if !slices.Equal(got, tt.kinds) {
				t.Errorf("keys %v, want %v", got, tt.kinds)
			}
		})
	}
}

func TestNewComposerRejectsBadDKIM(t *testing.T) {
	rsaKey, edKey := testKeys()
	tests := []struct {
		name string
		d    *email.DKIM
	}{
		{"no keys", &email.DKIM{Domain: "rio-vivo.example"}},
		{"bad domain", &email.DKIM{Domain: "rio vivo", Keys: []email.DKIMKey{{Selector: "s1", Signer: edKey}}}},
		{"bad selector", &email.DKIM{Domain: "rio-vivo.example", Keys: []email.DKIMKey{{Selector: "s 1", Signer: edKey}}}},
		{"one selector for two keys", &email.DKIM{Domain: "rio-vivo.example",
			Keys: []email.DKIMKey{{Selector: "s1", Signer: edKey}, {Selector: "s1", Signer: rsaKey}}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := email.NewComposer(email.ComposeConfig{From: from, DKIM: tt.d}); err == nil {
				t.Error("no error")
			} else {
				t.Log(err)
			}
		})
	}
}

func TestAligned(t *testing.T) {
	tests := []struct {
		from, d string
		want    bool
	}{
		{"rio-vivo.example", "rio-vivo.example", true},
		{"News.Rio-Vivo.example", "rio-vivo.example", true},
		{"rio-vivo.example", "news.rio-vivo.example", false},
		{"evil-rio-vivo.example", "rio-vivo.example", false},
		{"other.example", "rio-vivo.example", false},
	}
	for _, tt := range tests {
		if got := email.Aligned(tt.from, tt.d); got != tt.want {
			t.Errorf("Aligned(%q, %q) = %v, want %v", tt.from, tt.d, got, tt.want)
		}
	}
}

// BenchmarkCompose renders one message per op, unsigned and signed.
func BenchmarkCompose(b *testing.B) {
	for _, kinds := range [][]string{nil, {"rsa"}, {"ed25519"}, {"rsa", "ed25519"}} {
		name := "off"
		if kinds != nil {
			name = strings.Join(kinds, "+")
		}
		b.Run(name, func(b *testing.B) {
			var d *email.DKIM
			if kinds != nil {
				d, _ = dkimConfig(b, kinds...)
			}
			comp, err := email.NewComposer(email.ComposeConfig{From: from, DKIM: d})
			if err != nil {
				b.Fatal(err)
			}
			m := statement("ana@example.org")
			m.UnsubscribeURL = "https://pregon.example/u/abc"
			date := time.Date(2026, 3, 3, 10, 0, 0, 0, time.UTC)
			var buf bytes.Buffer
			b.ReportAllocs()
			for b.Loop() {
				if _, err := comp.Compose(m, date, &buf); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
