package email_test

import (
	"crypto/ed25519"
	"crypto/rand"
	"crypto/rsa"
	"maps"
	"strings"
	"testing"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/internal/dnstest"
)

func levels(cs []email.DNSCheck) map[string]email.DNSLevel {
	out := map[string]email.DNSLevel{}
	for _, c := range cs {
		out[c.Name] = c.Level
	}
	return out
}

func TestCheckDNS(t *testing.T) {
	rk, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	_, ek, err := ed25519.GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	dkim := &email.DKIM{Domain: "rio-vivo.example", Keys: []email.DKIMKey{{Selector: "rsa2026", Signer: rk}, {Selector: "ed2026", Signer: ek}}}
	s := dnstest.Start(t)
	r := s.Resolver()
	ctx := t.Context()

	// Nothing published: each record is missing, with what to publish.
	got := email.CheckDNS(ctx, r, "rio-vivo.example", dkim)
	want := map[string]email.DNSLevel{"spf": email.DNSMissing, "dkim rsa2026": email.DNSMissing, "dkim ed2026": email.DNSMissing, "dmarc": email.DNSMissing}
	if l := levels(got); !maps.Equal(l, want) {
		t.Fatalf("nothing published: levels %v, want %v", l, want)
	}
	for _, c := range got {
		if c.Name == "dkim rsa2026" && (c.RecordName != "rsa2026._domainkey.rio-vivo.example" || c.RecordValue != email.DKIMRecord(rk)) {
			t.Errorf("dkim rsa2026 says to publish %s = %q", c.RecordName, c.RecordValue)
		}
	}

	// Everything right (the RSA key comes split in 255-byte strings).
	s.SetTXT("rio-vivo.example", "google-site-verification=abc", "v=spf1 include:_spf.mail.example -all")
	s.SetTXT("rsa2026._domainkey.rio-vivo.example", email.DKIMRecord(rk))
	s.SetTXT("ed2026._domainkey.rio-vivo.example", strings.ReplaceAll(email.DKIMRecord(ek), "; ", ";  "))
	s.SetTXT("_dmarc.rio-vivo.example", "v=DMARC1; p=quarantine; rua=mailto:dmarc@rio-vivo.example")
	got = email.CheckDNS(ctx, r, "rio-vivo.example", dkim)
	want = map[string]email.DNSLevel{"spf": email.DNSOK, "dkim rsa2026": email.DNSOK, "dkim ed2026": email.DNSOK, "dmarc": email.DNSOK}
	if l := levels(got); !maps.Equal(l, want) {
		t.Fatalf("all published: %+v", got)
	}

	// Weak or wrong records.
	other, _ := rsa.GenerateKey(rand.Reader, 2048)
	s.SetTXT("rio-vivo.example", "v=spf1 a mx +all")
	s.SetTXT("rsa2026._domainkey.rio-vivo.example", email.DKIMRecord(other))
	s.SetTXT("ed2026._domainkey.rio-vivo.example", "v=DKIM1; k=ed25519; p=")
	s.SetTXT("_dmarc.rio-vivo.example", "v=DMARC1; p=none")
	got = email.CheckDNS(ctx, r, "rio-vivo.example", dkim)
	want = map[string]email.DNSLevel{"spf": email.DNSWarning, "dkim rsa2026": email.DNSMissing, "dkim ed2026": email.DNSMissing, "dmarc": email.DNSWarning}
	if l := levels(got); !maps.Equal(l, want) {
		t.Fatalf("weak records: %+v", got)
	}
	for _, c := range got {
		if c.Name == "dkim rsa2026" && !strings.Contains(c.Message, "not the public half") ||
			c.Name == "dkim ed2026" && !strings.Contains(c.Message, "revoked") {
			t.Errorf("%s: %q", c.Name, c.Message)
		}
	}

	// Two SPF records are an error; a subdomain takes its parent's DMARC
	// policy (sp= when given); signing off is a warning.
	s.SetTXT("news.rio-vivo.example", "v=spf1 -all", "v=spf1 include:x.example ~all")
	s.SetTXT("_dmarc.rio-vivo.example", "v=DMARC1; p=none; sp=reject")
	got = email.CheckDNS(ctx, r, "news.rio-vivo.example", nil)
	want = map[string]email.DNSLevel{"spf": email.DNSMissing, "dkim": email.DNSWarning, "dmarc": email.DNSOK}
	if l := levels(got); !maps.Equal(l, want) {
		t.Fatalf("subdomain: %+v", got)
	}

	// A server failure is said as such, not taken for a missing record.
	s.ServFail("rio-vivo.example")
	got = email.CheckDNS(ctx, r, "rio-vivo.example", dkim)
	if got[0].Name != "spf" || got[0].Level != email.DNSMissing || !strings.Contains(got[0].Message, "Could not look up") {
		t.Errorf("SERVFAIL: %+v", got[0])
	}
}
