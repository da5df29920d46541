package email_test

import (
	"bytes"
	"errors"
	"strings"
	"testing"

	"github.com/pregon/pregon/channels/email"
	"github.com/pregon/pregon/dispatcher"
	"github.com/pregon/pregon/templates"
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
			msg, err := email.BuildMessage(from, m, date)
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
	msg, err := email.BuildMessage(from, m, date)
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
	msg, err := email.BuildMessage(from, m, date)
	if err != nil {
		t.Fatal(err)
	}
	if got := msg.GetMessageID(); got != "<x.y@example.org>" {
		t.Errorf("message id %q", got)
	}
}

func TestBuildMessageErrors(t *testing.T) {
	if _, err := email.BuildMessage(from, nil, date); !errors.Is(err, email.ErrInvalidMessage) {
		t.Errorf("nil message: %v", err)
	}
	if _, err := email.BuildMessage(dispatcher.Address{}, statement("ana@example.org"), date); !errors.Is(err, email.ErrInvalidMessage) {
		t.Errorf("no from: %v", err)
	}
	m := statement("ana@example.org")
	m.MessageID = "no-at-sign"
	if _, err := email.BuildMessage(from, m, date); !errors.Is(err, email.ErrInvalidMessage) {
		t.Errorf("message id without @: %v", err)
	}
}

// TestBuildMessageUnsubscribeLine checks that the footer line the templates
// keep for the unsubscribe link gets the recipient's link, escaped in HTML,
// or disappears without one; and that a link that could break a line or an
// attribute is refused.
func TestBuildMessageUnsubscribeLine(t *testing.T) {
	r, err := templates.New()
	if err != nil {
		t.Fatal(err)
	}
	content, err := r.Email(&dispatcher.Release{Title: "T", Body: "Cuerpo", Language: "en"}, "en")
	if err != nil {
		t.Fatal(err)
	}
	build := func(link string) (*dispatcher.EmailMessage, []byte, error) {
		m := statement("ana@example.org")
		m.Content, m.UnsubscribeURL = content, link
		msg, err := email.BuildMessage(from, m, date)
		if err != nil {
			return m, nil, err
		}
		var buf bytes.Buffer
		if _, err := msg.WriteTo(&buf); err != nil {
			t.Fatal(err)
		}
		return m, buf.Bytes(), nil
	}
	link := "https://prensa.example.org/u/AZCd_9Q?a=1&b=2"
	m, data, err := build(link)
	if err != nil {
		t.Fatal(err)
	}
	m.Content = content.WithUnsubscribe(link)
	checkMessage(t, data, m)
	if !strings.Contains(m.Content.Text, "To stop receiving these statements:\n"+link+"\n") ||
		!strings.Contains(m.Content.HTML, `href="https://prensa.example.org/u/AZCd_9Q?a=1&amp;b=2"`) {
		t.Errorf("the link is not in the footer:\n%s\n%s", m.Content.Text, m.Content.HTML)
	}

	m, data, err = build("")
	if err != nil {
		t.Fatal(err)
	}
	m.Content = content.WithUnsubscribe("")
	checkMessage(t, data, m)
	// "=00" would be a quoted-printable NUL; the random MIME boundary,
	// which may begin with 00, is left out of that check.
	body := strings.ReplaceAll(string(data), "boundary=", "boundary ")
	if strings.Contains(body, "To stop receiving") || strings.Contains(body, "Rather not") || strings.Contains(body, "UNSUBSCRIBE") || strings.Contains(body, "=00") {
		t.Errorf("the unsubscribe line is left without a link:\n%s", data)
	}

	for _, bad := range []string{"javascript:alert(1)", "https://x.example/u/a\r\nBcc: evil@example.org", `https://x.example/"onclick="x`,
		"/u/relative", "https://x.example/u/<b>", "https://x.example/u/ñ"} {
		if _, _, err := build(bad); !errors.Is(err, email.ErrInvalidMessage) {
			t.Errorf("link %q: err = %v, want ErrInvalidMessage", bad, err)
		}
	}
}
