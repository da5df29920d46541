package email_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/wneessen/go-mail"

	"github.com/pregon/pregon/channels/email"
)

func TestParseURL(t *testing.T) {
	tests := []struct {
		raw  string
		want email.Endpoint
	}{
		{"smtp://mail.example.org", email.Endpoint{Host: "mail.example.org", Port: 587, TLS: email.TLSOpportunistic}},
		{"smtp://mail.example.org:25/", email.Endpoint{Host: "mail.example.org", Port: 25, TLS: email.TLSOpportunistic}},
		{"SMTPS://mail.example.org", email.Endpoint{Host: "mail.example.org", Port: 465, TLS: email.TLSImplicit}},
		{
			"smtp://ana%40rio:p%C3%A1ss%3Aword@[::1]:2525?tls=none&auth=plain&insecure=1&helo=pregon.example",
			email.Endpoint{
				Host: "::1", Port: 2525, TLS: email.TLSNone, Username: "ana@rio", Password: "páss:word",
				Auth: mail.SMTPAuthPlain, Insecure: true, HELO: "pregon.example",
			},
		},
		{
			"smtp://u:p@127.0.0.1:587?tls=starttls",
			email.Endpoint{Host: "127.0.0.1", Port: 587, TLS: email.TLSStartTLS, Username: "u", Password: "p", Auth: mail.SMTPAuthAutoDiscover},
		},
		{"smtps://h?tls=implicit", email.Endpoint{Host: "h", Port: 465, TLS: email.TLSImplicit}},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			got, err := email.ParseURL(tt.raw)
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("ParseURL (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseURLErrors(t *testing.T) {
	tests := []struct {
		raw     string
		message string
	}{
		{"", "missing scheme"},
		{"mail.example.org:25", "scheme"},
		{"http://mail.example.org", `scheme "http"`},
		{"smtp://", "missing host"},
		{"smtp://:25", "missing host"},
		{"smtp://user:secret@mail.example.org:smtp", "invalid port"},
		{"smtp://mail.example.org:0", `port "0"`},
		{"smtp://mail.example.org:70000", `port "70000"`},
		{"smtp://mail.example.org:", "empty port"},
		{"smtp://mail.example.org/inbox", "path"},
		{"smtp://mail.example.org?tls=maybe", "tls="},
		{"smtps://mail.example.org?tls=none", "does not apply to smtps"},
		{"smtp://mail.example.org?auth=plain", "without user name"},
		{"smtp://u:p@mail.example.org?auth=kerberos", "auth="},
		{"smtp://mail.example.org?insecure=perhaps", "insecure="},
		{"smtp://mail.example.org?retries=3", `unknown parameter "retries"`},
		{"smtp://mail.example.org?tls=none&tls=starttls", "given 2 times"},
		{"smtp://:secret@mail.example.org", "empty user name"},
	}
	for _, tt := range tests {
		t.Run(tt.raw, func(t *testing.T) {
			_, err := email.ParseURL(tt.raw)
			if !errors.Is(err, email.ErrInvalidURL) {
				t.Fatalf("err = %v, want ErrInvalidURL", err)
			}
			if !strings.Contains(err.Error(), tt.message) {
				t.Errorf("err = %q, want it to mention %q", err, tt.message)
			}
			if strings.Contains(err.Error(), "secret") {
				t.Errorf("err = %q shows the password", err)
			}
		})
	}
}

func TestEndpointStringHidesPassword(t *testing.T) {
	ep, err := email.ParseURL("smtps://ana:secret@mail.example.org?insecure=1")
	if err != nil {
		t.Fatal(err)
	}
	if got, want := ep.String(), "smtps://ana@mail.example.org:465?insecure=1"; got != want {
		t.Errorf("String() = %q, want %q", got, want)
	}
}
