package email

import (
	"errors"
	"fmt"
	"net/textproto"
	"strings"

	"github.com/wneessen/go-mail/smtp"
)

// A message goes over a pooled connection as one SMTP transaction, written
// by the Channel itself on go-mail's low-level client: MAIL FROM, RCPT TO and
// DATA in one write when the server offers PIPELINING (RFC 2920), then the
// message, already dot-stuffed (appendData), with its terminating dot in
// one more write. go-mail's own send wrote the message a byte at a time
// through net/textproto's DotWriter, and waited for each command's reply.

// stage is the step of a transaction that failed.
type stage int

const (
	stageMail stage = iota + 1 // MAIL FROM (nothing of the message was sent)
	stageRcpt                  // RCPT TO
	stageData                  // the DATA command, or writing the message
	stageEnd                   // the reply to the message's terminating dot
)

var stageCommands = map[stage]string{
	stageMail: "MAIL FROM", stageRcpt: "RCPT TO", stageData: "DATA", stageEnd: "end of data",
}

// txError is a failed transaction: a reply that was not the one expected
// (a *textproto.Error), or a broken connection.
type txError struct {
	stage stage
	esc   bool // the server announced ENHANCEDSTATUSCODES
	err   error
}

func (e *txError) Error() string { return stageCommands[e.stage] + ": " + e.err.Error() }
func (e *txError) Unwrap() error { return e.err }

// code returns the server's reply code, or 0 when there was no reply.
func (e *txError) code() int {
	var te *textproto.Error
	if errors.As(e.err, &te) {
		return te.Code
	}
	return 0
}

// replyError returns the server's reply as a *ReplyError, or nil when there
// was none.
func (e *txError) replyError() *ReplyError {
	var te *textproto.Error
	if !errors.As(e.err, &te) {
		return nil
	}
	text := strings.Join(strings.Fields(te.Msg), " ") // one line
	re := &ReplyError{Command: stageCommands[e.stage], Code: te.Code, Text: text, Err: te}
	if e.esc {
		re.EnhancedCode = enhancedCode(text, te.Code)
	}
	return re
}

// enhancedCode returns the RFC 3463 status that text starts with ("5.1.1"),
// when its class is that of code, or "".
func enhancedCode(text string, code int) string {
	first, _, _ := strings.Cut(text, " ")
	parts := strings.Split(first, ".")
	if len(parts) != 3 || parts[0] != fmt.Sprint(code/100) {
		return ""
	}
	for _, p := range parts[1:] {
		if p == "" || len(p) > 3 || strings.Trim(p, "0123456789") != "" {
			return ""
		}
	}
	return first
}

// envelope is a message's SMTP sender and recipients, as go-mail gives them
// (addresses in angle brackets).
type envelope struct {
	from  string
	rcpts []string
}

// transact sends data, a message already rendered as DATA content
// (appendData), on sc. It returns nil once the server has accepted it, and
// a *txError otherwise.
func transact(sc *smtp.Client, env envelope, data []byte) error {
	esc, _ := sc.Extension("ENHANCEDSTATUSCODES")
	pipelining, _ := sc.Extension("PIPELINING")
	mail := "MAIL FROM:" + env.from
	if ok, _ := sc.Extension("8BITMIME"); ok {
		mail += " BODY=8BITMIME"
	}
	if ok, _ := sc.Extension("SMTPUTF8"); ok {
		mail += " SMTPUTF8"
	}
	type command struct {
		stage  stage
		line   string
		expect int
	}
	cmds := make([]command, 0, len(env.rcpts)+2)
	cmds = append(cmds, command{stageMail, mail, 250})
	for _, r := range env.rcpts {
		cmds = append(cmds, command{stageRcpt, "RCPT TO:" + r, 25})
	}
	cmds = append(cmds, command{stageData, "DATA", 354})
	for _, c := range cmds {
		if strings.ContainsAny(c.line, "\r\n") {
			return &txError{stage: c.stage, err: errors.New("a line must not contain CR or LF")}
		}
	}

	text := sc.Text
	fail := func(s stage, err error) error { return &txError{stage: s, esc: esc, err: err} }
	if pipelining {
		// textproto flushes each command into the connection, which holds
		// them (coalescingConn) until the first reply is read.
		ids := make([]uint, len(cmds))
		for i, c := range cmds {
			id, err := text.Cmd("%s", c.line)
			if err != nil {
				return fail(c.stage, err)
			}
			ids[i] = id
		}
		// Every reply is read, so that the first failure is the one
		// reported; a broken connection ends the reading.
		var first error
		for i, c := range cmds {
			text.StartResponse(ids[i])
			_, _, err := text.ReadResponse(c.expect)
			text.EndResponse(ids[i])
			var te *textproto.Error
			if err != nil && !errors.As(err, &te) {
				if first != nil {
					return first // e.g. 421 to MAIL FROM, then the server hung up
				}
				return fail(c.stage, err)
			}
			if err != nil && first == nil {
				first = fail(c.stage, err)
			}
		}
		if first != nil {
			// A server that said 354 after a failure now waits for data:
			// the caller closes the connection, which aborts it.
			return first
		}
	} else {
		for _, c := range cmds {
			id, err := text.Cmd("%s", c.line)
			if err != nil {
				return fail(c.stage, err)
			}
			text.StartResponse(id)
			_, _, err = text.ReadResponse(c.expect)
			text.EndResponse(id)
			if err != nil {
				return fail(c.stage, err)
			}
		}
	}

	// The terminating dot is the last byte written: a failed write means
	// the server has not got the whole message.
	if _, err := text.W.Write(data); err != nil {
		return fail(stageData, err)
	}
	if err := text.W.Flush(); err != nil {
		return fail(stageData, err)
	}
	if _, _, err := text.ReadResponse(250); err != nil {
		return fail(stageEnd, err)
	}
	return nil
}
