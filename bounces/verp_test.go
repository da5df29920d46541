package bounces_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pregon/pregon/bounces"
)

const (
	rid = "rel_01jn0q5gkz8x3m4c7vdp2t9hw8"
	did = "9f86d081884c7d659a2feaa0"
)

var secret = []byte("0123456789abcdef-verp")

func TestVERPRoundTrip(t *testing.T) {
	v, err := bounces.NewVERP("Bounces@Example.org", secret)
	if err != nil {
		t.Fatal(err)
	}
	addr := v.EnvelopeSender(did + "." + rid + "@example.org")
	local, domain, _ := strings.Cut(addr, "@")
	if !strings.HasPrefix(local, "bounces+") || domain != "example.org" || len(local) > 64 {
		t.Fatalf("envelope sender %q", addr)
	}
	if strings.Trim(local[len("bounces+"):], "0123456789abcdefghjkmnpqrstvwxyz") != "" {
		t.Errorf("token of %q has characters outside lower-case base32", addr)
	}
	for _, in := range []string{addr, "<" + addr + ">", strings.ToUpper(addr)} {
		gotRID, prefix, m := v.Parse(in)
		if m != bounces.VERPValid || gotRID != rid || !strings.HasPrefix(did, prefix) || len(prefix) != bounces.VERPPrefixLen {
			t.Errorf("Parse(%q) = %s %s %v", in, gotRID, prefix, m)
		}
	}
	other, _ := bounces.NewVERP("bounces@example.org", []byte("another-secret-0123456789"))
	if _, _, m := other.Parse(addr); m != bounces.VERPForged {
		t.Errorf("a token made with another secret reads as %v", m)
	}
	for _, in := range []string{"bounces@example.org", "bounces+x@other.example", "ana@example.org", "bounces+abc@example.org"} {
		want := bounces.VERPNone
		if in == "bounces+abc@example.org" {
			want = bounces.VERPForged
		}
		if _, _, m := v.Parse(in); m != want {
			t.Errorf("Parse(%q) = %v, want %v", in, m, want)
		}
	}
	for _, id := range []string{"<abc@example.org>", did + ".rel_01jn0q5gkz8x3m4c7vdp2t9hwa@example.org"} {
		if got := v.EnvelopeSender(id); got != "bounces@example.org" {
			t.Errorf("envelope sender of %q, which is no delivery's = %q", id, got)
		}
	}
}

func TestNewVERPRefuses(t *testing.T) {
	for _, addr := range []string{"", "bounces", "Bounces <bounces@example.org>", "bounces+x@example.org",
		"a-very-long-bounce-local-part@example.org", "bounces@localhost"} {
		if _, err := bounces.NewVERP(addr, secret); !errors.Is(err, bounces.ErrBadBounceAddress) {
			t.Errorf("NewVERP(%q) = %v, want ErrBadBounceAddress", addr, err)
		}
	}
	if _, err := bounces.NewVERP("bounces@example.org", []byte("short")); err == nil {
		t.Error("a short secret was taken")
	}
}

func BenchmarkVERPEnvelopeSender(b *testing.B) {
	v, _ := bounces.NewVERP("bounces@example.org", secret)
	for b.Loop() {
		v.EnvelopeSender(did + "." + rid + "@example.org")
	}
}
