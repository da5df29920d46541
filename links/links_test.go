package links

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var (
	secret = []byte("test-secret-0123456789abcdef")
	t0     = time.Date(2026, 3, 12, 9, 0, 0, 0, time.UTC)
)

// clock is a settable clock.
type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func newSigner(t testing.TB, key []byte, c *clock) *Signer {
	t.Helper()
	s, err := New(key, "https://prensa.example.org/", c.now, 0)
	if err != nil {
		t.Fatal(err)
	}
	return s
}

func TestUnsubscribeURLRoundTrip(t *testing.T) {
	c := &clock{t0}
	s := newSigner(t, secret, c)
	u := s.UnsubscribeURL("ana@example.org", "rel_06h1jqe83k30pb41d3d5knfkwc")
	tok, ok := strings.CutPrefix(u, "https://prensa.example.org/u/")
	if !ok {
		t.Fatalf("URL %q does not start with the public URL and /u/", u)
	}
	if strings.ContainsAny(tok, "+/=%?#&") {
		t.Errorf("token %q is not URL-safe base64", tok)
	}
	if len(tok) > 120 {
		t.Errorf("token is %d characters long, want a compact one", len(tok))
	}
	got, err := s.Verify(tok, PurposeUnsubscribe)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Purpose: PurposeUnsubscribe, Email: "ana@example.org", ReleaseID: "rel_06h1jqe83k30pb41d3d5knfkwc",
		Expires: t0.Add(DefaultTTL)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	// Still valid a second before expiry, not at it.
	c.t = t0.Add(DefaultTTL - time.Second)
	if _, err := s.Parse(tok); err != nil {
		t.Errorf("a second before expiry: %v", err)
	}
	c.t = t0.Add(DefaultTTL)
	if _, err := s.Parse(tok); !errors.Is(err, ErrExpired) {
		t.Errorf("at expiry: err = %v, want ErrExpired", err)
	}
}

func TestParseRefuses(t *testing.T) {
	c := &clock{t0}
	s := newSigner(t, secret, c)
	other := newSigner(t, []byte("another-secret-0123456789"), c)
	good := s.Sign(Claims{Purpose: PurposeUnsubscribe, Email: "ana@example.org", ReleaseID: "rel_1", Expires: t0.Add(time.Hour)})
	raw, _ := enc.DecodeString(good)
	reencode := func(edit func([]byte) []byte) string {
		b := append([]byte(nil), raw...)
		return enc.EncodeToString(edit(b))
	}
	// resign makes a payload with a valid tag, to reach the payload checks.
	resign := func(payload []byte) string { return enc.EncodeToString(append(payload, s.tag(payload)...)) }

	for _, tc := range []struct {
		name    string
		token   string
		purpose string // for Verify; "" uses Parse
		want    error
	}{
		{"empty", "", "", ErrMalformed},
		{"not base64", "not*base64!", "", ErrMalformed},
		{"padded base64", good + "==", "", ErrMalformed},
		{"standard base64 alphabet", strings.NewReplacer("-", "+", "_", "/").Replace(good) + "+/", "", ErrMalformed},
		{"too long", strings.Repeat("A", maxTokenSz+1), "", ErrMalformed},
		{"too short", enc.EncodeToString(raw[:tagLen]), "", ErrMalformed},
		{"truncated by one byte", reencode(func(b []byte) []byte { return b[:len(b)-1] }), "", ErrBadSignature},
		{"truncated to the payload", reencode(func(b []byte) []byte { return b[:len(b)-tagLen] }), "", ErrBadSignature},
		{"truncated text", good[:len(good)-5], "", nil}, // either error; checked below
		{"forged signature", reencode(func(b []byte) []byte { b[len(b)-1] ^= 1; return b }), "", ErrBadSignature},
		{"zero signature", reencode(func(b []byte) []byte { clear(b[len(b)-tagLen:]); return b }), "", ErrBadSignature},
		{"edited email", reencode(func(b []byte) []byte {
			i := strings.Index(string(b), "ana@")
			copy(b[i:], "eva@")
			return b
		}), "", ErrBadSignature},
		{"other secret", other.Sign(Claims{Purpose: PurposeUnsubscribe, Email: "ana@example.org", Expires: t0.Add(time.Hour)}), "", ErrBadSignature},
		{"expired", s.Sign(Claims{Purpose: PurposeUnsubscribe, Email: "ana@example.org", Expires: t0.Add(-time.Second)}), "", ErrExpired},
		{"expired long ago", s.Sign(Claims{Purpose: PurposeUnsubscribe, Email: "ana@example.org"}), "", ErrExpired},
		{"wrong purpose", s.Sign(Claims{Purpose: "confirm", Email: "ana@example.org", Expires: t0.Add(time.Hour)}), PurposeUnsubscribe, ErrWrongPurpose},
		{"unknown version", resign(append([]byte{2}, raw[1:len(raw)-tagLen]...)), "", ErrMalformed},
		{"trailing bytes", resign(append(raw[:len(raw)-tagLen:len(raw)-tagLen], 'x')), "", ErrMalformed},
		{"field longer than the payload", resign([]byte{version, 1, 50, 'a'}), "", ErrMalformed},
		{"overlong varint", resign([]byte{version, 0x81, 0x00, 0, 0, 0}), "", ErrMalformed},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var err error
			var got Claims
			if tc.purpose != "" {
				got, err = s.Verify(tc.token, tc.purpose)
			} else {
				got, err = s.Parse(tc.token)
			}
			if err == nil {
				t.Fatalf("token %q accepted: %+v", tc.token, got)
			}
			if tc.want != nil && !errors.Is(err, tc.want) {
				t.Errorf("err = %v, want %v", err, tc.want)
			}
			if !errors.Is(err, ErrExpired) && got != (Claims{}) {
				t.Errorf("claims %+v returned with %v", got, err)
			}
		})
	}
}

