package webhooks_test

import (
	"errors"
	"os/exec"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/pregon/pregon/webhooks"
)

func TestVerify(t *testing.T) {
	const secret = "whsec_abc"
	body := []byte(`{"id":"evt_1"}`)
	at := time.Date(2026, 2, 4, 16, 0, 0, 0, time.UTC)
	good := webhooks.Sign(secret, at, body)
	cases := []struct {
		name   string
		header string
		body   []byte
		now    time.Time
		want   error
	}{
		{"good", good, body, at, nil},
		{"good, 4m later", good, body, at.Add(4 * time.Minute), nil},
		{"good, receiver's clock 4m behind", good, body, at.Add(-4 * time.Minute), nil},
		{"replayed 6m later", good, body, at.Add(6 * time.Minute), webhooks.ErrSignatureExpired},
		{"body changed", good, []byte(`{"id":"evt_2"}`), at, webhooks.ErrSignatureMismatch},
		{"other secret", webhooks.Sign("whsec_other", at, body), body, at, webhooks.ErrSignatureMismatch},
		{"time changed", strings.Replace(good, "t="+strconv.FormatInt(at.Unix(), 10), "t="+strconv.FormatInt(at.Unix()+60, 10), 1), body, at, webhooks.ErrSignatureMismatch},
		{"second v1 matches (secret rotation)", "t=" + strconv.FormatInt(at.Unix(), 10) + ",v1=00," + strings.Split(good, ",")[1], body, at, nil},
		{"empty", "", body, at, webhooks.ErrBadSignatureHeader},
		{"no v1", "t=" + strconv.FormatInt(at.Unix(), 10), body, at, webhooks.ErrBadSignatureHeader},
		{"no t", strings.Split(good, ",")[1], body, at, webhooks.ErrBadSignatureHeader},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			err := webhooks.Verify(secret, c.header, c.body, c.now, 0)
			if (c.want == nil) != (err == nil) || (c.want != nil && !errors.Is(err, c.want)) {
				t.Errorf("Verify = %v, want %v", err, c.want)
			}
		})
	}
}

// TestShellVerification runs the README's shell check of a signature.
func TestShellVerification(t *testing.T) {
	if _, err := exec.LookPath("openssl"); err != nil {
		t.Skip("openssl is not installed")
	}
	const secret = "whsec_shell-example"
	body := `{"id":"evt_9","type":"release.sent","data":{"title":"Comunicado “exprés”"}}`
	header := webhooks.Sign(secret, time.Now(), []byte(body))
	// The README's lines, with the header, body and secret as a receiver has them.
	script := `
t=$(printf '%s' "$SIG" | sed -n 's/.*t=\([0-9]*\).*/\1/p')
v1=$(printf '%s' "$SIG" | sed -n 's/.*v1=\([0-9a-f]*\).*/\1/p')
expected=$(printf '%s.%s' "$t" "$BODY" | openssl dgst -sha256 -hmac "$SECRET" -r | cut -d' ' -f1)
now=$(date +%s)
if [ "$v1" = "$expected" ] && [ $((now - t)) -le 300 ] && [ $((t - now)) -le 300 ]; then echo valid; else echo invalid; fi
`
	run := func(secret string) string {
		cmd := exec.Command("sh", "-c", script)
		cmd.Env = []string{"SIG=" + header, "BODY=" + body, "SECRET=" + secret, "PATH=/usr/bin:/bin"}
		out, err := cmd.CombinedOutput()
		if err != nil {
			t.Fatalf("sh: %v: %s", err, out)
		}
		return strings.TrimSpace(string(out))
	}
	if got := run(secret); got != "valid" {
		t.Errorf("shell check with the secret = %q, want valid", got)
	}
	if got := run("whsec_wrong"); got != "invalid" {
		t.Errorf("shell check with a wrong secret = %q, want invalid", got)
	}
}
