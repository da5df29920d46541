package smtptest_test

import (
	"crypto/tls"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"

	"github.com/pregon/pregon/internal/smtptest"
	"github.com/pregon/pregon/internal/testkit"
)

const wait = 10 * time.Second

func send(t *testing.T, addr string, a sasl.Client, from string, to []string, body string) error {
	t.Helper()
	c, err := smtp.Dial(addr)
	if err != nil {
		t.Fatalf("dial: %v", err)
	}
	defer c.Close()
	if a != nil {
		if err := c.Auth(a); err != nil {
			return err
		}
	}
	return c.SendMail(from, to, strings.NewReader(body))
}

func TestServerRecordsMessages(t *testing.T) {
	s := smtptest.Start(t)
	for i := range 3 {
		body := fmt.Sprintf("Subject: %d\r\n\r\nhola %d\r\n", i, i)
		if err := send(t, s.Addr, nil, "from@example.org", []string{"a@example.org", "b@example.org"}, body); err != nil {
			t.Fatalf("send %d: %v", i, err)
		}
	}
	msgs := s.WaitFor(t, 3, wait)
	if len(msgs) != 3 || s.Count() != 3 || s.Connections() != 3 {
		t.Fatalf("got %d messages, count %d, connections %d; want 3, 3, 3", len(msgs), s.Count(), s.Connections())
	}
	for i, m := range msgs {
		if m.From != "from@example.org" || len(m.To) != 2 || m.To[1] != "b@example.org" {
			t.Errorf("message %d: from %q to %q", i, m.From, m.To)
		}
		if want := fmt.Sprintf("hola %d", i); !strings.Contains(string(m.Data), want) {
			t.Errorf("message %d: data %q does not contain %q", i, m.Data, want)
		}
	}
	// Messages returns a copy.
	msgs[0].Data[0] = 'X'
	if s.Messages()[0].Data[0] == 'X' {
		t.Error("Messages shares memory with the server")
	}
}

func TestServerAuth(t *testing.T) {
	s := smtptest.Start(t)
	if err := send(t, s.Addr, sasl.NewPlainClient("", "ana", "secreto"), "f@example.org", []string{"t@example.org"}, "x\r\n"); err != nil {
		t.Fatal(err)
	}
	if m := s.WaitFor(t, 1, wait)[0]; m.User != "ana" {
		t.Errorf("user = %q, want ana", m.User)
	}
}

func TestServerHandlers(t *testing.T) {
	tests := []struct {
		name      string
		rcpt      func(rcpt string, attempt int) *smtp.SMTPError
		data      func(rcpt string, attempt int) *smtp.SMTPError
		drop      func(rcpt string, attempt int) bool
		wantCodes []int // per attempt; 0 means accepted, -1 means no reply
	}{
		{
			name:      "451 then accept",
			rcpt:      smtptest.FirstAttempt(&smtp.SMTPError{Code: 451, EnhancedCode: smtp.EnhancedCode{4, 3, 0}, Message: "try later"}),
			wantCodes: []int{451, 0},
		},
		{
			name: "550 always",
			rcpt: func(string, int) *smtp.SMTPError {
				return &smtp.SMTPError{Code: 550, EnhancedCode: smtp.EnhancedCode{5, 1, 1}, Message: "mailbox unavailable"}
			},
			wantCodes: []int{550, 550},
		},
		{
			name:      "554 after data",
			data:      smtptest.FirstAttempt(&smtp.SMTPError{Code: 554, EnhancedCode: smtp.EnhancedCode{5, 6, 0}, Message: "content rejected"}),
			wantCodes: []int{554, 0},
		},
		{
			name:      "drop after data on first attempt",
			drop:      func(_ string, attempt int) bool { return attempt == 1 },
			wantCodes: []int{-1, 0},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.Start(t)
			s.SetHandler(tt.rcpt)
			s.SetDataHandler(tt.data)
			s.DropAfterData(tt.drop)
			accepted := 0
			for i, want := range tt.wantCodes {
				err := send(t, s.Addr, nil, "f@example.org", []string{"ana@example.org"}, "Subject: x\r\n\r\nx\r\n")
				var serr *smtp.SMTPError
				switch {
				case want == 0:
					if err != nil {
						t.Fatalf("attempt %d: %v, want accepted", i+1, err)
					}
					accepted++
				case want == -1:
					if err == nil || errors.As(err, &serr) {
						t.Fatalf("attempt %d: %v, want a connection error", i+1, err)
					}
				default:
					if !errors.As(err, &serr) || serr.Code != want {
						t.Fatalf("attempt %d: %v, want SMTP %d", i+1, err, want)
					}
				}
			}
			if got := s.Count(); got != int64(accepted) {
				t.Errorf("count = %d, want %d", got, accepted)
			}
		})
	}
}

