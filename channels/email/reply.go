package email

import (
	"fmt"
	"net/textproto"
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
	// Err is the reply as net/textproto read it.
	Err *textproto.Error
}

func (e *ReplyError) Error() string {
	return fmt.Sprintf("%s: %d %s", e.Command, e.Code, e.Text)
}

func (e *ReplyError) Unwrap() error { return e.Err }

// Temporary reports whether the reply is a 4xx.
func (e *ReplyError) Temporary() bool { return e.Code/100 == 4 }