func TestNewRefusesShortSecret(t *testing.T) {
	if _, err := New([]byte("short"), "https://x.example", nil, 0); err == nil {
		t.Error("New accepted a 5-byte secret")
	}
	if _, err := New(secret, "", nil, 0); err == nil {
		t.Error("New accepted an empty public URL")
	}
}

func TestTTL(t *testing.T) {
	c := &clock{t0}
	s, err := New(secret, "http://127.0.0.1:8080", c.now, time.Hour)
	if err != nil {
		t.Fatal(err)
	}
	tok := strings.TrimPrefix(s.UnsubscribeURL("ana@example.org", "r1"), "http://127.0.0.1:8080/u/")
	got, err := s.Parse(tok)
	if err != nil || !got.Expires.Equal(t0.Add(time.Hour)) {
		t.Errorf("Parse = %+v, %v; want expiry in an hour", got, err)
	}
}

// FuzzParse checks that Parse never panics on any input; that whatever it
// accepts is exactly what Sign makes of the claims it returns (so it
// verifies again); that every token Sign makes parses back to its claims;
// and that a token changed in any one character, or cut short, never verifies.
func FuzzParse(f *testing.F) {
	c := &clock{t0}
	s := newSigner(f, secret, c)
	good := s.Sign(Claims{Purpose: PurposeUnsubscribe, Email: "ana@example.org", ReleaseID: "rel_1", Expires: t0.Add(time.Hour)})
	f.Add(good, "ana@example.org", "rel_1", uint32(3600), uint16(0), byte(1))
	f.Add("", "", "", uint32(0), uint16(5), byte(0x80))
	f.Add("AQ", "josé.nuñez@correo.example", "rel_06h1jqe83k30pb41d3d5knfkwc", uint32(180*24*3600), uint16(40), byte('A'^'B'))
	f.Add(strings.Repeat("_", 64), "a\x00b@example.org", "", uint32(1), uint16(1000), byte(0xff))
	f.Fuzz(func(t *testing.T, token, email, releaseID string, ttl uint32, pos uint16, flip byte) {
		// Any input: no panic, and acceptance means a canonical token.
		if cl, err := s.Parse(token); err == nil {
			if again := s.Sign(cl); again != token {
				t.Fatalf("Parse accepted %q, which Sign writes as %q", token, again)
			}
		} else if !errors.Is(err, ErrMalformed) && !errors.Is(err, ErrBadSignature) && !errors.Is(err, ErrExpired) {
			t.Fatalf("Parse(%q): error %v is none of the sentinels", token, err)
		}

		// A token Sign makes verifies, with the same claims.
		if len(email) > maxField || len(releaseID) > maxField {
			return
		}
		want := Claims{Purpose: PurposeUnsubscribe, Email: email, ReleaseID: releaseID, Expires: t0.Add(time.Duration(ttl)*time.Second + time.Second)}
		tok := s.Sign(want)
		got, err := s.Verify(tok, PurposeUnsubscribe)
		if err != nil {
			t.Fatalf("Verify(Sign(%+v)): %v", want, err)
		}
		if got != want {
			t.Fatalf("round trip: got %+v, want %+v", got, want)
		}

		// Changed in one character, or cut short: never verifies.
		if flip != 0 {
			b := []byte(tok)
			b[int(pos)%len(b)] ^= flip
			if _, err := s.Parse(string(b)); err == nil {
				t.Fatalf("token %q changed to %q still verifies", tok, b)
			}
		}
		if cut := int(pos) % len(tok); cut > 0 {
			if _, err := s.Parse(tok[:cut]); err == nil {
				t.Fatalf("token %q cut to %q still verifies", tok, tok[:cut])
			}
		}
	})
}

