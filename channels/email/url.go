package email

import (
	"errors"
	"fmt"
	"net"
	"net/url"
	"strconv"
	"strings"

	"github.com/wneessen/go-mail"
)

// ErrInvalidURL is returned (wrapped) by ParseURL and New for an SMTP URL
// they cannot use.
var ErrInvalidURL = errors.New("invalid SMTP URL")

// TLSMode says how a connection to the SMTP server is encrypted.
type TLSMode string

// The TLS modes.
const (
	// TLSOpportunistic uses STARTTLS when the server offers it (smtp://, the default).
	TLSOpportunistic TLSMode = "opportunistic"
	// TLSStartTLS requires STARTTLS (smtp://...?tls=starttls).
	TLSStartTLS TLSMode = "starttls"
	// TLSImplicit speaks TLS from the first byte (smtps://).
	TLSImplicit TLSMode = "implicit"
	// TLSNone never encrypts (smtp://...?tls=none).
	TLSNone TLSMode = "none"
)

// Default ports when the URL has none.
const (
	DefaultPort    = 587 // smtp:// (submission)
	DefaultTLSPort = 465 // smtps://
)

// Endpoint is an SMTP server and how to talk to it, parsed from a URL.
type Endpoint struct {
	Host     string
	Port     int
	TLS      TLSMode
	Username string
	Password string
	// Auth is the SASL mechanism; empty without credentials, AUTODISCOVER
	// (the strongest the server offers) when the URL names none.
	Auth mail.SMTPAuthType
	// Insecure skips certificate verification (tests only).
	Insecure bool
	// HELO is the name the client greets with; empty means the local host name.
	HELO string
}

var authTypes = map[string]mail.SMTPAuthType{
	"auto":          mail.SMTPAuthAutoDiscover,
	"plain":         mail.SMTPAuthPlain,
	"login":         mail.SMTPAuthLogin,
	"cram-md5":      mail.SMTPAuthCramMD5,
	"scram-sha-1":   mail.SMTPAuthSCRAMSHA1,
	"scram-sha-256": mail.SMTPAuthSCRAMSHA256,
	"xoauth2":       mail.SMTPAuthXOAUTH2,
}

// ParseURL parses an SMTP URL:
//
//	smtp://[user:pass@]host[:port][?tls=opportunistic|starttls|none]
//	smtps://[user:pass@]host[:port]
//
// with the optional query parameters auth=auto|plain|login|cram-md5|
// scram-sha-1|scram-sha-256|xoauth2, insecure=1 (skip certificate checks) and
// helo=NAME. User and password are percent-decoded. The port defaults to 587
// for smtp and 465 for smtps. It returns an error wrapping ErrInvalidURL,
// which never contains the password, for a bad scheme, host, port or parameter.
func ParseURL(raw string) (Endpoint, error) {
	var e Endpoint
	u, err := url.Parse(raw)
	if err != nil {
		var uerr *url.Error
		if errors.As(err, &uerr) {
			err = uerr.Err // url.Error repeats the URL, password included
		}
		return e, fmt.Errorf("%w: %v", ErrInvalidURL, err)
	}
	switch strings.ToLower(u.Scheme) {
	case "smtp":
		e.TLS, e.Port = TLSOpportunistic, DefaultPort
	case "smtps":
		e.TLS, e.Port = TLSImplicit, DefaultTLSPort
	case "":
		return e, fmt.Errorf("%w: missing scheme (want smtp:// or smtps://)", ErrInvalidURL)
	default:
		return e, fmt.Errorf("%w: scheme %q (want smtp or smtps)", ErrInvalidURL, u.Scheme)
	}
	if u.Opaque != "" || (u.Path != "" && u.Path != "/") || u.Fragment != "" {
		return e, fmt.Errorf("%w: unexpected path (want scheme://host:port)", ErrInvalidURL)
	}
	e.Host = u.Hostname()
	if e.Host == "" {
		return e, fmt.Errorf("%w: missing host", ErrInvalidURL)
	}
	if strings.ContainsAny(e.Host, " \t\r\n/\\") {
		return e, fmt.Errorf("%w: host %q", ErrInvalidURL, e.Host)
	}
	if p := u.Port(); p != "" {
		n, err := strconv.Atoi(p)
		if err != nil || n < 1 || n > 65535 {
			return e, fmt.Errorf("%w: port %q (want 1-65535)", ErrInvalidURL, p)
		}
		e.Port = n
	} else if strings.HasSuffix(u.Host, ":") {
		return e, fmt.Errorf("%w: empty port", ErrInvalidURL)
	}
	if u.User != nil {
		e.Username = u.User.Username()
		e.Password, _ = u.User.Password()
		if e.Username == "" {
			return e, fmt.Errorf("%w: empty user name", ErrInvalidURL)
		}
		e.Auth = mail.SMTPAuthAutoDiscover
	}
	if err := e.parseQuery(u.Query()); err != nil {
		return Endpoint{}, err
	}
	return e, nil
}

func (e *Endpoint) parseQuery(q url.Values) error {
	for key, vals := range q {
		if len(vals) != 1 {
			return fmt.Errorf("%w: parameter %q given %d times", ErrInvalidURL, key, len(vals))
		}
		v := vals[0]
		switch key {
		case "tls":
			mode := TLSMode(strings.ToLower(v))
			if e.TLS == TLSImplicit {
				if mode != TLSImplicit {
					return fmt.Errorf("%w: tls=%s does not apply to smtps (implicit TLS)", ErrInvalidURL, v)
				}
				continue
			}
			switch mode {
			case TLSOpportunistic, TLSStartTLS, TLSNone:
				e.TLS = mode
			default:
				return fmt.Errorf("%w: tls=%q (want opportunistic, starttls or none)", ErrInvalidURL, v)
			}
		case "auth":
			a, ok := authTypes[strings.ToLower(v)]
			if !ok {
				return fmt.Errorf("%w: auth=%q (want auto, plain, login, cram-md5, scram-sha-1, scram-sha-256 or xoauth2)", ErrInvalidURL, v)
			}
			if e.Username == "" {
				return fmt.Errorf("%w: auth=%s without user name and password", ErrInvalidURL, v)
			}
			e.Auth = a
		case "insecure":
			b, err := strconv.ParseBool(v)
			if err != nil {
				return fmt.Errorf("%w: insecure=%q (want 1 or 0)", ErrInvalidURL, v)
			}
			e.Insecure = b
		case "helo":
			if v == "" || strings.ContainsAny(v, " \t\r\n") {
				return fmt.Errorf("%w: helo=%q", ErrInvalidURL, v)
			}
			e.HELO = v
		default:
			return fmt.Errorf("%w: unknown parameter %q", ErrInvalidURL, key)
		}
	}
	return nil
}

// Addr returns host:port.
func (e Endpoint) Addr() string { return net.JoinHostPort(e.Host, strconv.Itoa(e.Port)) }

// String returns the endpoint as a URL with the password left out, for logs.
func (e Endpoint) String() string {
	u := url.URL{Scheme: "smtp", Host: e.Addr()}
	if e.TLS == TLSImplicit {
		u.Scheme = "smtps"
	}
	if e.Username != "" {
		u.User = url.User(e.Username)
	}
	q := url.Values{}
	if e.TLS == TLSStartTLS || e.TLS == TLSNone {
		q.Set("tls", string(e.TLS))
	}
	if e.Insecure {
		q.Set("insecure", "1")
	}
	u.RawQuery = q.Encode()
	return u.String()
}
