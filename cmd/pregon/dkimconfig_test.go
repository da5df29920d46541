package main

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestConfigDKIM checks that DKIM settings that cannot sign aligned,
// verifiable mail stop the start with a message naming the variable.
func TestConfigDKIM(t *testing.T) {
	dir := t.TempDir()
	write := func(name string, blocks ...*pem.Block) string {
		var b []byte
		for _, bl := range blocks {
			b = append(b, pem.EncodeToMemory(bl)...)
		}
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, b, 0o600); err != nil {
			t.Fatal(err)
		}
		return p
	}
	rsaKey, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, edKey, _ := ed25519.GenerateKey(rand.Reader)
	otherPub, _, _ := ed25519.GenerateKey(rand.Reader)
	edDER, _ := x509.MarshalPKCS8PrivateKey(edKey)
	otherDER, _ := x509.MarshalPKIXPublicKey(otherPub)
	rsaFile := write("rsa.pem", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)})
	bothFile := write("both.pem", &pem.Block{Type: "RSA PRIVATE KEY", Bytes: x509.MarshalPKCS1PrivateKey(rsaKey)},
		&pem.Block{Type: "PRIVATE KEY", Bytes: edDER})
	mismatch := write("mismatch.pem", &pem.Block{Type: "PRIVATE KEY", Bytes: edDER}, &pem.Block{Type: "PUBLIC KEY", Bytes: otherDER})
	garbage := filepath.Join(dir, "garbage.pem")
	os.WriteFile(garbage, []byte("not a key"), 0o600)

	tests := []struct {
		name    string
		vars    map[string]string
		keys    int    // keys loaded when it starts
		errWith string // "" when it starts
	}{
		{"off", map[string]string{}, 0, ""},
		{"rsa", map[string]string{"PREGON_DKIM_DOMAIN": "rio-vivo.example", "PREGON_DKIM_SELECTOR": "s1", "PREGON_DKIM_KEY_FILE": rsaFile}, 1, ""},
		{"both", map[string]string{"PREGON_DKIM_DOMAIN": "rio-vivo.example", "PREGON_DKIM_SELECTOR": "r1,e1", "PREGON_DKIM_KEY_FILE": bothFile}, 2, ""},
		{"both with one selector", map[string]string{"PREGON_DKIM_DOMAIN": "rio-vivo.example", "PREGON_DKIM_SELECTOR": "s1", "PREGON_DKIM_KEY_FILE": bothFile}, 0, "PREGON_DKIM_SELECTOR"},
		{"no selector", map[string]string{"PREGON_DKIM_DOMAIN": "rio-vivo.example", "PREGON_DKIM_KEY_FILE": rsaFile}, 0, "PREGON_DKIM_SELECTOR"},
		{"no such file", map[string]string{"PREGON_DKIM_DOMAIN": "rio-vivo.example", "PREGON_DKIM_SELECTOR": "s1", "PREGON_DKIM_KEY_FILE": filepath.Join(dir, "nope.pem")}, 0, "PREGON_DKIM_KEY_FILE"},
		{"bad key file", map[string]string{"PREGON_DKIM_DOMAIN": "rio-vivo.example", "PREGON_DKIM_SELECTOR": "s1", "PREGON_DKIM_KEY_FILE": garbage}, 0, "PREGON_DKIM_KEY_FILE"},
		{"public key does not match", map[string]string{"PREGON_DKIM_DOMAIN": "rio-vivo.example", "PREGON_DKIM_SELECTOR": "s1", "PREGON_DKIM_KEY_FILE": mismatch}, 0, "matches none"},
		{"misaligned", map[string]string{"PREGON_DKIM_DOMAIN": "other.example", "PREGON_DKIM_SELECTOR": "s1", "PREGON_DKIM_KEY_FILE": rsaFile}, 0, "PREGON_DKIM_ALLOW_MISALIGNED"},
		{"misaligned allowed", map[string]string{"PREGON_DKIM_DOMAIN": "other.example", "PREGON_DKIM_SELECTOR": "s1", "PREGON_DKIM_KEY_FILE": rsaFile, "PREGON_DKIM_ALLOW_MISALIGNED": "true"}, 1, ""},
		{"parent domain", map[string]string{"PREGON_FROM": "Prensa <prensa@news.rio-vivo.example>", "PREGON_DKIM_DOMAIN": "rio-vivo.example", "PREGON_DKIM_SELECTOR": "s1", "PREGON_DKIM_KEY_FILE": rsaFile}, 1, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if tt.vars["PREGON_FROM"] == "" {
				tt.vars["PREGON_FROM"] = "Prensa <prensa@rio-vivo.example>"
			}
			c, err := loadConfig(env(tt.vars))
			if tt.errWith != "" {
				if err == nil || !strings.Contains(err.Error(), tt.errWith) {
					t.Fatalf("error %v, want one with %q", err, tt.errWith)
				}
				t.Log(err)
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			got := 0
			if c.DKIM != nil {
				got = len(c.DKIM.Keys)
			}
			if got != tt.keys {
				t.Errorf("%d keys, want %d", got, tt.keys)
			}
		})
	}
}
