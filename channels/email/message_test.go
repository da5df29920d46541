package email_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
)

func TestBuildMessageSinglePart(t *testing.T) {
	tests := []struct {
		name     string
		text     string
		html     string
		wantType string
	}{
		{"text only", "hola “mundo”\n", "", "text/plain; charset=UTF-8"},
		{"html only", "", "<p>hola</p>", "text/html; charset=UTF-8"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := statement("ana@example.org")
			m.Content.Text, m.Content.HTML = tt.text, tt.html
			msg, err := email.BuildMessage(from, m)
			if err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if _, err := msg.WriteTo(&buf); err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(buf.String(), "Content-Type: "+tt.wantType+"\r\n") ||
				strings.Contains(buf.String(), "multipart") {
				t.Errorf("want a single %s part:\n%s", tt.wantType, buf.String())
			}
		})
	}
}

func TestBuildMessageWithoutReplyToOrHeaders(t *testing.T) {
	m := statement("ana@example.org")
	m.ReplyTo, m.Headers = nil, nil
	msg, err := email.BuildMessage(from, m)
	if err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if _, err := msg.WriteTo(&buf); err != nil {
		t.Fatal(err)
	}
	for _, h := range []string{"Reply-To:", "User-Agent:", "X-Mailer:"} {
		if strings.Contains(buf.String(), h) {
			t.Errorf("unexpected %s header", h)
		}
	}
}

func TestBuildMessageAcceptsBracketedID(t *testing.T) {
	m := statement("ana@example.org")
	m.MessageID = "<x.y@example.org>"
	msg, err := email.BuildMessage(from, m)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.GetMessageID(); got != "<x.y@example.org>" {
		t.Errorf("message id %q", got)
	}
}

func TestBuildMessageErrors(t *testing.T) {
	if _, err := email.BuildMessage(from, nil); !errors.Is(err, email.ErrInvalidMessage) {
		t.Errorf("nil message: %v", err)
	}
	if _, err := email.BuildMessage(dispatcher.Address{}, statement("ana@example.org")); !errors.Is(err, email.ErrInvalidMessage) {
		t.Errorf("no from: %v", err)
	}
	m := statement("ana@example.org")
	m.MessageID = "no-at-sign"
	if _, err := email.BuildMessage(from, m); !errors.Is(err, email.ErrInvalidMessage) {
		t.Errorf("message id without @: %v", err)
	}
}
