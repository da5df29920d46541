package main

import (
	"bytes"
	"crypto/ed25519"
	"crypto/rand"
	"crypto/x509"
	"encoding/pem"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/internal/dnstest"
)

// TestDNSCheckCommand runs "pregon dns check" against a real DNS server:
// it names what is missing with the record to publish and fails, then
// passes once the records are published.
func TestDNSCheckCommand(t *testing.T) {
	_, key, _ := ed25519.GenerateKey(rand.Reader)
	der, _ := x509.MarshalPKCS8PrivateKey(key)
	file := filepath.Join(t.TempDir(), "dkim.pem")
	if err := os.WriteFile(file, pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"PREGON_FROM": "Prensa <prensa@rio-vivo.example>", "PREGON_DKIM_DOMAIN": "rio-vivo.example",
		"PREGON_DKIM_SELECTOR": "ed2026", "PREGON_DKIM_KEY_FILE": file}
	getenv := func(k string) string { return env[k] }
	dns := dnstest.Start(t)
	check := func() (int, string) {
		var out, errb bytes.Buffer
		code := run(t.Context(), []string{"dns", "check", "--server", dns.Addr()}, &out, &errb, getenv)
		return code, out.String() + errb.String()
	}

	code, out := check()
	want := `ed2026._domainkey.rio-vivo.example TXT "` + email.DKIMRecord(key) + `"`
	if code != 1 || !strings.Contains(out, "No SPF record at rio-vivo.example") || !strings.Contains(out, want) || !strings.Contains(out, "3 of the records") {
		t.Fatalf("nothing published: exit %d\n%s", code, out)
	}

	dns.SetTXT("rio-vivo.example", "v=spf1 include:_spf.mail.example ~all")
	dns.SetTXT("ed2026._domainkey.rio-vivo.example", email.DKIMRecord(key))
	dns.SetTXT("_dmarc.rio-vivo.example", "v=DMARC1; p=reject")
	if code, out := check(); code != 0 || strings.Count(out, "ok ") != 3 || strings.Contains(out, "publish:") {
		t.Fatalf("all published: exit %d\n%s", code, out)
	}

	var errb bytes.Buffer
	if code := run(t.Context(), []string{"dns"}, &bytes.Buffer{}, &errb, getenv); code != 2 || !strings.Contains(errb.String(), "usage: pregon dns check") {
		t.Errorf("pregon dns: exit %d, %q", code, errb.String())
	}
}