// TestParseRefusesLineBreaksAndSpaces is a regression test from FuzzParse:
// Go's base64 decoder skips CR and LF, so a valid token with a line break
// inside decoded to the same bytes and was accepted under a second spelling.
func TestParseRefusesLineBreaksAndSpaces(t *testing.T) {
	s := newSigner(t, secret, &clock{t0})
	tok := s.Sign(Claims{Purpose: PurposeUnsubscribe, Email: "ana@example.org", ReleaseID: "rel_1", Expires: t0.Add(time.Hour)})
	if _, err := s.Parse(tok); err != nil {
		t.Fatalf("the token itself: %v", err)
	}
	for _, bad := range []string{tok[:10] + "\n" + tok[10:], tok[:10] + "\r\n" + tok[10:], tok + "\n", " " + tok, tok[:5] + "%" + tok[5:]} {
		if _, err := s.Parse(bad); !errors.Is(err, ErrMalformed) {
			t.Errorf("Parse(%q) = %v, want ErrMalformed", bad, err)
		}
	}
}

func TestConfirmURL(t *testing.T) {
	c := &clock{t0}
	s := newSigner(t, secret, c)
	u := s.ConfirmURL("ana@example.org", "lst_06h1jqe83k30pb41d3d5knfkwc")
	tok, ok := strings.CutPrefix(u, "https://prensa.example.org/confirm/")
	if !ok {
		t.Fatalf("URL %q does not start with the public URL and /confirm/", u)
	}
	got, err := s.Verify(tok, PurposeConfirm)
	if err != nil {
		t.Fatal(err)
	}
	want := Claims{Purpose: PurposeConfirm, Email: "ana@example.org", ReleaseID: "lst_06h1jqe83k30pb41d3d5knfkwc", Expires: t0.Add(ConfirmTTL)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("claims (-want +got):\n%s", diff)
	}
	if _, err := s.Verify(tok, PurposeUnsubscribe); !errors.Is(err, ErrWrongPurpose) {
		t.Errorf("a confirm token verified as an unsubscribe one: %v", err)
	}
	c.t = t0.Add(ConfirmTTL)
	if _, err := s.Verify(tok, PurposeConfirm); !errors.Is(err, ErrExpired) {
		t.Errorf("after %v: %v, want ErrExpired", ConfirmTTL, err)
	}
}

// TestHashEmail: the hash is the documented two-step HMAC (so an operator
// with the secret can compute it with openssl), it holds no trace of the
// address, and another secret gives another hash.
func TestHashEmail(t *testing.T) {
	s := newSigner(t, secret, &clock{t0})
	k := hmac.New(sha256.New, secret)
	k.Write([]byte("pregon audit email v1"))
	m := hmac.New(sha256.New, k.Sum(nil))
	m.Write([]byte("ana@example.org"))
	want := "hmac-sha256:" + hex.EncodeToString(m.Sum(nil))
	got := s.HashEmail("ana@example.org")
	if got != want {
		t.Errorf("HashEmail = %q, want %q", got, want)
	}
	if strings.Contains(got, "ana") || strings.Contains(got, "example") {
		t.Errorf("HashEmail = %q shows the address", got)
	}
	if other := newSigner(t, []byte("another-secret-0123456789"), &clock{t0}).HashEmail("ana@example.org"); other == got {
		t.Errorf("two secrets give the same hash %q", got)
	}
	if s.HashEmail("bob@example.org") == got {
		t.Errorf("two addresses give the same hash")
	}
}
