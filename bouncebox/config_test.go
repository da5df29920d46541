package bouncebox_test

import (
	"errors"
	"strings"
	"testing"

	"github.com/pregon/pregon/bouncebox"
)

func TestParseURL(t *testing.T) {
	for _, c := range []struct {
		url  string
		want bouncebox.Mailbox
	}{
		{"imaps://u:p@mail.example.org/INBOX", bouncebox.Mailbox{Addr: "mail.example.org:993", Host: "mail.example.org", TLS: true,
			Username: "u", Password: "p", Mailbox: "INBOX", Processed: bouncebox.Processed{Folder: "Pregon-Processed"}}},
		{"imaps://u:p@mail.example.org:1993/Bounces?processed=delete", bouncebox.Mailbox{Addr: "mail.example.org:1993", Host: "mail.example.org",
			TLS: true, Username: "u", Password: "p", Mailbox: "Bounces", Processed: bouncebox.Processed{Delete: true}}},
		{"imap://u:p@127.0.0.1:1143?processed=keep", bouncebox.Mailbox{Addr: "127.0.0.1:1143", Host: "127.0.0.1",
			Username: "u", Password: "p", Mailbox: "INBOX"}},
		{"imap://u:p@mail.lan/INBOX?plaintext=true&processed=Done", bouncebox.Mailbox{Addr: "mail.lan:143", Host: "mail.lan",
			Username: "u", Password: "p", Mailbox: "INBOX", Processed: bouncebox.Processed{Folder: "Done"}}},
	} {
		got, err := bouncebox.ParseURL(c.url)
		if err != nil {
			t.Errorf("ParseURL(%q): %v", c.url, err)
			continue
		}
		if *got != c.want {
			t.Errorf("ParseURL(%q) = %+v, want %+v", c.url, *got, c.want)
		}
	}
	for _, bad := range []string{"https://u:p@mail.example.org/", "imap://u:s3cret@mail.example.org/INBOX", "imaps://mail.example.org/INBOX",
		"imaps://u:s3cret@mail.example.org/INBOX?processed=INBOX", "imaps://u:s3cret@mail.example.org/?idle=1"} {
		_, err := bouncebox.ParseURL(bad)
		if !errors.Is(err, bouncebox.ErrBadURL) {
			t.Errorf("ParseURL(%q) = %v, want ErrBadURL", bad, err)
		} else if strings.Contains(err.Error(), "s3cret") {
			t.Errorf("the error shows the password: %v", err)
		}
	}
}
