package smtptest

import (
	"bytes"
	"io"

	"github.com/emersion/go-sasl"
	"github.com/emersion/go-smtp"
)

// session is one SMTP connection's state.
type session struct {
	s    *Server
	conn *smtp.Conn
	user string
	from string
	to   []string
	// attempt is the attempt number of the first accepted recipient.
	attempt int
}

var _ smtp.AuthSession = (*session)(nil)

func (s *Server) newSession(c *smtp.Conn) (smtp.Session, error) {
	return &session{s: s, conn: c}, nil
}

func (ss *session) AuthMechanisms() []string { return []string{sasl.Plain} }

func (ss *session) Auth(string) (sasl.Server, error) {
	return sasl.NewPlainServer(func(_, username, _ string) error {
		ss.user = username
		return nil
	}), nil
}

func (ss *session) Mail(from string, _ *smtp.MailOptions) error {
	ss.from = from
	return nil
}

func (ss *session) Rcpt(to string, _ *smtp.RcptOptions) error {
	ss.s.mu.Lock()
	ss.s.attempts[to]++
	attempt := ss.s.attempts[to]
	fn := ss.s.rcptFn
	ss.s.mu.Unlock()
	if fn != nil {
		if rerr := fn(to, attempt); rerr != nil {
			return rerr
		}
	}
	if len(ss.to) == 0 {
		ss.attempt = attempt
	}
	ss.to = append(ss.to, to)
	return nil
}

func (ss *session) Data(r io.Reader) error {
	ss.s.mu.Lock()
	dataFn, dropFn, discard := ss.s.dataFn, ss.s.dropFn, ss.s.discard
	ss.s.mu.Unlock()

	var buf bytes.Buffer
	var size int64
	var err error
	if discard {
		size, err = io.Copy(io.Discard, r)
	} else {
		size, err = buf.ReadFrom(r)
	}
	if err != nil {
		return err
	}
	rcpt := ""
	if len(ss.to) > 0 {
		rcpt = ss.to[0]
	}
	if dropFn != nil && dropFn(rcpt, ss.attempt) {
		// Close the socket itself: the server's reply then goes nowhere.
		_ = ss.conn.Conn().Close()
		return nil
	}
	if dataFn != nil {
		if rerr := dataFn(rcpt, ss.attempt); rerr != nil {
			return rerr
		}
	}
	m := Message{From: ss.from, To: append([]string(nil), ss.to...), User: ss.user}
	if !discard {
		m.Data = buf.Bytes()
	}
	ss.s.record(m, size)
	return nil
}

func (ss *session) Reset() {
	ss.from, ss.to, ss.attempt = "", nil, 0
}

func (ss *session) Logout() error { return nil }