func TestServerDiscard(t *testing.T) {
	s := smtptest.Start(t, smtptest.Discard())
	body := "Subject: x\r\n\r\n" + strings.Repeat("a", 1000) + "\r\n"
	for range 2 {
		if err := send(t, s.Addr, nil, "f@example.org", []string{"t@example.org"}, body); err != nil {
			t.Fatal(err)
		}
	}
	if got := s.WaitFor(t, 2, wait); len(got) != 0 {
		t.Errorf("discard server kept %d messages", len(got))
	}
	if s.Count() != 2 || s.Bytes() < int64(2*len(body)-10) {
		t.Errorf("count %d bytes %d, want 2 and about %d", s.Count(), s.Bytes(), 2*len(body))
	}
}

func TestServerTLS(t *testing.T) {
	client := &tls.Config{InsecureSkipVerify: true} //nolint:gosec // self-signed test certificate
	tests := []struct {
		name string
		opt  func(*tls.Config) smtptest.Option
		dial func(addr string) (*smtp.Client, error)
	}{
		{"starttls", smtptest.StartTLS, func(a string) (*smtp.Client, error) { return smtp.DialStartTLS(a, client) }},
		{"implicit", smtptest.ImplicitTLS, func(a string) (*smtp.Client, error) { return smtp.DialTLS(a, client) }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := smtptest.Start(t, tt.opt(smtptest.SelfSigned(t)))
			c, err := tt.dial(s.Addr)
			if err != nil {
				t.Fatal(err)
			}
			defer c.Close()
			if _, ok := c.TLSConnectionState(); !ok {
				t.Fatal("connection is not TLS")
			}
			if err := c.SendMail("f@example.org", []string{"t@example.org"}, strings.NewReader("x\r\n")); err != nil {
				t.Fatal(err)
			}
			s.WaitFor(t, 1, wait)
		})
	}
}

func TestWaitForTimesOut(t *testing.T) {
	s := smtptest.Start(t)
	msg := testkit.Failure(t, func(tb testing.TB) { s.WaitFor(tb, 1, 10*time.Millisecond) })
	if !strings.Contains(msg, "got 0") {
		t.Errorf("WaitFor did not fail the test: %q", msg)
	}
}

func TestCloseTwice(t *testing.T) {
	s, err := smtptest.New()
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
}

func TestCloseConnections(t *testing.T) {
	s := smtptest.Start(t)
	c, err := smtp.Dial(s.Addr)
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	if err := c.Noop(); err != nil {
		t.Fatal(err)
	}
	s.CloseConnections()
	if err := c.Noop(); err == nil {
		t.Error("connection still open after CloseConnections")
	}
	if err := send(t, s.Addr, nil, "f@example.org", []string{"t@example.org"}, "x\r\n"); err != nil {
		t.Fatalf("server stopped accepting: %v", err)
	}
	if got := s.Connections(); got != 2 {
		t.Errorf("connections = %d, want 2", got)
	}
}
