package email

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/wneessen/go-mail"
)

// ReplyError is an SMTP server's 4xx or 5xx reply to one of the commands that
// carry a message. SendEmail's errors wrap it; find it with errors.As.
type ReplyError struct {
	// Command is what the server answered: "MAIL FROM", "RCPT TO", "DATA",
	// "end of data" (the reply to the whole message) or "NOOP".
	Command string
	// Code is the reply code, e.g. 550.
	Code int
	// EnhancedCode is the RFC 3463 status, e.g. "5.1.1"; empty when the server
	// does not announce ENHANCEDSTATUSCODES.
	EnhancedCode string
	// Text is the reply after the code, e.g. "5.1.1 mailbox unavailable".
	Text string
	// Err is go-mail's error.
	Err *mail.SendError
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Command, e.Code, e.Text)
}

func (e *ReplyError) Unwrap() error { return e.Err }

// Temporary reports whether the reply is a 4xx.
func (e *ReplyError) Temporary() bool { return e.Code/100 == 4 }

var commands = map[mail.SendErrReason]string{
	mail.ErrSMTPMailFrom:  "MAIL FROM",
	mail.ErrSMTPRcptTo:    "RCPT TO",
	mail.ErrSMTPData:      "DATA",
	mail.ErrSMTPDataClose: "end of data",
	mail.ErrSMTPReset:     "RSET",
	mail.ErrConnCheck:     "NOOP",
}

// newReplyError extracts the server's reply from se, whose code is 4xx or 5xx.
// go-mail keeps the reply only inside its message, where Go's net/textproto
// quotes the text (`550 "5.1.1 mailbox unavailable"`) since Go 1.26 and leaves
// it bare before.
func newReplyError(se *mail.SendError) *ReplyError {
	e := &ReplyError{Code: se.ErrorCode(), EnhancedCode: se.EnhancedStatusCode(), Err: se}
	e.Command = commands[se.Reason]
	if e.Command == "" {
		e.Command = se.Reason.String()
	}
	msg := se.Error()
	prefix := strconv.Itoa(e.Code) + " "
	i := strings.Index(msg, prefix)
	if i < 0 {
		e.Text = msg
		return e
	}
	rest := msg[i+len(prefix):]
	if q, err := strconv.QuotedPrefix(rest); err == nil {
		if text, err := strconv.Unquote(q); err == nil {
			rest = text
		}
	} else if j := strings.Index(rest, ", affected "); j >= 0 {
		rest = rest[:j]
	}
	e.Text = strings.Join(strings.Fields(rest), " ") // one line
	return e
}
