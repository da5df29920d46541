// Package bouncebox reads Pregón's bounce mailbox over IMAP
// (github.com/emersion/go-imap/v2): the delivery status notifications
// (RFC 3464) and feedback-loop complaints (ARF, RFC 5965) that come back to
// the VERP bounce address (bounces.VERP). Each report is matched to its
// delivery and acted on as a provider webhook's is: the delivery is marked,
// a hard bounce or a complaint suppresses the address, a soft bounce is
// counted, and a delivery.bounced event is told to the outgoing webhooks.
//
// One Reader polls for the whole deployment: it holds a lease in Redis,
// and a message is acted on once (its fingerprint is kept in Redis), even
// when moving it out of the inbox failed.
package bouncebox

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
)

// Processed says what happens to a message once acted on: it is always
// flagged \Seen, then moved to a folder, kept in place, or deleted.
type Processed struct {
	// Folder is where processed messages are moved ("": not moved).
	Folder string
	// Delete expunges processed messages instead.
	Delete bool
}

// DefaultFolder is the folder processed messages are moved to by default,
// created when missing.
const DefaultFolder = "Pregon-Processed"

// Mailbox is where the bounce mailbox is: a parsed PREGON_BOUNCE_IMAP_URL.
type Mailbox struct {
	Addr      string // host:port
	Host      string
	TLS       bool // implicit TLS (imaps://); otherwise plain text
	Username  string
	Password  string
	Mailbox   string // e.g. INBOX
	Processed Processed
	// InsecureSkipVerify skips the server certificate's check (tests only).
	InsecureSkipVerify bool
}

// ErrBadURL is wrapped by ParseURL's errors.
var ErrBadURL = errors.New("bad bounce mailbox URL")

// ParseURL reads a bounce mailbox URL:
//
//	imaps://user:password@host[:993]/INBOX[?processed=Pregon-Processed|keep|delete]
//
// imap:// (no TLS) is allowed to localhost, or elsewhere with
// ?plaintext=true. The mailbox is the path (default INBOX). processed says
// what happens to a message acted on: moved to that folder (default
// Pregon-Processed), kept (flagged \Seen only) or deleted. The error wraps
// ErrBadURL and never shows the password.
func ParseURL(raw string) (*Mailbox, error) {
	u, err := url.Parse(raw)
	if err != nil {
		return nil, fmt.Errorf("%w: cannot parse it", ErrBadURL)
	}
	m := &Mailbox{Host: u.Hostname(), Username: u.User.Username(), Mailbox: strings.TrimPrefix(u.Path, "/"),
		Processed: Processed{Folder: DefaultFolder}}
	m.Password, _ = u.User.Password()
	q := u.Query()
	port := u.Port()
	switch u.Scheme {
	case "imaps":
		m.TLS = true
		if port == "" {
			port = "993"
		}
	case "imap":
		if port == "" {
			port = "143"
		}
		if q.Get("plaintext") != "true" && !loopback(m.Host) {
			return nil, fmt.Errorf("%w: imap:// sends the password in clear: use imaps://, or add ?plaintext=true to a trusted network", ErrBadURL)
		}
	default:
		return nil, fmt.Errorf("%w: want imaps://user:password@host/INBOX, got scheme %q", ErrBadURL, u.Scheme)
	}
	if m.Host == "" || m.Username == "" {
		return nil, fmt.Errorf("%w: want imaps://user:password@host/INBOX (host and user are required)", ErrBadURL)
	}
	if m.Mailbox == "" {
		m.Mailbox = "INBOX"
	}
	switch p := q.Get("processed"); p {
	case "":
	case "keep":
		m.Processed = Processed{}
	case "delete":
		m.Processed = Processed{Delete: true}
	default:
		if p == m.Mailbox || strings.ContainsAny(p, "\r\n\"*%") {
			return nil, fmt.Errorf("%w: processed=%q is not a folder to move processed messages to", ErrBadURL, p)
		}
		m.Processed = Processed{Folder: p}
	}
	for k := range q {
		if k != "processed" && k != "plaintext" {
			return nil, fmt.Errorf("%w: unknown option %q (want processed or plaintext)", ErrBadURL, k)
		}
	}
	m.Addr = net.JoinHostPort(m.Host, port)
	return m, nil
}

func loopback(host string) bool {
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
